// Replies split per node. A multi-node call succeeds as a whole even when some
// nodes failed: apid reports those inside the reply (metadata.error/status).
// They become failed NodeResults here so no node's answer or error is dropped
// (Talos's Go client drops such messages and only aggregates their errors).
import { status as GrpcStatus } from '@grpc/grpc-js';
import { TalosApiError, TalosMultiNodeError } from './errors';
import type { WireReplyMessage } from './wire';

export type NodeResult<T> = { node: string; ok: true; value: T } | { node: string; ok: false; error: TalosApiError };

export interface ReplyContext {
  method: string;
  /** Name used when a message has no metadata.hostname (single node or no target). */
  fallbackNode: string;
  endpoint?: string;
}

export function replyNode(message: WireReplyMessage, fallbackNode: string): string {
  const hostname = message.metadata?.hostname;
  return hostname ? hostname : fallbackNode;
}

/** The per-node error a reply message reports, if any. */
export function messageError(message: WireReplyMessage, context: ReplyContext): TalosApiError | undefined {
  const metadata = message.metadata;
  if (!metadata || (!metadata.error && !metadata.status)) return undefined;
  const status = metadata.status;
  // A status with code OK and no error text is not a failure.
  if (!metadata.error && (!status || status.code === GrpcStatus.OK)) return undefined;
  const code = status && status.code !== GrpcStatus.OK ? (status.code as GrpcStatus) : GrpcStatus.UNKNOWN;
  return new TalosApiError(code, metadata.error || status?.message || 'node reported an error', {
    method: context.method,
    node: replyNode(message, context.fallbackNode),
    ...(context.endpoint ? { endpoint: context.endpoint } : {}),
  });
}

export function toNodeResult<M extends WireReplyMessage, T>(
  message: M,
  context: ReplyContext,
  convert: (message: M) => T,
): NodeResult<T> {
  const node = replyNode(message, context.fallbackNode);
  const error = messageError(message, context);
  return error ? { node, ok: false, error } : { node, ok: true, value: convert(message) };
}

export function splitReplies<M extends WireReplyMessage, T>(
  messages: readonly M[],
  context: ReplyContext,
  convert: (message: M) => T,
): NodeResult<T>[] {
  return messages.map((message) => toNodeResult(message, context, convert));
}

export function failures<T>(results: readonly NodeResult<T>[]): TalosApiError[] {
  return results.flatMap((r) => (r.ok ? [] : [r.error]));
}

/** All values, or the failure(s): one failed node throws its TalosApiError, several a TalosMultiNodeError. */
export function unwrapAll<T>(results: readonly NodeResult<T>[]): T[] {
  const failed = failures(results);
  if (failed.length === 1) throw failed[0];
  if (failed.length > 1) throw new TalosMultiNodeError(failed);
  return results.map((r) => (r as { value: T }).value);
}

/** The value of a call that targeted one node (or none): exactly one reply expected. */
export function unwrapSingle<T>(results: readonly NodeResult<T>[], method: string): T {
  if (results.length !== 1) {
    throw new TalosApiError(GrpcStatus.INTERNAL, `expected one reply, got ${results.length}`, { method });
  }
  return unwrapAll(results)[0] as T;
}
