// One control plane of 3 through the changes users make, in the world with nothing played by hand:
// paused (untouched), scale 3 → 5 → 3 (each member removed after the drain in the Machine's
// pre-terminate hook; a victim that stops answering has its member removed through a healthy peer), Kubernetes upgrades with maxSurge 1 and maxSurge 0, and OnDelete with a
// control-plane Machine deleted by hand. The simulator records etcd membership all along: quorum is
// never lost and a rollout never has more than one member in flux. The workload's kube-proxy
// follows each version once every control-plane Machine runs it, and not before.
import { ClusterKind, MachineKind } from '../../src/api/capi/v1beta2/resources';
import type { Machine } from '../../src/api/capi/v1beta2/types';
import { eventsFor } from '../support/capi-fixtures';
import { ControlPlaneProbe, kubeProxyAt, kubeProxyImage } from './controlplane-fixtures';
import { createClusterWithControlPlane, createNamespace, eventually, workloadClient, world } from './world-fixtures';

jest.setTimeout(900_000);

const w = world();
const NAME = 'delta';
const kubeProxy = (version: string) => `registry.k8s.io/kube-proxy:${version}`;
const byAge = (a: Machine, b: Machine) => (a.metadata.creationTimestamp! < b.metadata.creationTimestamp! ? -1 : 1);

