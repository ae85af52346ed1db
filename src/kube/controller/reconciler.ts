// The reconciler contract: level-triggered, keyed by namespace/name.
import type { Logger } from '../log/logger';
import type { ObjectKey } from '../meta/object';

export interface ReconcileResult {
  /** Reconcile this key again after this many milliseconds (backoff is reset). */
  requeueAfter?: number;
  /** Reconcile again with per-item backoff, without counting as an error. */
  requeue?: boolean;
}

export interface ReconcileContext {
  /** Child logger carrying controller, kind, namespace and name. */
  log: Logger;
  /** Aborted when the manager shuts down or loses leadership and in-flight work must wrap up. */
  signal: AbortSignal;
  controller: string;
}

export interface Reconciler {
  reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<ReconcileResult | void>;
  /**
   * The controller starts (on the leader only): a moment to get ready, ahead of the first object,
   * what reconciles will need. Must not block: it runs before the workers take keys.
   */
  started?(): void;
}

/** An error retrying cannot fix (bad input): logged and counted, but not requeued. */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
