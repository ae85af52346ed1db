// Pure part of the patch helper: JSON merge-patch diffs and condition-list changes.
import { deepCopy, deepEqual, isObject } from '../../util/json';
import type { KubeObject } from '../meta/object';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
type Path = readonly string[];

/** Where condition lists live; each is merged by condition type rather than replaced. */
export const DEFAULT_CONDITION_PATHS: readonly Path[] = [
  ['status', 'conditions'],
  ['status', 'v1beta2', 'conditions'],
  ['status', 'deprecated', 'v1beta1', 'conditions'],
];

// Server-managed metadata that a client never patches.
const IGNORED_METADATA = ['resourceVersion', 'managedFields', 'generation', 'uid', 'creationTimestamp', 'selfLink'];

/**
 * RFC 7386 merge patch turning `before` into `after`; undefined when they are equal.
 * Removed keys become null; arrays and scalars are replaced whole.
 */
export function mergePatch(before: unknown, after: unknown): JsonValue | undefined {
  if (deepEqual(before, after)) return undefined;
  if (!isObject(before) || !isObject(after)) return (after === undefined ? null : deepCopy(after)) as JsonValue;
  const patch: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(after)) {
    if (value === undefined) continue;
    const sub = mergePatch(before[key], value);
    if (sub !== undefined) patch[key] = sub;
  }
  for (const key of Object.keys(before)) {
    if (before[key] !== undefined && after[key] === undefined) patch[key] = null;
  }
  return Object.keys(patch).length ? patch : undefined;
}

export function getPath(obj: unknown, path: Path): unknown {
  let current = obj;
  for (const part of path) {
    if (!isObject(current)) return undefined;
    current = current[part];
  }
  return current;
}

/** Sets (creating intermediate objects) or, with value undefined, deletes. Mutates `obj`. */
export function setPath(obj: Record<string, unknown>, path: Path, value: unknown): void {
  let current = obj;
  for (const part of path.slice(0, -1)) {
    if (!isObject(current[part])) {
      if (value === undefined) return;
      current[part] = {};
    }
    current = current[part] as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  if (value === undefined) delete current[last];
  else current[last] = value;
}

export interface TypedCondition {
  type: string;
  [field: string]: unknown;
}

export interface ConditionChanges {
  /** Conditions this writer added or changed, by type. */
  set: Map<string, TypedCondition>;
  /** Types this writer removed. */
  removed: Set<string>;
}

function conditionList(value: unknown): TypedCondition[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.filter((c): c is TypedCondition => isObject(c) && typeof c.type === 'string');
}

export function diffConditions(before: unknown, after: unknown): ConditionChanges {
  const beforeList = conditionList(before) ?? [];
  const afterList = conditionList(after) ?? [];
  const beforeByType = new Map(beforeList.map((c) => [c.type, c]));
  const afterTypes = new Set(afterList.map((c) => c.type));
  const set = new Map<string, TypedCondition>();
  for (const condition of afterList) {
    if (!deepEqual(beforeByType.get(condition.type), condition)) set.set(condition.type, condition);
  }
  const removed = new Set(beforeList.map((c) => c.type).filter((type) => !afterTypes.has(type)));
  return { set, removed };
}

export function hasConditionChanges(changes: ConditionChanges): boolean {
  return changes.set.size > 0 || changes.removed.size > 0;
}

/**
 * Applies this writer's changes onto the latest list from the server: types it changed or removed
 * take its version; every other condition (other writers') is kept as the server has it.
 * `owned` types are forced to this writer's version from `desired`, even if it did not change them.
 */
export function mergeConditions(
  latest: unknown, changes: ConditionChanges, desired: unknown, owned: readonly string[] = [],
): TypedCondition[] {
  const desiredByType = new Map((conditionList(desired) ?? []).map((c) => [c.type, c]));
  const result: TypedCondition[] = [];
  const placed = new Set<string>();
  for (const condition of conditionList(latest) ?? []) {
    const type = condition.type;
    placed.add(type);
    if (changes.removed.has(type)) continue;
    if (owned.includes(type) && !desiredByType.has(type)) continue;
    const mine = changes.set.get(type) ?? (owned.includes(type) ? desiredByType.get(type) : undefined);
    result.push(deepCopy(mine ?? condition));
  }
  for (const [type, condition] of changes.set) if (!placed.has(type)) result.push(deepCopy(condition));
  for (const type of owned) {
    const condition = desiredByType.get(type);
    if (condition && !placed.has(type) && !changes.set.has(type)) result.push(deepCopy(condition));
  }
  return result;
}

export interface PatchPlan {
  /** Merge patch of everything but status (metadata, spec, data…); undefined if unchanged. */
  main?: Record<string, JsonValue>;
  /** Merge patch of status without the condition lists; undefined if unchanged. */
  status?: Record<string, JsonValue>;
  /** Condition changes per condition path (only paths with changes). */
  conditions: Array<{ path: Path; changes: ConditionChanges }>;
  /** Finalizer edits race with other writers: the main patch then carries a resourceVersion precondition. */
  finalizersChanged: boolean;
}

export function planPatch(
  before: KubeObject, after: KubeObject, conditionPaths: readonly Path[] = DEFAULT_CONDITION_PATHS,
): PatchPlan {
  const b = splitForPatch(before, conditionPaths);
  const a = splitForPatch(after, conditionPaths);
  const main = mergePatch(b.main, a.main) as Record<string, JsonValue> | undefined;
  const status = mergePatch(b.status, a.status) as Record<string, JsonValue> | undefined;
  const conditions = conditionPaths
    .map((path) => ({ path, changes: diffConditions(getPath(before, path), getPath(after, path)) }))
    .filter(({ changes }) => hasConditionChanges(changes));
  const finalizersChanged = !deepEqual(before.metadata.finalizers ?? [], after.metadata.finalizers ?? []);
  return { main, status, conditions, finalizersChanged };
}

// Condition lists are left out of both halves: they are merged by type, not diffed as values.
function splitForPatch(obj: KubeObject, conditionPaths: readonly Path[]) {
  const copy = deepCopy(obj) as unknown as Record<string, unknown>;
  for (const field of IGNORED_METADATA) setPath(copy, ['metadata', field], undefined);
  for (const path of conditionPaths) setPath(copy, path, undefined);
  const status = isObject(copy.status) ? copy.status : {};
  delete copy.status;
  return { main: copy, status };
}

export function isEmptyPlan(plan: PatchPlan): boolean {
  return !plan.main && !plan.status && plan.conditions.length === 0;
}
