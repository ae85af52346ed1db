// Decodes a watch response body (one JSON event per line) into typed events.
import { isObject } from './object';

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

export async function* readWatchEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<WatchEvent> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const event = parseWatchLine(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      if (event) yield event;
    }
  }
  const last = parseWatchLine(buffered + decoder.decode());
  if (last) yield last;
}

/** The HTTP-like code carried by an ERROR event's Status object (410 = resourceVersion too old). */
export function statusCodeOf(object: Record<string, unknown>): number {
  return typeof object.code === 'number' ? object.code : 500;
}
