// Typed errors of the machine API client. Every failure carries the gRPC code
// so callers decide by code (ALREADY_EXISTS after Bootstrap means "already
// bootstrapped"), never by parsing messages.
import { status as GrpcStatus } from '@grpc/grpc-js';

/** Bad client input: an unusable talosconfig, endpoint, certificate or argument. Never retried. */
export class TalosClientConfigError extends Error {
  override readonly name = 'TalosClientConfigError';
}

export interface TalosApiErrorContext {
  /** RPC name, e.g. "Bootstrap". */
  method: string;
  /** The endpoint (host:port) the call went to, when known. */
  endpoint?: string;
  /** The node the failure belongs to (node targeting or a per-node reply). */
  node?: string;
}

/** A failed call, or one node's failure inside a multi-node reply. */
export class TalosApiError extends Error {
  override readonly name = 'TalosApiError';
  readonly codeName: string;
  readonly method: string;
  readonly endpoint?: string;
  readonly node?: string;

  constructor(
    readonly code: GrpcStatus,
    /** The server's (or transport's) message, without our prefix. */
    readonly details: string,
    context: TalosApiErrorContext,
  ) {
    const where = context.node ?? context.endpoint;
    super(`${context.method}${where ? ` on ${where}` : ''}: ${grpcCodeName(code)}: ${details}`);
    this.codeName = grpcCodeName(code);
    this.method = context.method;
    if (context.endpoint !== undefined) this.endpoint = context.endpoint;
    if (context.node !== undefined) this.node = context.node;
  }
}

/** Several nodes of one multi-node reply failed; each failure is kept. */
export class TalosMultiNodeError extends Error {
  override readonly name = 'TalosMultiNodeError';
  constructor(readonly failures: readonly TalosApiError[]) {
    super(`${failures.length} node(s) failed: ${failures.map((f) => f.message).join('; ')}`);
  }
}

export function grpcCodeName(code: number): string {
  return GrpcStatus[code] ?? `CODE_${code}`;
}

function isGrpcServiceErrorLike(err: unknown): err is { code: number; details?: string; message: string } {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'number' && err instanceof Error;
}

/** Any failure of a call as a TalosApiError (gRPC errors keep their code; anything else is UNKNOWN). */
export function toTalosApiError(err: unknown, context: TalosApiErrorContext): TalosApiError {
  if (err instanceof TalosApiError) return err;
  if (isGrpcServiceErrorLike(err)) return new TalosApiError(err.code, err.details ?? err.message, context);
  return new TalosApiError(GrpcStatus.UNKNOWN, err instanceof Error ? err.message : String(err), context);
}