describe('a control plane of 3 through pause, scaling, upgrades and OnDelete', () => {
  let cp: ControlPlaneProbe;

  beforeAll(async () => {
    const namespace = await createNamespace(w.client, 'e2e-cp-changes');
    cp = new ControlPlaneProbe(w.client, w.sim, await createClusterWithControlPlane(w.client, namespace, NAME, 3));
  });

  it('comes up with 3 Ready control-plane Machines', async () => {
    await cp.settled(3, 'v1.34.1');
    const history = await cp.judgeSince(0);
    expect(history).toMatchObject({ quorumAlwaysKept: true, maxMembers: 3 });
  });

  it('paused: a new replica count is left alone, and Paused says so; unpaused, it scales 3 → 5', async () => {
    await w.client.patch(ClusterKind, cp.namespace, NAME, { spec: { paused: true } }, 'merge');
    await eventually('Paused=True', async () => cp.condition(await cp.tcp(), 'Paused')?.status === 'True' || undefined, { timeoutMs: 60_000, intervalMs: 250 });
    await cp.patch({ replicas: 5 });
    // The provider saw the new generation while paused (it records Paused against it) and created nothing.
    await eventually('Paused seen at the new generation', async () => {
      const tcp = await cp.tcp();
      return cp.condition(tcp, 'Paused')?.observedGeneration === tcp.metadata.generation || undefined;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    expect(await cp.machines()).toHaveLength(3);

    const before = await cp.historyLength();
    await w.client.patch(ClusterKind, cp.namespace, NAME, { spec: { paused: false } }, 'merge');
    const { machines } = await cp.settled(5, 'v1.34.1');
    expect(await cp.etcdMembers()).toEqual(machines.map((m) => m.status!.nodeRef!.name).sort());
    expect((await cp.judgeSince(before)).quorumAlwaysKept).toBe(true);
  });

  it('scales 5 → 3: leadership handed off, each member removed after the drain in its hook; a victim that stops answering has its member removed through a healthy peer', async () => {
    const machines = (await cp.machines()).sort(byAge);
    const victim = machines[0]!;
    const name = victim.metadata.name!;
    await cp.avoidHistoryNode(victim, machines);
    await w.sim.setFault(await cp.nodeIdOf(victim), { unreachable: true });
    const before = await cp.historyLength();
    await cp.patch({ replicas: 3 });
    const { machines: left } = await cp.settled(3, 'v1.34.1');
    expect(left.map((m) => m.metadata.name)).not.toContain(name);
    expect(await cp.etcdMembers()).toEqual(left.map((m) => m.status!.nodeRef!.name).sort());
    const judged = await cp.judgeSince(before);
    expect(judged.quorumAlwaysKept).toBe(true);
    expect(judged.minUp).toBeGreaterThanOrEqual(3);
    const notes = async (reason: string) => (await eventsFor(w.client, cp.namespace, cp.name, reason)).map((e) => e.note).join('\n');
    expect(await notes('MachineRemoved')).toContain(`Deleted control-plane Machine ${name} (scaling down from 5 to 3 replicas); its etcd member, if any, is removed after the drain`);
    expect(await notes('MachineRemoved')).toContain('(scaling down from 4 to 3 replicas); it handed off etcd leadership; its member leaves after the drain');
    const removed = await notes('EtcdMemberRemoved');
    expect(removed).toMatch(new RegExp(`Deleting control-plane Machine ${name} was drained: its etcd member ${victim.status!.nodeRef!.name} \\([0-9a-f]+\\) was removed through Machine \\S+; its pre-terminate hook is released`));
    expect(removed).toContain('was drained: its etcd member left the cluster; its pre-terminate hook is released');
  });

  it('upgrades Kubernetes with maxSurge 1: every Machine replaced, one member in flux at a time, quorum kept', async () => {
    const old = (await cp.machines()).map((m) => m.metadata.name!);
    const before = await cp.historyLength();
    await cp.patch({ version: 'v1.35.0' });
    await eventually('RollingOut=True', async () => cp.condition(await cp.tcp(), 'RollingOut')?.status === 'True' || undefined, { timeoutMs: 60_000, intervalMs: 250 });
    const { tcp, machines } = await cp.settled(3, 'v1.35.0');
    const judged = await cp.expectRolledOnce(before, old, machines);
    expect(judged.minUp).toBeGreaterThanOrEqual(3);
    expect(tcp.status?.versions).toEqual([{ version: 'v1.35.0', replicas: 3 }]);
    expect(cp.condition(tcp, 'RollingOut')?.status).toBe('False');
    await kubeProxyAt(await workloadClient(w, cp.namespace, NAME), kubeProxy('v1.35.0'));
  });

  it('upgrades with maxSurge 0: removes first, then replaces, never below 2 healthy members', async () => {
    const old = (await cp.machines()).map((m) => m.metadata.name!);
    const before = await cp.historyLength();
    await cp.patch({ version: 'v1.35.1', rolloutStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } } });
    const { machines } = await cp.settled(3, 'v1.35.1');
    const judged = await cp.expectRolledOnce(before, old, machines);
    expect(judged.maxMembers).toBe(3);
    expect(judged.minUp).toBeGreaterThanOrEqual(2);
    await kubeProxyAt(await workloadClient(w, cp.namespace, NAME), kubeProxy('v1.35.1'));
  });

  it('OnDelete: a new version rolls nothing; a Machine deleted by hand is replaced at the new version', async () => {
    const old = await cp.machines();
    await cp.patch({ version: 'v1.35.2', rolloutStrategy: { type: 'OnDelete', rollingUpdate: null } });
    const seen = await eventually('new generation seen', async () => {
      const tcp = await cp.tcp();
      return tcp.status?.observedGeneration === tcp.metadata.generation ? tcp : undefined;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    expect(seen.status?.upToDateReplicas).toBe(0);
    expect(cp.condition(seen, 'RollingOut')?.status).toBe('False');
    expect((await cp.machines()).map((m) => m.metadata.name).sort()).toEqual(old.map((m) => m.metadata.name).sort());

    const victim = old[0]!.metadata.name!;
    await w.client.delete(MachineKind, cp.namespace, victim);
    const replaced = await eventually('a v1.35.2 Machine in place of the deleted one', async () => {
      const machines = await cp.machines();
      const fresh = machines.filter((m) => m.spec.version === 'v1.35.2' && m.status?.nodeRef);
      return !machines.some((m) => m.metadata.name === victim) && machines.length === 3 && fresh.length === 1 ? machines : undefined;
    }, { timeoutMs: 300_000, intervalMs: 500 });
    expect(replaced.filter((m) => m.spec.version === 'v1.35.1')).toHaveLength(2);
    // Two Machines still run v1.35.1: kube-proxy stays there.
    expect(await kubeProxyImage(await workloadClient(w, cp.namespace, NAME))).toBe(kubeProxy('v1.35.1'));
  });

  it('a node that stops is seen through its Events stream at once: EtcdClusterHealthy False naming it, True again once it is back', async () => {
    const [machine] = (await cp.machines()).filter((m) => !m.metadata.deletionTimestamp);
    const node = await cp.nodeIdOf(machine!);
    const stoppedAt = Date.now();
    await w.sim.stopNode(node);
    const message = await eventually('EtcdClusterHealthy=False naming the stopped Machine', async () => {
      const c = cp.condition(await cp.tcp(), 'EtcdClusterHealthy');
      return c?.status === 'False' && c.message?.includes(`Machine ${machine!.metadata.name}`) ? c.message : undefined;
    }, { timeoutMs: 60_000, intervalMs: 100 });
    process.stderr.write(`[figures] node stopped → EtcdClusterHealthy False: ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s\n`);
    expect(message).toContain('Talos API not answering');
    // The Machine says so itself (EtcdMemberHealthy, as KCP's), and Cluster API keeps it.
    const memberHealth = async () => (await cp.machines()).find((m) => m.metadata.name === machine!.metadata.name)?.status?.conditions?.find((c) => c.type === 'EtcdMemberHealthy');
    await eventually('the Machine\'s EtcdMemberHealthy Unknown: its Talos API does not answer', async () => ((await memberHealth())?.reason === 'InspectionFailed') || undefined, { timeoutMs: 60_000, intervalMs: 250 });
    await w.sim.startNode(node);
    await eventually('EtcdClusterHealthy=True again', async () => cp.condition(await cp.tcp(), 'EtcdClusterHealthy')?.status === 'True' || undefined, { timeoutMs: 120_000, intervalMs: 250 });
    await eventually('the Machine\'s EtcdMemberHealthy True again', async () => ((await memberHealth())?.status === 'True') || undefined, { timeoutMs: 60_000, intervalMs: 250 });
  });
});
