// clusterctl move's pause, in the world: a running control plane of 1 whose Cluster gets
// spec.paused (what clusterctl move sets before it moves anything), then whose TalosControlPlane
// carries cluster.x-k8s.io/paused, is asked for 3 replicas at a new Kubernetes version. While
// paused, nothing of it is created, deleted or written — the Machines, their TalosConfigs and
// infrastructure machines keep their UIDs and resourceVersions, and the TalosControlPlane only
// says Paused=True (at the generation it saw, with status.observedGeneration left behind). Once
// unpaused it scales and rolls to what the spec asks. Last, pause wins over deletion too (as KCP):
// a paused control plane deleted keeps its Machines until it is unpaused.
import { ClusterKind } from '../../src/api/capi/v1beta2/resources';
import type { Machine } from '../../src/api/capi/v1beta2/types';
import { V1BETA1 as BOOTSTRAP_V1BETA1 } from '../../src/api/bootstrap/resources';
import type { KubeObject } from '../../src/kube/meta/object';
import { PAUSED_ANNOTATION } from '../../src/kube/controller/predicates';
import { SimMachineKind } from '../world/infra/api';
import { ControlPlaneProbe } from './controlplane-fixtures';
import { conditionOf, createClusterWithControlPlane, createNamespace, eventually, KUBERNETES_VERSION, TalosControlPlaneKind, world } from './world-fixtures';

jest.setTimeout(600_000);

const w = world();
const NAME = 'pause';
/** How long the paused control plane is watched for a write (the task's ~20 s). */
const QUIET_MS = 20_000;
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe('a control plane paused as clusterctl move pauses it', () => {
  let cp: ControlPlaneProbe;

  /** Every object of the control plane's Machines by kind and name: UID and resourceVersion. */
  const snapshot = async (): Promise<Record<string, string>> => {
    const machines = await cp.machines();
    const parts = await Promise.all(machines.flatMap((m: Machine) => [
      w.client.get<KubeObject>(BOOTSTRAP_V1BETA1.talosConfig, cp.namespace, m.spec.bootstrap.configRef!.name),
      w.client.get<KubeObject>(SimMachineKind, cp.namespace, m.spec.infrastructureRef.name),
    ]));
    return Object.fromEntries([...machines, ...parts].map((o) => [`${o.kind}/${o.metadata.name}`, `${o.metadata.uid}@${o.metadata.resourceVersion}`]));
  };

  beforeAll(async () => {
    const namespace = await createNamespace(w.client, 'e2e-cp-pause');
    cp = new ControlPlaneProbe(w.client, w.sim, await createClusterWithControlPlane(w.client, namespace, NAME, 1));
    await cp.settled(1, KUBERNETES_VERSION);
  });

  it('Cluster spec.paused: a new replica count and version are left alone, nothing is written, Paused says so', async () => {
    await w.client.patch(ClusterKind, cp.namespace, NAME, { spec: { paused: true } }, 'merge');
    // Cluster API pauses the Machines too (its own Paused condition on them): wait for that write first.
    await eventually('Paused=True on the TalosControlPlane and the Machine', async () => {
      const [tcp, machines] = await Promise.all([cp.tcp(), cp.machines()]);
      return cp.condition(tcp, 'Paused')?.status === 'True' && machines.every((m) => conditionOf(m, 'Paused')?.status === 'True') || undefined;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    const before = await snapshot();
    const observedBefore = (await cp.tcp()).status?.observedGeneration;

    await cp.patch({ replicas: 3, version: 'v1.35.0' });
    await eventually('Paused seen at the new generation', async () => {
      const tcp = await cp.tcp();
      return cp.condition(tcp, 'Paused')?.observedGeneration === tcp.metadata.generation || undefined;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    await sleep(QUIET_MS);

    expect(await snapshot()).toEqual(before);
    const tcp = await cp.tcp();
    expect(cp.condition(tcp, 'Paused')).toMatchObject({ status: 'True', reason: 'Paused', observedGeneration: tcp.metadata.generation });
    // A paused pass does not claim to have acted on the new spec (kstatus keeps it InProgress).
    expect(tcp.status?.observedGeneration).toBe(observedBefore);
    expect(tcp.status?.replicas).toBe(1);
  });

  it('the TalosControlPlane\'s paused annotation alone (Cluster unpaused) still holds it: no Machine created, deleted or changed by it', async () => {
    await w.client.patch(TalosControlPlaneKind, cp.namespace, cp.name, { metadata: { annotations: { [PAUSED_ANNOTATION]: '' } } }, 'merge');
    await w.client.patch(ClusterKind, cp.namespace, NAME, { spec: { paused: false } }, 'merge');
    // Cluster API resumes the Machines (its Paused condition False): their resourceVersions move by its hand.
    await eventually('Cluster API resumed the Machine', async () =>
      (await cp.machines()).every((m) => conditionOf(m, 'Paused')?.status === 'False') || undefined, { timeoutMs: 60_000, intervalMs: 250 });
    const names = (await cp.machines()).map((m) => `${m.metadata.name}/${m.metadata.uid}/${m.spec.version}`);
    await sleep(QUIET_MS / 2);
    expect((await cp.machines()).map((m) => `${m.metadata.name}/${m.metadata.uid}/${m.spec.version}`)).toEqual(names);
    expect(names).toHaveLength(1);
    expect(cp.condition(await cp.tcp(), 'Paused')).toMatchObject({ status: 'True' });
  });

  it('unpaused, it scales to 3 and rolls to the new version', async () => {
    const before = await cp.historyLength();
    const old = (await cp.machines()).map((m) => m.metadata.name!);
    await w.client.patch(TalosControlPlaneKind, cp.namespace, cp.name, { metadata: { annotations: { [PAUSED_ANNOTATION]: null } } }, 'merge');
    await eventually('Paused=False', async () => cp.condition(await cp.tcp(), 'Paused')?.status === 'False' || undefined, { timeoutMs: 60_000, intervalMs: 250 });
    const { machines } = await cp.settled(3, 'v1.35.0');
    expect(machines.map((m) => m.metadata.name).filter((name) => old.includes(name!))).toEqual([]);
    expect((await cp.judgeSince(before)).quorumAlwaysKept).toBe(true);
    expect(await cp.etcdMembers()).toEqual(machines.map((m) => m.status!.nodeRef!.name).sort());
  });

  it('deleted while paused, it keeps its Machines; unpaused, it deletes them and goes', async () => {
    await w.client.patch(ClusterKind, cp.namespace, NAME, { spec: { paused: true } }, 'merge');
    await eventually('Paused=True', async () => cp.condition(await cp.tcp(), 'Paused')?.status === 'True' || undefined, { timeoutMs: 60_000, intervalMs: 250 });
    const kept = (await cp.machines()).map((m) => m.metadata.uid).sort();
    await w.client.delete(TalosControlPlaneKind, cp.namespace, cp.name);
    await sleep(QUIET_MS / 2);
    const machines = await cp.machines();
    expect(machines.map((m) => m.metadata.uid).sort()).toEqual(kept);
    expect(machines.filter((m) => m.metadata.deletionTimestamp)).toEqual([]);
    expect((await cp.tcp()).metadata.deletionTimestamp).toBeDefined();

    await w.client.patch(ClusterKind, cp.namespace, NAME, { spec: { paused: false } }, 'merge');
    await eventually('the TalosControlPlane and its Machines gone', async () => {
      const [left, gone] = await Promise.all([cp.machines(), cp.tcp().then(() => false, () => true)]);
      return left.length === 0 && gone ? true : undefined;
    }, { timeoutMs: 180_000, intervalMs: 500 });
  });
});
