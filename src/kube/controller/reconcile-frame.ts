// The frame every reconciler of ours runs its story in, as Cluster API's controllers do: snapshot the
// working copy in a patch helper → run the story → a failure becomes the story's conditions and
// Events (it decides whether to retry) → always, unless deleting, summary conditions and (after a
// success of a pass that acted on the spec) observedGeneration → one patch of whatever changed, also when the story failed half-way.
// Once the reconcile's signal is aborted (shutdown, lease lost) nothing more is written.
import type { KubeClient } from '../client/client';
import type { ResourceKind } from '../client/resource';
import type { KubeObject } from '../meta/object';
import { PatchHelper } from '../patch/patch-helper';
import { errorMessage } from '../../util/errors';
import type { ReconcileContext, ReconcileResult } from './reconciler';

/** Any object with a status that records the generation it last reconciled. */
export interface StatusObject extends KubeObject {
  status?: { observedGeneration?: number };
}

/** What the story made of its own failure: retry with backoff (the error is rethrown), or settle. */
export type FailureOutcome = { retry: true } | { retry: false; result?: ReconcileResult };

export interface ReconcileStory {
  run(): Promise<ReconcileResult | void>;
  /** The failure as conditions and Events on the working copy; the default retries. */
  failed?(error: unknown): FailureOutcome;
  /** Summary conditions from what the pass left, run before the patch unless the object is deleting. */
  summarize?(): void;
  /** The pass leaves the spec alone (paused): observedGeneration stays where it was. */
  ignoresSpec?: boolean;
}

export interface Frame<T extends StatusObject> {
  client: KubeClient;
  kind: ResourceKind;
  /** The working copy the story changes (never the cached object). */
  obj: T;
  ctx: ReconcileContext;
  ownedConditions: readonly string[];
  /** The part of the object the patch helper compares and sends (default: all of it). */
  written?: (obj: T) => T;
  /** The object as the server returned it, when a patch was sent. */
  onPatched?: (written: T) => void;
}

export async function reconcileInFrame<T extends StatusObject>(frame: Frame<T>, story: ReconcileStory): Promise<ReconcileResult | void> {
  const { obj, ctx } = frame;
  const written = frame.written ?? ((o: T) => o);
  const helper = new PatchHelper<T>(frame.client, frame.kind, written(obj));
  let result: ReconcileResult | void = undefined;
  let failure: unknown;
  let failed = false;
  try {
    result = await story.run();
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    const outcome = story.failed ? story.failed(error) : { retry: true as const };
    if (outcome.retry) {
      failed = true;
      failure = error;
    } else result = outcome.result;
  }
  if (!obj.metadata.deletionTimestamp) {
    story.summarize?.();
    if (!failed && !story.ignoresSpec) {
      obj.status ??= {};
      obj.status.observedGeneration = obj.metadata.generation;
    }
  }
  try {
    const patched = await helper.patch(written(obj), { ownedConditions: frame.ownedConditions, signal: ctx.signal });
    if (patched) frame.onPatched?.(patched);
  } catch (patchError) {
    if (!failed) throw patchError;
    // The story's error is the one to report; a failed patch after it is only logged.
    ctx.log.error({ err: errorMessage(patchError) }, 'status patch failed after a reconcile error');
  }
  if (failed) throw failure;
  return result;
}
