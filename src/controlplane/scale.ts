// What the control plane does next, decided from the view and what Talos said of etcd: create the
// first Machine, bootstrap etcd on it, add Machines one at a time (each once the previous one runs
// a healthy etcd member or has its Node), remove one (scale down, or the outdated half of a rolling
// update step), a step of an in-place upgrade (see in-place.ts), or nothing. One change at a time:
// nothing starts while a Machine is joining or being deleted, and a node upgraded in place is
// finished before anything else. Each waiting step says what it waits for, in words for a condition.
import type { Machine } from '../api/capi/v1beta2/types';
import { createsBeforeRemoving } from '../api/controlplane/spec';
import { type ControlPlane, hasNode } from './control-plane';
import { machineToRemove } from './rollout';
import { machineToUpgradeInPlace, nextInPlaceStep, type InPlaceAction, type TalosUpgradeAction } from './in-place';
import { progressOf } from './in-place-progress';
import { preflightBlock } from './preflight';
import type { NodeServicesByMachine } from './service-watch';

export type ChangeReason = 'scale' | 'rollout';

export type NextStep =
  | { action: 'createMachine'; first: boolean; reason: ChangeReason }
  | { action: 'bootstrapEtcd'; machine: Machine; address: string }
  | { action: 'removeMachine'; machine: Machine; reason: ChangeReason }
  | InPlaceAction
  | TalosUpgradeAction
  | { action: 'wait'; message: string }
  | { action: 'none' };

/** Machines still joining: no Node yet and no healthy etcd member seen on them. */
export function joiningMachines(view: ControlPlane, etcdHealthyOn: ReadonlySet<string>): Machine[] {
  return view.activeMachines.sortedByCreation().filter((m) => !hasNode(m) && !etcdHealthyOn.has(m.metadata.name ?? ''));
}

/**
 * How many Machines above the wanted count a rolling update step may reach: the strategy's surge,
 * but always 1 for a single replica, whose only etcd member is never removed before its
 * replacement joined (maxSurge 0 there would take the cluster down).
 */
export function rolloutCeiling(view: ControlPlane): number {
  const surge = createsBeforeRemoving(view.tcp.spec) || view.desiredReplicas <= 1 ? 1 : 0;
  return view.desiredReplicas + surge;
}

/** The change, unless a preflight check blocks it (then a wait saying which). */
function unlessBlocked(block: string | undefined, step: NextStep): NextStep {
  return block ? { action: 'wait', message: block } : step;
}

/**
 * `nodeServices` (what each Machine's Events stream said) turns on the preflight checks before
 * each change after the first Machine (see preflight.ts).
 */
export function nextStep(view: ControlPlane, etcdHealthyOn: ReadonlySet<string> = new Set(), nodeServices?: NodeServicesByMachine): NextStep {
  const active = view.activeMachines;
  const desired = view.desiredReplicas;
  if (active.size === 0 && !view.deletingMachine()) return desired > 0 ? { action: 'createMachine', first: !view.etcdBootstrapped, reason: 'scale' } : { action: 'none' };
  if (!view.etcdBootstrapped) {
    const first = view.firstMachine();
    if (!first) return { action: 'wait', message: 'Waiting for the deleted Machines to be gone before creating the first one' };
    const address = view.talosAddress(first);
    if (!address) return { action: 'wait', message: `Waiting for Machine ${first.metadata.name} to report an address to bootstrap etcd on` };
    return { action: 'bootstrapEtcd', machine: first, address };
  }
  const deleting = view.deletingMachine();
  if (deleting) return { action: 'wait', message: `Waiting for Machine ${deleting.metadata.name} to be deleted before the next change` };
  const joining = joiningMachines(view, etcdHealthyOn)[0];
  const outdated = view.machinesToReplace();
  const inPlace = machineToUpgradeInPlace(view);
  const wantsChange = outdated.size > 0 || inPlace !== undefined || active.size !== desired;
  if (joining && wantsChange) return { action: 'wait', message: `Waiting for Machine ${joining.metadata.name} to join etcd before the next change` };
  if (inPlace && progressOf(inPlace)) return nextInPlaceStep(view, inPlace, nodeServices ?? new Map());

  // For a rollout, outdated means replaced: a Machine upgraded in place is not removed for it
  // (unless the user's delete-machine annotation picks it, as KCP).
  const replaced = new Set(outdated);
  const isOutdated = (reason: ChangeReason) => (machine: Machine) => (reason === 'rollout' ? replaced.has(machine) : !view.isUpToDate(machine));
  const preflight = (exempt?: Machine) => (nodeServices ? preflightBlock(view, nodeServices, exempt) : undefined);
  const removal = (reason: ChangeReason): NextStep => {
    const victim = machineToRemove(active.sortedByCreation(), isOutdated(reason), view.failureDomains)!;
    return unlessBlocked(preflight(victim), { action: 'removeMachine', machine: victim, reason });
  };
  if (outdated.size > 0) {
    if (active.size < rolloutCeiling(view)) return unlessBlocked(preflight(), { action: 'createMachine', first: false, reason: 'rollout' });
    return removal('rollout');
  }
  if (active.size < desired) return unlessBlocked(preflight(), { action: 'createMachine', first: false, reason: 'scale' });
  if (active.size > desired) return removal('scale');
  if (inPlace) return nextInPlaceStep(view, inPlace, nodeServices ?? new Map());
  return { action: 'none' };
}
