// The ControlPlane view: one TalosControlPlane, its Cluster and its Machines, built once per
// reconcile from the caches, answering the questions scale, etcd, kubeconfig and status ask by
// name. Pure: no I/O, never mutates what it was given.
import type { Cluster, Machine, MachineAddress } from '../api/capi/v1beta2/types';
import type { TalosControlPlane } from '../api/controlplane/v1alpha3/types';
import { replicasOf } from '../api/controlplane/spec';
import { getCondition } from '../kube/patch/conditions';
import { Machines, isDeleting, not } from '../cluster/machines';

/** CAPI's Machine condition that is True once the Machine's Node is Ready (and nothing else is wrong). */
export const MACHINE_READY = 'Ready';
/** CAPI's Machine condition: Ready for at least minReadySeconds. */
export const MACHINE_AVAILABLE = 'Available';

const conditionTrue = (machine: Machine, type: string) => getCondition(machine.status?.conditions, type)?.status === 'True';

export const isReady = (machine: Machine): boolean => conditionTrue(machine, MACHINE_READY);
export const isAvailable = (machine: Machine): boolean => conditionTrue(machine, MACHINE_AVAILABLE);
export const hasNode = (machine: Machine): boolean => Boolean(machine.status?.nodeRef?.name);

/** The address the Talos API of a Machine is reached at: its first InternalIP, else its first ExternalIP. */
export function talosAddressOf(machine: Machine): string | undefined {
  const addresses: readonly MachineAddress[] = machine.status?.addresses ?? [];
  return (addresses.find((a) => a.type === 'InternalIP') ?? addresses.find((a) => a.type === 'ExternalIP'))?.address;
}

export class ControlPlane {
  /** The control-plane Machines this TalosControlPlane owns, deleting ones included. */
  readonly machines: Machines;

  constructor(
    readonly tcp: TalosControlPlane,
    readonly cluster: Cluster,
    machines: Iterable<Machine>,
  ) {
    this.machines = Machines.of(machines);
  }

  get clusterName(): string {
    return this.cluster.metadata.name ?? '';
  }

  get namespace(): string {
    return this.tcp.metadata.namespace ?? '';
  }

  get desiredReplicas(): number {
    return replicasOf(this.tcp.spec);
  }

  /** etcd was bootstrapped by an earlier pass (recorded in status, so never done twice). */
  get etcdBootstrapped(): boolean {
    return this.tcp.status?.bootstrapped === true;
  }

  /** Machines not being deleted. */
  get activeMachines(): Machines {
    return this.machines.filter(not(isDeleting));
  }

  /** The Machine etcd is bootstrapped on: the oldest control-plane Machine. */
  firstMachine(): Machine | undefined {
    return this.activeMachines.oldest();
  }
}
