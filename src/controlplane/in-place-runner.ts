// Runs the in-place step the planner chose (in-place.ts) for one node and tells the pass what
// came of it: an Event per step done (`InPlaceUpgradeStep`, `MachineUpgradedInPlace` for the
// last), what the rollout waits for, and a look again soon while a node is on its way back; a
// failed step is a Warning naming it and the pass fails — unless the control plane falls back to
// replacement (in-place-fallback.ts), when the Machine is marked so that the next pass replaces it.
import type { KubeClient } from '../kube/client/client';
import type { ReconcileContext, ReconcileResult } from '../kube/controller/reconciler';
import type { EventRecorder } from '../kube/patch/events';
import { MachineKind } from '../api/capi/v1beta2/resources';
import { errorMessage } from '../util/errors';
import type { ControlPlane } from './control-plane';
import { inPlaceTargetOf, type InPlaceAction, type TalosUpgradeAction } from './in-place';
import { fallbackMark, IN_PLACE_FAILED_ANNOTATION, inPlaceFailureAnnotation, type InPlaceFailure } from './in-place-fallback';
import { InPlaceStepFailed, kubernetesStep, runInPlaceStep, type InPlaceStepOutcome } from './in-place-upgrade';
import type { TalosAt } from './scale-down';
import type { StatusFacts } from './status';
import { talosStep } from './talos-upgrade';

/** How soon an in-place step that waits for its node (rebooting, draining, its static pods) is tried again. */
const IN_PLACE_POLL_MS = 2_000;

export interface InPlaceRunnerDeps {
  client: KubeClient;
  recorder: EventRecorder;
  talosAt: TalosAt;
  /** The workload cluster's client, once its kubeconfig is known (a Talos upgrade drains through it). */
  workload: KubeClient | undefined;
}

type AnyAction = InPlaceAction | TalosUpgradeAction;

/** One step of a node's in-place upgrade (see in-place-upgrade.ts, talos-upgrade.ts). */
export async function upgradeInPlace(deps: InPlaceRunnerDeps, view: ControlPlane, action: AnyAction, facts: StatusFacts, ctx: ReconcileContext): Promise<ReconcileResult | undefined> {
  const name = action.machine.metadata.name ?? '';
  const input = { client: deps.client, address: view.talosAddress(action.machine), signal: ctx.signal, talosAt: deps.talosAt };
  let outcome: InPlaceStepOutcome;
  try {
    outcome = action.action === 'upgradeTalos'
      ? await runInPlaceStep({ ...input, action, workload: deps.workload, nodeName: view.nodeName(action.machine), soleMember: view.activeMachines.size === 1 }, talosStep)
      : await runInPlaceStep({ ...input, action, staticPodOf: (component) => view.staticPodOf(action.machine, component) }, kubernetesStep);
  } catch (error) {
    const mark = error instanceof InPlaceStepFailed ? fallbackMark(view.tcp, action, { cause: error.cause, fromTalosCall: error.fromTalosCall }) : undefined;
    if (mark) return fallBackToReplacement(deps, view, action, mark, facts, ctx);
    if (!ctx.signal.aborted) deps.recorder.event(view.tcp, 'Warning', 'InPlaceUpgradeFailed', errorMessage(error));
    throw error;
  }
  if (!outcome.done) {
    facts.waiting = 'waiting' in outcome ? outcome.waiting : `Waiting for the cache to see the change to Machine ${name}`;
    // Nothing in Kubernetes says when a rebooted node answers at its new version: look again soon.
    return 'waiting' in outcome ? { requeueAfter: IN_PLACE_POLL_MS } : undefined;
  }
  const finished = action.step === 'finish';
  deps.recorder.event(view.tcp, 'Normal', finished ? 'MachineUpgradedInPlace' : 'InPlaceUpgradeStep', outcome.note);
  ctx.log.info({ machine: name, step: action.step, target: inPlaceTargetOf(action) }, 'in-place upgrade step');
  facts.waiting = `Upgrading Machine ${name} to ${inPlaceTargetOf(action)} in place: ${outcome.note}`;
  return undefined;
}

/**
 * onFailure Replace: the Machine whose in-place step failed on its node is marked (see
 * in-place-fallback.ts), so that the next pass rolls its change by replacement.
 */
async function fallBackToReplacement(deps: InPlaceRunnerDeps, view: ControlPlane, action: AnyAction, mark: InPlaceFailure, facts: StatusFacts, ctx: ReconcileContext): Promise<undefined> {
  const name = action.machine.metadata.name ?? '';
  await deps.client.patch(MachineKind, view.namespace, name, { metadata: { annotations: { [IN_PLACE_FAILED_ANNOTATION]: inPlaceFailureAnnotation(mark) } } }, 'merge', { signal: ctx.signal });
  const message = `In-place upgrade of Machine ${name} to ${inPlaceTargetOf(action)} failed at step ${mark.step}: ${mark.error}; rollout.strategy.inPlace.onFailure is Replace: the Machine is replaced instead`;
  deps.recorder.event(view.tcp, 'Warning', 'InPlaceUpgradeFallback', message);
  ctx.log.warn({ machine: name, step: mark.step, err: mark.error }, 'in-place upgrade failed on the node: the Machine is replaced instead');
  facts.waiting = message;
  return undefined;
}
