// The fallback from an in-place upgrade to replacement (`rollout.strategy.inPlace.onFailure:
// Replace`): when a step of a Machine's in-place upgrade fails on its node — its Talos API answered
// the step with an error: an image it cannot pull, an installer that fails, a config it refuses —
// the Machine is marked with the change, the step and the error, and that change is then rolled by
// replacement (a new Machine, then the old one through scale-down). A call that did not reach the
// node or got no answer in time, and a failed write to the management cluster, are not the node's
// failure: they stop the rollout and are retried, as every failure is under Stop (the default). The
// mark counts only for the change it failed at (that Kubernetes version, that installer image), so a
// Machine upgraded in place after all, or whose spec moved on, is not replaced for an old failure. Pure.
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Machine } from '../api/capi/v1beta2/types';
import { replacesAfterInPlaceFailure } from '../api/controlplane/spec';
import type { TalosControlPlane } from '../api/controlplane/v1beta1/types';
import { TalosApiError } from '../talos/api';
import { errorMessage } from '../util/errors';
import { isObject } from '../util/json';
import type { OutdatedReason } from './rollout';

/** On a Machine whose in-place upgrade failed on its node under onFailure Replace: the change, the step and the error, as JSON. */
export const IN_PLACE_FAILED_ANNOTATION = 'controlplane.cluster.x-k8s.io/in-place-failed';

/** The change an in-place step was making: a Kubernetes version or a Talos installer image. */
export type InPlaceChange = { version: string } | { installer: string };

export type InPlaceFailure = InPlaceChange & {
  step: string;
  /** What the node answered. */
  error: string;
};

/** The failed call did not reach the node or got no answer in time: the node said nothing about the step. */
const NOT_ANSWERED: ReadonlySet<GrpcStatus> = new Set([GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED, GrpcStatus.CANCELLED]);

/** Enough of what the node said to tell why; an installer's last output can be long. */
const MAX_ERROR_LENGTH = 512;

/** How a step failed: `cause` as thrown, `fromTalosCall` when a call to the node's Talos API threw it. */
export interface StepFailure {
  cause: unknown;
  fromTalosCall: boolean;
}

/**
 * The mark a failed step leaves on its Machine: when onFailure is Replace (under InPlace) and the
 * node answered the step with a failure; undefined when the rollout stops and retries instead.
 */
export function fallbackMark(tcp: Pick<TalosControlPlane, 'spec'>, action: InPlaceChange & { step: string }, failure: StepFailure): InPlaceFailure | undefined {
  if (!replacesAfterInPlaceFailure(tcp) || !failure.fromTalosCall) return undefined;
  if (failure.cause instanceof TalosApiError && NOT_ANSWERED.has(failure.cause.code)) return undefined;
  const change: InPlaceChange = 'installer' in action ? { installer: action.installer } : { version: action.version };
  return { ...change, step: action.step, error: errorMessage(failure.cause).slice(0, MAX_ERROR_LENGTH) };
}

export function inPlaceFailureAnnotation(failure: InPlaceFailure): string {
  const change = 'installer' in failure ? { installer: failure.installer } : { version: failure.version };
  return JSON.stringify({ ...change, step: failure.step, error: failure.error });
}

/** The failure the Machine is marked with; undefined when none, or not one this code wrote. */
export function inPlaceFailureOf(machine: Machine): InPlaceFailure | undefined {
  const text = machine.metadata.annotations?.[IN_PLACE_FAILED_ANNOTATION];
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (!isObject(value) || typeof value.step !== 'string' || typeof value.error !== 'string') return undefined;
    const { step, error } = value;
    if (typeof value.version === 'string') return { version: value.version, step, error };
    if (typeof value.installer === 'string') return { installer: value.installer, step, error };
  } catch {
    // written by hand: no mark
  }
  return undefined;
}

/**
 * The failure that has `machine` replaced instead of upgraded in place: onFailure is Replace and the
 * Machine still needs the change it is marked as having failed at (`reasons`, `wantedVersion`: why
 * it is outdated, the spec's Kubernetes version); undefined otherwise.
 */
export function replacingFailure(tcp: Pick<TalosControlPlane, 'spec'>, machine: Machine, reasons: readonly OutdatedReason[], wantedVersion: string): InPlaceFailure | undefined {
  const failure = replacesAfterInPlaceFailure(tcp) ? inPlaceFailureOf(machine) : undefined;
  if (!failure) return undefined;
  const stillWanted = 'version' in failure
    ? failure.version === wantedVersion && reasons.some((reason) => reason.kind === 'version')
    : reasons.some((reason) => reason.kind === 'talos' && reason.installer === failure.installer);
  return stillWanted ? failure : undefined;
}
