// Plain JSON values as they come from the API (JSON.parse): comparisons, copies, freezing.
// The bottom layer: imports nothing of ours.

/** A non-null, non-array object. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Freezes `value` and everything it holds, in place, and returns it. Cached API objects are shared
 * by every reader; a frozen one throws on the first write instead of silently changing the cache.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
  return value;
}
