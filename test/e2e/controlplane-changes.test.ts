// One control plane of 3 through the changes users make, in the world with nothing played by hand:
// paused (untouched), scale 3 → 5 → 3 (a victim that stops answering is waited for, then removed
// once it answers), Kubernetes upgrades with maxSurge 1 and maxSurge 0, and OnDelete with a
// control-plane Machine deleted by hand. The simulator records etcd membership all along: quorum is
// never lost and a rollout never has more than one member in flux.
import { ClusterKind, MachineKind } from '../../src/api/capi/v1beta2/resources';
import { CONTROL_PLANE_LABEL, type Cluster, type Machine } from '../../src/api/capi/v1beta2/types';
import type { TalosControlPlane } from '../../src/api/controlplane/v1alpha3/types';
import { unwrapSingle } from '../../src/talos/api';
import { eventsFor } from '../support/capi-fixtures';
import { membershipInvariants } from '../support/etcd-history';
import type { EtcdSample } from '../support/talos-sim';
import {
  createClusterWithControlPlane, createNamespace, eventually, machinesOf, simMachine, talosClientFor, TalosControlPlaneKind, world,
} from './world-fixtures';

jest.setTimeout(900_000);

const w = world();
const NAME = 'delta';
const TCP = `${NAME}-control-plane`;
const isControlPlane = (m: Machine) => CONTROL_PLANE_LABEL in (m.metadata.labels ?? {});

