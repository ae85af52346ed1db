// What the control plane does next, decided from the view alone: create the first Machine, bootstrap
// etcd on it, add Machines one at a time (each after the previous one's Node registered), or
// nothing. Each waiting step says what it waits for, in words for a condition.
import type { Machine } from '../api/capi/v1beta2/types';
import { type ControlPlane, talosAddressOf } from './control-plane';

export type NextStep =
  | { action: 'createMachine'; first: boolean }
  | { action: 'bootstrapEtcd'; machine: Machine; address: string }
  | { action: 'wait'; message: string }
  | { action: 'none' };

export function nextStep(view: ControlPlane): NextStep {
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
  const joining = view.machineWithoutNode();
  if (joining) return { action: 'wait', message: `Waiting for the Node of Machine ${joining.metadata.name} before adding the next control-plane Machine` };
  return { action: 'createMachine', first: false };
}
