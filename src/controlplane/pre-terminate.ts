// The control plane's pre-terminate hook on its Machines, the decisions only (as KCP's cleanup
// hook). Every control-plane Machine carries the hook annotation, so that whoever deletes it (a
// scale down, a rollout, a remediation, a user's `kubectl delete machine`), Cluster API drains its
// Node and then waits before deleting the infrastructure. The control plane then removes the
// Machine's etcd member and releases the hook. One Machine at a time, oldest deletion first: a
// deleting Machine whose hook was released is waited for until it is gone, and ours runs after
// every other pre-terminate hook on the Machine. When the TalosControlPlane itself is deleted the
// hooks are just released (etcd goes with the whole cluster). Pure: no I/O.
import type { Machine } from '../api/capi/v1beta2/types';
import { getCondition } from '../kube/patch/conditions';
import { isDeleting, not, type MachineFilter } from '../cluster/machines';
import type { ControlPlane } from './control-plane';

/** Cluster API's prefix of pre-terminate hook annotations. */
export const PRE_TERMINATE_HOOK_PREFIX = 'pre-terminate.delete.hook.machine.cluster.x-k8s.io';
/** Ours (KCP's is `…/kcp-cleanup`). */
export const ETCD_CLEANUP_HOOK = `${PRE_TERMINATE_HOOK_PREFIX}/talos-capi-cleanup`;

/** Cluster API's Machine condition while it is deleted, and its reason once only the pre-terminate hooks hold it. */
const MACHINE_DELETING = 'Deleting';
const WAITING_FOR_PRE_TERMINATE_HOOK = 'WaitingForPreTerminateHook';

export const hasCleanupHook: MachineFilter = (machine) => ETCD_CLEANUP_HOOK in (machine.metadata.annotations ?? {});

/** Machines not being deleted that lack the hook (made before it existed): it is added to them. */
export function machinesWithoutHook(view: ControlPlane): Machine[] {
  return view.activeMachines.filter(not(hasCleanupHook)).sortedByCreation();
}

/** A merge patch that adds the hook, or removes it (`release`). */
export function hookPatch(release: boolean): { metadata: { annotations: Record<string, string | null> } } {
  return { metadata: { annotations: { [ETCD_CLEANUP_HOOK]: release ? null : '' } } };
}

export type HookStep =
  | { action: 'none' }
  | { action: 'wait'; machine: Machine; message: string }
  /** Remove the Machine's etcd member, then release the hook. */
  | { action: 'removeMember'; machine: Machine }
  /** Release the hook without touching etcd: there is no other member to keep. */
  | { action: 'release'; machine: Machine; why: string };

const byDeletion = (a: Machine, b: Machine) => {
  const [at, bt] = [a.metadata.deletionTimestamp ?? '', b.metadata.deletionTimestamp ?? ''];
  if (at !== bt) return at < bt ? -1 : 1;
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
};

/** Cluster API drained the Machine's Node and now waits only for the pre-terminate hooks. */
export function waitsForPreTerminateHooks(machine: Machine): boolean {
  const deleting = getCondition(machine.status?.conditions, MACHINE_DELETING);
  return deleting?.status === 'True' && deleting.reason === WAITING_FOR_PRE_TERMINATE_HOOK;
}

/** The other pre-terminate hooks on a Machine (ours runs last, after them). */
function otherHooks(machine: Machine): string[] {
  return Object.keys(machine.metadata.annotations ?? {}).filter((key) => key.startsWith(`${PRE_TERMINATE_HOOK_PREFIX}/`) && key !== ETCD_CLEANUP_HOOK).sort();
}

/** What the hook does next on a control plane that is not itself being deleted. */
export function preTerminateStep(view: ControlPlane): HookStep {
  const hooked = view.machines.filter(isDeleting, hasCleanupHook).sortedByCreation().sort(byDeletion);
  const victim = hooked[0];
  if (!victim) return { action: 'none' };
  const name = victim.metadata.name ?? '';
  const released = view.machines.filter(isDeleting, not(hasCleanupHook)).sortedByCreation()[0];
  if (released) {
    return { action: 'wait', machine: victim, message: `Waiting for Machine ${released.metadata.name} to be deleted before removing the etcd member of Machine ${name} (one at a time)` };
  }
  const others = otherHooks(victim);
  if (others.length > 0) {
    return { action: 'wait', machine: victim, message: `Waiting for the other pre-terminate hooks of Machine ${name} (${others.join(', ')}) before removing its etcd member` };
  }
  if (!waitsForPreTerminateHooks(victim)) {
    return { action: 'wait', machine: victim, message: `Waiting for Cluster API to drain the Node of Machine ${name} before removing its etcd member` };
  }
  if (!view.etcdBootstrapped) return { action: 'release', machine: victim, why: 'etcd was never bootstrapped' };
  if (view.machines.size <= 1) return { action: 'release', machine: victim, why: 'its etcd member is the last one' };
  return { action: 'removeMember', machine: victim };
}