describe('a control plane of 3 through pause, scaling, upgrades and OnDelete', () => {
  let namespace: string;
  let cluster: Cluster;
  /** A control-plane node that stays in the etcd cluster long enough to ask for its history. */
  let historyNode = '';

  const tcp = () => w.client.get<TalosControlPlane>(TalosControlPlaneKind, namespace, TCP);
  const patchTcp = (spec: Record<string, unknown>) => w.client.patch(TalosControlPlaneKind, namespace, TCP, { spec }, 'merge');
  const controlPlaneMachines = async () => (await machinesOf(w.client, namespace, NAME)).filter(isControlPlane);
  const condition = (t: TalosControlPlane | undefined, type: string) => t?.status?.v1beta2?.conditions?.find((c) => c.type === type);
  const history = async () => w.sim.etcdHistory(historyNode);
  const etcdMembers = async () => {
    const machines = await controlPlaneMachines();
    const running = machines.find((m) => !m.metadata.deletionTimestamp && m.status?.nodeRef);
    const talos = await talosClientFor(w.client, cluster, running!);
    try {
      return unwrapSingle(await talos.etcdMemberList(), 'EtcdMemberList').members.map((m) => m.hostname).sort();
    } finally {
      talos.close();
    }
  };

  /** Settled: replicas Machines, all Ready and up to date, nothing being deleted, the generation seen. */
  async function settled(replicas: number, version: string, what: string): Promise<{ tcp: TalosControlPlane; machines: Machine[] }> {
    return eventually(what, async () => {
      const [current, machines] = await Promise.all([tcp(), controlPlaneMachines()]);
      const s = current.status;
      const ok = s?.observedGeneration === current.metadata.generation && s?.replicas === replicas && s.readyReplicas === replicas &&
        s.upToDateReplicas === replicas && machines.length === replicas && machines.every((m) => m.spec.version === version && !m.metadata.deletionTimestamp);
      return ok ? { tcp: current, machines } : undefined;
    }, { timeoutMs: 400_000, intervalMs: 500 });
  }

  /** The Machine names a rollout has left, checked against the etcd history since `before`. */
  async function rolledOnce(before: EtcdSample[], oldNames: string[], machines: Machine[]): Promise<void> {
    expect(machines.map((m) => m.metadata.name).filter((n) => oldNames.includes(n!))).toEqual([]);
    const window = (await history()).slice(Math.max(0, before.length - 1));
    const judged = membershipInvariants(window);
    expect(judged).toMatchObject({ quorumAlwaysKept: true });
    expect(judged.maxMembersChangedAtOnce).toBeLessThanOrEqual(1);
    expect(judged.minUp).toBeGreaterThanOrEqual(2);
    expect(await etcdMembers()).toEqual(machines.map((m) => m.status!.nodeRef!.name).sort());
  }

  beforeAll(async () => {
    namespace = await createNamespace(w.client, 'e2e-cp-changes');
    cluster = await createClusterWithControlPlane(w.client, namespace, NAME, 3);
  });

  it('comes up with 3 Ready control-plane Machines', async () => {
    const { machines } = await settled(3, 'v1.34.1', 'control plane 3/3 Ready');
    const first = await simMachine(w.client, namespace, machines[0]!.metadata.name!);
    historyNode = first.status!.nodeId!;
    expect((await history()).at(-1)).toMatchObject({ memberCount: 3, upCount: 3, quorum: true });
  });

  it('paused: a new replica count is left alone, and Paused says so; unpaused, it scales 3 → 5', async () => {
    await w.client.patch(ClusterKind, namespace, NAME, { spec: { paused: true } }, 'merge');
    await eventually('Paused=True', async () => condition(await tcp(), 'Paused')?.status === 'True' || undefined, { timeoutMs: 60_000, intervalMs: 250 });
    await patchTcp({ replicas: 5 });
    // The provider saw the new generation while paused (it records Paused against it) and created nothing.
    await eventually('Paused seen at the new generation', async () => {
      const current = await tcp();
      return condition(current, 'Paused')?.observedGeneration === current.metadata.generation || undefined;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    expect(await controlPlaneMachines()).toHaveLength(3);

    const before = await history();
    await w.client.patch(ClusterKind, namespace, NAME, { spec: { paused: false } }, 'merge');
    const { machines } = await settled(5, 'v1.34.1', 'control plane 5/5 Ready');
    expect(await etcdMembers()).toEqual(machines.map((m) => m.status!.nodeRef!.name).sort());
    expect(membershipInvariants((await history()).slice(before.length - 1)).quorumAlwaysKept).toBe(true);
  });

  it('scales 5 → 3 with graceful etcd leaves; a victim that stops answering is waited for, with the reason in ScalingDown', async () => {
    const machines = (await controlPlaneMachines()).sort((a, b) => (a.metadata.creationTimestamp! < b.metadata.creationTimestamp! ? -1 : 1));
    const victim = machines[0]!;
    const victimNode = (await simMachine(w.client, namespace, victim.metadata.name!)).status!.nodeId!;
    if (victimNode === historyNode) historyNode = (await simMachine(w.client, namespace, machines.at(-1)!.metadata.name!)).status!.nodeId!;
    await w.sim.setFault(victimNode, { unreachable: true });
    const before = await history();
    await patchTcp({ replicas: 3 });
    const waiting = await eventually('ScalingDown names the unreachable victim', async () => {
      const message = condition(await tcp(), 'ScalingDown')?.message ?? '';
      return message.includes(`Waiting for Machine ${victim.metadata.name}`) && message.includes('to answer the Talos API') ? message : undefined;
    }, { timeoutMs: 120_000, intervalMs: 250 });
    expect(waiting).toContain('so that it can leave etcd');
    expect((await w.client.get<Machine>(MachineKind, namespace, victim.metadata.name!)).metadata.deletionTimestamp).toBeUndefined();

    await w.sim.clearFaults(victimNode);
    const { machines: left } = await settled(3, 'v1.34.1', 'control plane back at 3/3');
    expect(left.map((m) => m.metadata.name)).not.toContain(victim.metadata.name);
    expect(await etcdMembers()).toEqual(left.map((m) => m.status!.nodeRef!.name).sort());
    const judged = membershipInvariants((await history()).slice(before.length - 1));
    expect(judged.quorumAlwaysKept).toBe(true);
    expect(judged.minUp).toBeGreaterThanOrEqual(3);
    const removed = await eventsFor(w.client, namespace, TCP, 'MachineRemoved');
    expect(removed.map((e) => e.note).join('\n')).toContain(`Deleted control-plane Machine ${victim.metadata.name} (scaling down from 5 to 3 replicas); its etcd member left the cluster`);
  });

  it('upgrades Kubernetes with maxSurge 1: every Machine replaced, one member in flux at a time, quorum kept', async () => {
    const old = (await controlPlaneMachines()).map((m) => m.metadata.name!);
    historyNode = (await simMachine(w.client, namespace, old[0]!)).status!.nodeId!;
    const before = await history();
    await patchTcp({ version: 'v1.35.0' });
    await eventually('RollingOut=True', async () => condition(await tcp(), 'RollingOut')?.status === 'True' || undefined, { timeoutMs: 60_000, intervalMs: 250 });
    const { tcp: done, machines } = await settled(3, 'v1.35.0', 'rolled to v1.35.0');
    // The history node was replaced too: read what its etcd cluster recorded through a new member.
    historyNode = (await simMachine(w.client, namespace, machines[0]!.metadata.name!)).status!.nodeId!;
    await rolledOnce(before, old, machines);
    expect(done.status?.versions).toEqual([{ version: 'v1.35.0', replicas: 3 }]);
    expect(condition(done, 'RollingOut')?.status).toBe('False');
  });

  it('upgrades with maxSurge 0: removes first, then replaces, never below 2 healthy members', async () => {
    const old = (await controlPlaneMachines()).map((m) => m.metadata.name!);
    const before = await history();
    await patchTcp({ version: 'v1.35.1', rolloutStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } } });
    const { machines } = await settled(3, 'v1.35.1', 'rolled to v1.35.1');
    historyNode = (await simMachine(w.client, namespace, machines[0]!.metadata.name!)).status!.nodeId!;
    await rolledOnce(before, old, machines);
    const maxMembers = membershipInvariants((await history()).slice(before.length - 1)).maxMembers;
    expect(maxMembers).toBe(3);
  });

  it('OnDelete: a new version rolls nothing; a Machine deleted by hand is replaced at the new version', async () => {
    const old = await controlPlaneMachines();
    await patchTcp({ version: 'v1.35.2', rolloutStrategy: { type: 'OnDelete', rollingUpdate: null } });
    const seen = await eventually('new generation seen', async () => {
      const current = await tcp();
      return current.status?.observedGeneration === current.metadata.generation ? current : undefined;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    expect(seen.status?.upToDateReplicas).toBe(0);
    expect(condition(seen, 'RollingOut')?.status).toBe('False');
    expect((await controlPlaneMachines()).map((m) => m.metadata.name).sort()).toEqual(old.map((m) => m.metadata.name).sort());

    const victim = old[0]!.metadata.name!;
    await w.client.delete(MachineKind, namespace, victim);
    const replaced = await eventually('a v1.35.2 Machine in place of the deleted one', async () => {
      const machines = await controlPlaneMachines();
      const fresh = machines.filter((m) => m.spec.version === 'v1.35.2' && m.status?.nodeRef);
      return !machines.some((m) => m.metadata.name === victim) && machines.length === 3 && fresh.length === 1 ? machines : undefined;
    }, { timeoutMs: 300_000, intervalMs: 500 });
    expect(replaced.filter((m) => m.spec.version === 'v1.35.1')).toHaveLength(2);
  });
});
