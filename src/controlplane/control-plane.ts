// The ControlPlane view: one TalosControlPlane, its Cluster and its Machines, built once per
// reconcile from the caches, answering the questions scale, etcd, kubeconfig and status ask by
// name. Pure: no I/O, never mutates what it was given.
import type { Cluster, Machine, MachineAddress } from '../api/capi/v1beta2/types';
import type { TalosControlPlane } from '../api/controlplane/v1beta1/types';
import { kubernetesVersionOf, replicasOf, upgradesInPlace } from '../api/controlplane/spec';
import { getCondition } from '../kube/patch/conditions';
import { Machines, isDeleting, not } from '../cluster/machines';
import { ON_DELETE } from '../api/controlplane/group';
import { rolloutStrategyTypeOf } from '../api/controlplane/spec';
import { isNodeReady, type NodeIndex } from '../cluster/workload-nodes';
import type { PodSeen } from './static-pods';
import { type MachineParts, type OutdatedReason, outdatedBecause } from './rollout';
import { controlPlaneFailureDomains, failureDomainForNewMachine } from './failure-domains';
import { replacingFailure, type InPlaceFailure } from './in-place-fallback';

/** CAPI's Machine condition that is True once the Machine's Node is Ready (and nothing else is wrong). */
export const MACHINE_READY = 'Ready';
/** CAPI's Machine condition: Ready for at least minReadySeconds. */
export const MACHINE_AVAILABLE = 'Available';

const conditionTrue = (machine: Machine, type: string) => getCondition(machine.status?.conditions, type)?.status === 'True';

export const isReady = (machine: Machine): boolean => conditionTrue(machine, MACHINE_READY);
export const isAvailable = (machine: Machine): boolean => conditionTrue(machine, MACHINE_AVAILABLE);
export const hasNode = (machine: Machine): boolean => Boolean(machine.status?.nodeRef?.name);

/**
 * The address the Talos API of a Machine is reached at: its first InternalIP, else its first
 * ExternalIP, never `shared` — a control-plane VIP that providers list among every control-plane
 * Machine's addresses (upstream #242) reaches whichever node holds it, not this one.
 */
export function talosAddressOf(machine: Machine, shared?: string): string | undefined {
  const addresses: readonly MachineAddress[] = (machine.status?.addresses ?? []).filter((a) => a.address !== shared);
  return (addresses.find((a) => a.type === 'InternalIP') ?? addresses.find((a) => a.type === 'ExternalIP'))?.address;
}

export class ControlPlane {
  /** The control-plane Machines this TalosControlPlane owns, deleting ones included. */
  readonly machines: Machines;
  /** outdatedBecause per Machine, worked out once per view (status, scale and conditions all ask). */
  private readonly outdated = new Map<Machine, readonly OutdatedReason[]>();

