// What the control-plane scenarios ask of one TalosControlPlane in the world: its Machines, when it
// has settled at a count and version, which etcd members it has, and what the simulator's etcd
// history says of a change (judged from the history's length before it); and the image of the
// workload cluster's kube-proxy.
import { CONTROL_PLANE_LABEL, type Cluster, type Machine } from '../../src/api/capi/v1beta2/types';
import type { TalosControlPlane } from '../../src/api/controlplane/v1alpha3/types';
import type { TalosControlPlane as HubTalosControlPlane } from '../../src/api/controlplane/v1beta1/types';
import { V1BETA1 as CONTROLPLANE_V1BETA1 } from '../../src/api/controlplane/resources';
import type { KubeClient } from '../../src/kube/client/client';
import { DaemonSetKind, type DaemonSet } from '../../src/controlplane/kube-proxy';
import { unwrapSingle } from '../../src/talos/api';
import { membershipInvariants, type MembershipInvariants } from '../support/etcd-history';
import type { EtcdSample, TalosSimControl } from '../support/talos-sim';
import { eventually, INSTALL_DISK_PATCH, installerImagePatch, machinesOf, simMachine, talosClientFor, TALOS_VERSION, TalosControlPlaneKind } from './world-fixtures';

export class ControlPlaneProbe {
  /** A node of the etcd cluster to read its history through; moved on when it is replaced. */
  private historyNode = '';

  constructor(
    private readonly client: KubeClient,
    private readonly sim: TalosSimControl,
    readonly cluster: Cluster,
  ) {}

  get namespace(): string {
    return this.cluster.metadata.namespace!;
  }

  get name(): string {
    return `${this.cluster.metadata.name}-control-plane`;
  }

  tcp(): Promise<TalosControlPlane> {
    return this.client.get<TalosControlPlane>(TalosControlPlaneKind, this.namespace, this.name);
  }

  /** The control plane in the stored version (v1beta1), where the fields v1alpha3 cannot hold are. */
  hub(): Promise<HubTalosControlPlane> {
    return this.client.get<HubTalosControlPlane>(CONTROLPLANE_V1BETA1.talosControlPlane, this.namespace, this.name);
  }

  patch(spec: Record<string, unknown>): Promise<unknown> {
    return this.client.patch(TalosControlPlaneKind, this.namespace, this.name, { spec }, 'merge');
  }

  /** An in-place Talos upgrade asked for: the controlplane config names `installer`, nothing else changed. */
  upgradeTalosTo(installer: string): Promise<unknown> {
    return this.patch({ controlPlaneConfig: { controlplane: { generateType: 'controlplane', talosVersion: TALOS_VERSION, configPatches: [INSTALL_DISK_PATCH, installerImagePatch(installer)] } } });
  }

  async machines(): Promise<Machine[]> {
    return (await machinesOf(this.client, this.namespace, this.cluster.metadata.name!)).filter((m) => CONTROL_PLANE_LABEL in (m.metadata.labels ?? {}));
  }

  async nodeIdOf(machine: Machine): Promise<string> {
    return (await simMachine(this.client, this.namespace, machine.metadata.name!)).status!.nodeId!;
  }

  /** Settled: `replicas` Machines, all Ready and up to date at `version`, none deleting, each with its Node known to Cluster API, the generation seen. */
  async settled(replicas: number, version: string, timeoutMs = 400_000): Promise<{ tcp: TalosControlPlane; machines: Machine[] }> {
    const found = await eventually(`${this.name} settled at ${replicas} × ${version}`, async () => {
      const [tcp, machines] = await Promise.all([this.tcp(), this.machines()]);
      const s = tcp.status;
      const ok = s?.observedGeneration === tcp.metadata.generation && s?.replicas === replicas && s?.readyReplicas === replicas &&
        s?.upToDateReplicas === replicas && machines.length === replicas && machines.every((m) => m.spec.version === version && !m.metadata.deletionTimestamp && m.status?.nodeRef);
      return ok ? { tcp, machines } : undefined;
    }, { timeoutMs, intervalMs: 500 });
    await this.followHistory(found.machines);
    return found;
  }

  /** Read the history through a node of `machines` (the one used so far may have been replaced). */
  async followHistory(machines: Machine[]): Promise<void> {
    const ids = await Promise.all(machines.map((m) => this.nodeIdOf(m)));
    if (!ids.includes(this.historyNode)) this.historyNode = ids[0]!;
  }

  /** Ask the history from a node other than `machine`'s (which is about to go). */
  async avoidHistoryNode(machine: Machine, others: Machine[]): Promise<void> {
    if ((await this.nodeIdOf(machine)) === this.historyNode) {
      this.historyNode = await this.nodeIdOf(others.find((m) => m.metadata.name !== machine.metadata.name)!);
    }
  }

  async historyLength(): Promise<number> {
    return (await this.sim.etcdHistory(this.historyNode)).length;
  }

  /** The history since the last sample before a change (`historyLength()` taken before it). */
  async historySince(lengthBefore: number): Promise<EtcdSample[]> {
    return (await this.sim.etcdHistory(this.historyNode)).slice(Math.max(0, lengthBefore - 1));
  }

  async judgeSince(lengthBefore: number): Promise<MembershipInvariants> {
    return membershipInvariants(await this.historySince(lengthBefore));
  }

  /** The etcd members' names, asked of a running control-plane node. */
  async etcdMembers(): Promise<string[]> {
    const running = (await this.machines()).find((m) => !m.metadata.deletionTimestamp && m.status?.nodeRef);
    const talos = await talosClientFor(this.client, this.cluster, running!);
    try {
      return unwrapSingle(await talos.etcdMemberList(), 'EtcdMemberList').members.map((m) => m.hostname).sort();
    } finally {
      talos.close();
    }
  }

  /** A rollout left none of `oldNames`, kept quorum with one member in flux, and etcd matches the Nodes. */
  async expectRolledOnce(lengthBefore: number, oldNames: string[], machines: Machine[]): Promise<MembershipInvariants> {
    expect(machines.map((m) => m.metadata.name).filter((n) => oldNames.includes(n!))).toEqual([]);
    const judged = await this.judgeSince(lengthBefore);
    expect(judged).toMatchObject({ quorumAlwaysKept: true });
    expect(judged.maxMembersChangedAtOnce).toBeLessThanOrEqual(1);
    expect(await this.etcdMembers()).toEqual(machines.map((m) => m.status!.nodeRef!.name).sort());
    return judged;
  }

  condition(tcp: TalosControlPlane | undefined, type: string) {
    return tcp?.status?.v1beta2?.conditions?.find((c) => c.type === type);
  }
}

/** The image of the kube-proxy container in the workload's DaemonSet kube-system/kube-proxy (from Talos's bootstrap manifests). */
export async function kubeProxyImage(workload: KubeClient): Promise<string | undefined> {
  const daemonSet = await workload.get<DaemonSet>(DaemonSetKind, 'kube-system', 'kube-proxy');
  return daemonSet.spec?.template?.spec?.containers?.find((c) => c.name === 'kube-proxy')?.image;
}

/** Waits for the workload's kube-proxy to run `image` (it follows a rollout once the rollout is over). */
export function kubeProxyAt(workload: KubeClient, image: string): Promise<string> {
  return eventually(`kube-proxy at ${image}`, async () => ((await kubeProxyImage(workload)) === image ? image : undefined), { timeoutMs: 60_000, intervalMs: 250 });
}
