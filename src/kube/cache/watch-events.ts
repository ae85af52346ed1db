// Decodes a watch response body (one JSON event per line) into typed events.
import { isObject } from '../../util/json';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  object: Record<string, unknown>;
}

const EVENT_TYPES = new Set<string>(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

/** Parses one line; undefined for blank or malformed lines (skipped, never fatal). */
export function parseWatchLine(line: string): WatchEvent | undefined {
  const trimmed = line.trim();
  if (!trimmed) return undefined;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (!isObject(parsed) || typeof parsed.type !== 'string' || !EVENT_TYPES.has(parsed.type)) return undefined;
    if (!isObject(parsed.object)) return undefined;
    return { type: parsed.type as WatchEventType, object: parsed.object };
  } catch {
    return undefined;
  }
}

/**
 * Yields events until the stream ends. Aborting `signal` cancels the reader, which ends the
 * iteration even if the underlying transport does not error the stream itself.
 */
export async function* readWatchEvents(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<WatchEvent> {
  const reader = body.getReader();
  const cancel = () => void reader.cancel().catch(() => undefined);
  if (signal?.aborted) cancel();
  signal?.addEventListener('abort', cancel, { once: true });
  const decoder = new TextDecoder();
  let buffered = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || signal?.aborted) break;
      buffered += decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const event = parseWatchLine(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        if (event) yield event;
      }
    }
    if (!signal?.aborted) {
      const last = parseWatchLine(buffered + decoder.decode());
      if (last) yield last;
    }
  } finally {
    signal?.removeEventListener('abort', cancel);
    reader.releaseLock();
  }
}

/** The HTTP-like code carried by an ERROR event's Status object (410 = resourceVersion too old). */
export function statusCodeOf(object: Record<string, unknown>): number {
  return typeof object.code === 'number' ? object.code : 500;
}