  constructor(
    readonly tcp: TalosControlPlane,
    readonly cluster: Cluster,
    machines: Iterable<Machine>,
    /** Each Machine's TalosConfig and infrastructure machine, by Machine name, as far as the caches hold them. */
    private readonly parts: ReadonlyMap<string, MachineParts> = new Map(),
    /** The TalosConfig version those parts are in (they are compared in it). */
    private readonly talosConfigVersion?: string,
    /** The workload cluster's control-plane Nodes, once its cache has synced. */
    private readonly nodes?: NodeIndex,
    /** The time the pass decides at (rollout.after). */
    private readonly now = Date.now(),
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

  /** The Machine's TalosConfig and infrastructure machine, as far as the caches hold them. */
  partsOf(machine: Machine): MachineParts {
    return this.parts.get(machine.metadata.name ?? '') ?? {};
  }

  /** What about a Machine no longer matches the spec (empty: up to date). */
  outdatedBecause(machine: Machine): readonly OutdatedReason[] {
    let reasons = this.outdated.get(machine);
    if (!reasons) {
      reasons = outdatedBecause(this.tcp, machine, this.partsOf(machine), this.talosConfigVersion, this.now);
      this.outdated.set(machine, reasons);
    }
    return reasons;
  }

  /** Why a Machine no longer matches the spec, in words (empty: up to date). */
  outdatedReasons(machine: Machine): readonly string[] {
    return this.outdatedBecause(machine).map((reason) => reason.message);
  }

  /**
   * The Machine is upgraded on its node: the strategy is InPlace, only its Kubernetes version or
   * Talos installer image differs, and its in-place upgrade has not failed for a replacement (see
   * inPlaceFailure).
   */
  upgradesInPlace(machine: Machine): boolean {
    const reasons = this.outdatedBecause(machine);
    return upgradesInPlace(this.tcp) && reasons.length > 0 && reasons.every((reason) => reason.kind === 'version' || reason.kind === 'talos') &&
      this.inPlaceFailure(machine) === undefined;
  }

  /** The failed in-place step that has the Machine replaced instead (onFailure Replace, for the change it still needs); see in-place-fallback.ts. */
  inPlaceFailure(machine: Machine): InPlaceFailure | undefined {
    return replacingFailure(this.tcp, machine, this.outdatedBecause(machine), kubernetesVersionOf(this.tcp.spec));
  }

  /** The installer image the Machine's node is to be upgraded to in place; undefined when its Talos version is not what changes. */
  talosInstallerWanted(machine: Machine): string | undefined {
    return this.upgradesInPlace(machine) ? this.outdatedBecause(machine).find((reason) => reason.kind === 'talos')?.installer : undefined;
  }

  /** The name of the Machine's Node in the workload cluster (Cluster API's nodeRef, else the one found by provider ID). */
  nodeName(machine: Machine): string | undefined {
    return machine.status?.nodeRef?.name ?? this.nodes?.nodeOf(machine)?.metadata.name;
  }

  /** The workload cluster's Nodes and static pods are known (its cache synced). */
  get seesWorkload(): boolean {
    return this.nodes !== undefined;
  }

  /**
   * The workload cluster's copy of one of the Machine's static pods (component: kube-apiserver…):
   * `unknown` without a synced cache of the workload cluster or before the Machine has a Node.
   */
  staticPodOf(machine: Machine, component: string): PodSeen {
    const nodeName = this.nodeName(machine);
    if (!this.nodes || !nodeName) return 'unknown';
    return this.nodes.staticPodOf(nodeName, component);
  }

  /** The kubelet version the Machine's Node reports; undefined without the Node (or a synced cache). */
  kubeletVersion(machine: Machine): string | undefined {
    return this.nodes?.nodeOf(machine)?.status?.nodeInfo?.kubeletVersion;
  }

  /**
   * Ready as CACPPT counts it: the Machine's Node is Ready in the workload cluster, seen there
   * directly rather than once Cluster API has copied it into the Machine's conditions. Without a
   * synced cache of the workload cluster, the Machine's Ready condition.
   */
  isReady(machine: Machine): boolean {
    if (!this.nodes) return isReady(machine);
    const node = this.nodes.nodeOf(machine);
    return node !== undefined && isNodeReady(node);
  }

  /** The Machine's Node exists: Cluster API set its nodeRef, or the workload cluster has it already. */
  hasNode(machine: Machine): boolean {
    return hasNode(machine) || this.nodes?.nodeOf(machine) !== undefined;
  }

  isUpToDate(machine: Machine): boolean {
    return this.outdatedReasons(machine).length === 0;
  }

  /** Machines a rollout changes: those upgraded in place and those replaced. */
  machinesNeedingRollout(): Machines {
    return this.activeMachines.needingRollout((machine) => this.upgradesInPlace(machine) || this.needsReplacement(machine));
  }

  /** Machines a rolling update replaces; none with OnDelete (the user deletes, scale-up replaces). */
  machinesToReplace(): Machines {
    return this.activeMachines.needingRollout((machine) => this.needsReplacement(machine));
  }

  /** Machines whose Kubernetes or Talos version changes on their nodes, oldest first. */
  machinesToUpgradeInPlace(): Machine[] {
    return this.activeMachines.filter((machine) => this.upgradesInPlace(machine)).sortedByCreation();
  }

  private needsReplacement(machine: Machine): boolean {
    return rolloutStrategyTypeOf(this.tcp.spec) !== ON_DELETE && !this.isUpToDate(machine) && !this.upgradesInPlace(machine);
  }

  /** A Machine on its way out: nothing else changes until it is gone. */
  deletingMachine(): Machine | undefined {
    return this.machines.filter(isDeleting).oldest();
  }

  /** Where this Machine's own Talos API answers (the cluster's endpoint host, a VIP, excluded). */
  talosAddress(machine: Machine): string | undefined {
    return talosAddressOf(machine, this.cluster.spec?.controlPlaneEndpoint?.host);
  }

  /** The Cluster's failure domains for control-plane Machines (none: Machines get no domain). */
  get failureDomains(): string[] {
    return controlPlaneFailureDomains(this.cluster);
  }

  /** Where the next Machine goes: the domain with the fewest up-to-date Machines. */
  failureDomainForNewMachine(): string | undefined {
    return failureDomainForNewMachine(this.failureDomains, [...this.activeMachines], (m) => this.isUpToDate(m));
  }

  /** The Machine etcd is bootstrapped on: the oldest control-plane Machine. */
  firstMachine(): Machine | undefined {
    return this.activeMachines.oldest();
  }
}
