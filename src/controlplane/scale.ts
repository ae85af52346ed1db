// What the control plane does next, decided from the view and what Talos said of etcd: create the
// first Machine, bootstrap etcd on it, add Machines one at a time (each once the previous one runs
// a healthy etcd member or has its Node), or nothing. Each waiting step says what it waits for, in
// words for a condition.
import type { Machine } from '../api/capi/v1beta2/types';
import { type ControlPlane, hasNode, talosAddressOf } from './control-plane';

export type NextStep =
  | { action: 'createMachine'; first: boolean }
  | { action: 'bootstrapEtcd'; machine: Machine; address: string }
  | { action: 'wait'; message: string }
  | { action: 'none' };

/** Machines still joining: no Node yet and no healthy etcd member seen on them. */
export function joiningMachines(view: ControlPlane, etcdHealthyOn: ReadonlySet<string>): Machine[] {
  return view.activeMachines.sortedByCreation().filter((m) => !hasNode(m) && !etcdHealthyOn.has(m.metadata.name ?? ''));
}

export function nextStep(view: ControlPlane, etcdHealthyOn: ReadonlySet<string> = new Set()): NextStep {
  const active = view.activeMachines;
  const desired = view.desiredReplicas;
  if (active.size === 0) return desired > 0 ? { action: 'createMachine', first: true } : { action: 'none' };
  if (!view.etcdBootstrapped) {
    const first = view.firstMachine()!;
    const address = talosAddressOf(first);
    if (!address) return { action: 'wait', message: `Waiting for Machine ${first.metadata.name} to report an address to bootstrap etcd on` };
    return { action: 'bootstrapEtcd', machine: first, address };
  }
  if (active.size >= desired) return { action: 'none' };
  const joining = joiningMachines(view, etcdHealthyOn)[0];
  if (joining) return { action: 'wait', message: `Waiting for Machine ${joining.metadata.name} to join etcd before adding the next control-plane Machine` };
  return { action: 'createMachine', first: false };
}
