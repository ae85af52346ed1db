// GitOps health: what kstatus — the status library of Flux and Argo CD, the real Go one
// (sigs.k8s.io/cli-utils/pkg/kstatus through test/tools/kstatus) — says of our live objects in the
// world. A TalosConfig is InProgress until its Machine's data is written, then Current, and Failed
// when its spec cannot render; a TalosConfigTemplate is Current; a TalosControlPlane is InProgress
// while it comes up and Current once Ready.
import { V1ALPHA3, V1BETA1 } from '../../src/api/bootstrap/resources';
import type { TalosConfig } from '../../src/api/bootstrap/v1beta1/types';
import { ClusterKind } from '../../src/api/capi/v1beta2/resources';
import { API_VERSION as CAPI_API_VERSION, type Cluster } from '../../src/api/capi/v1beta2/types';
import type { TalosControlPlane } from '../../src/api/controlplane/v1alpha3/types';
import type { ResourceKind } from '../../src/kube/client/resource';
import type { KubeObject } from '../../src/kube/meta/object';
import { Kstatus, KSTATUS_BUILD_TIMEOUT_MS, type KstatusResult } from '../support/kstatus';
import { readWorld } from '../world/world';
import { INFRA_API_VERSION, INFRA_GROUP, SimClusterKind } from '../world/infra/api';
import {
  createClusterWithControlPlane, createMachine, createNamespace, createWorkerTemplates, eventually, INSTALL_DISK_PATCH,
  TalosControlPlaneKind, TALOS_VERSION, world,
} from './world-fixtures';

jest.setTimeout(900_000);

const w = world();
let kstatus: Kstatus;

beforeAll(async () => {
  kstatus = await Kstatus.forKubeconfig(readWorld(w.dir).kubeconfig);
  const { cached, seconds } = kstatus.build;
  process.stderr.write(`[figures] kstatus tool: ${cached ? 'from the cache' : 'built'} in ${seconds.toFixed(1)} s\n`);
}, KSTATUS_BUILD_TIMEOUT_MS);

/** Waits until kstatus says `status` of the object, and returns what it said. */
function kstatusBecomes(kind: ResourceKind, namespace: string, name: string, status: KstatusResult['status'], timeoutMs = 120_000): Promise<KstatusResult> {
  let last: KstatusResult | undefined;
  return eventually(`kstatus ${kind.kind} ${namespace}/${name} ${status}`, async () => {
    last = await kstatus.one(kind, namespace, name);
    return last.status === status ? last : undefined;
  }, { timeoutMs, intervalMs: 250 }).catch((error: Error) => {
    throw new Error(`${error.message}; last: ${JSON.stringify(last)}`);
  });
}

/** Our controller has seen this generation of the object (kstatus's rules then are ours, not its fallback). */
async function observed(kind: ResourceKind, namespace: string, name: string): Promise<void> {
  await eventually(`${kind.kind} ${namespace}/${name} observed`, async () => {
    const object = await w.client.get<KubeObject & { status?: { observedGeneration?: number } }>(kind, namespace, name);
    return object.status?.observedGeneration === object.metadata.generation;
  }, { timeoutMs: 60_000, intervalMs: 250 });
}

describe('kstatus over TalosConfigs and a TalosConfigTemplate', () => {
  let namespace: string;
  let cluster: Cluster;

  beforeAll(async () => {
    namespace = await createNamespace(w.client, 'e2e-kstatus');
    // The SimCluster comes later: until it does, the configs wait for the cluster infrastructure.
    cluster = await w.client.create<Cluster>(ClusterKind, {
      apiVersion: CAPI_API_VERSION, kind: 'Cluster', metadata: { name: 'kappa', namespace },
      spec: { infrastructureRef: { apiGroup: INFRA_GROUP, kind: 'SimCluster', name: 'kappa' } },
    } as Cluster);
  });

  it('a TalosConfig is InProgress while it waits for the cluster, Current once its data is written (both served versions)', async () => {
    await createMachine(w.client, cluster, 'kappa-cp-0', { controlPlane: true });
    await observed(V1BETA1.talosConfig, namespace, 'kappa-cp-0');
    const waiting = await kstatusBecomes(V1BETA1.talosConfig, namespace, 'kappa-cp-0', 'InProgress');
    expect((await kstatus.one(V1ALPHA3.talosConfig, namespace, 'kappa-cp-0')).status).toBe('InProgress');

    await w.client.create(SimClusterKind, { apiVersion: INFRA_API_VERSION, kind: 'SimCluster', metadata: { name: 'kappa', namespace }, spec: {} });
    const current = await kstatusBecomes(V1BETA1.talosConfig, namespace, 'kappa-cp-0', 'Current');
    const config = await w.client.get<TalosConfig>(V1BETA1.talosConfig, namespace, 'kappa-cp-0');
    expect(config.status?.initialization?.dataSecretCreated).toBe(true);
    expect(current.message).toBe('Resource is Ready');
    // Each served version read on its own: the v1alpha3 view follows (once seen a moment behind in CI).
    await kstatusBecomes(V1ALPHA3.talosConfig, namespace, 'kappa-cp-0', 'Current', 30_000);
    process.stderr.write(`[figures] kstatus while waiting: ${JSON.stringify(waiting)}\n`);
  });

  it('a TalosConfig whose patch cannot apply is Failed, naming the patch; recreated with a good spec, Current', async () => {
    const spec = { generateType: 'worker', talosVersion: TALOS_VERSION, configPatches: [INSTALL_DISK_PATCH] };
    await createMachine(w.client, cluster, 'kappa-w-bad', {
      config: { ...spec, configPatches: [INSTALL_DISK_PATCH, { op: 'replace', path: '/machine/nonexistent/field', value: 1 }] },
    });
    const failed = await kstatusBecomes(V1BETA1.talosConfig, namespace, 'kappa-w-bad', 'Failed');
    expect(failed.message).toMatch(/^Data secret generation failed: .*configPatches\[1\]/);
    expect((await kstatus.one(V1ALPHA3.talosConfig, namespace, 'kappa-w-bad')).status).toBe('Failed');

    // A TalosConfig's spec is immutable (as CABPT's): the fix is a new one of the same name.
    await w.client.delete(V1BETA1.talosConfig, namespace, 'kappa-w-bad');
    await kstatusBecomes(V1BETA1.talosConfig, namespace, 'kappa-w-bad', 'NotFound');
    await w.client.create(V1BETA1.talosConfig, { apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1', kind: 'TalosConfig', metadata: { name: 'kappa-w-bad', namespace }, spec });
    await kstatusBecomes(V1BETA1.talosConfig, namespace, 'kappa-w-bad', 'Current');
    await kstatusBecomes(V1ALPHA3.talosConfig, namespace, 'kappa-w-bad', 'Current', 30_000);
  });

  it('a TalosConfigTemplate is Current (nothing reconciles it; it has no status)', async () => {
    await createWorkerTemplates(w.client, namespace, 'kappa-workers');
    for (const kind of [V1BETA1.talosConfigTemplate, V1ALPHA3.talosConfigTemplate]) {
      expect(await kstatus.one(kind, namespace, 'kappa-workers')).toMatchObject({ kind: 'TalosConfigTemplate', status: 'Current' });
    }
  });
});

describe('kstatus over a TalosControlPlane', () => {
  let namespace: string;
  const name = 'lambda-control-plane';
  /** kstatus samples taken while the control plane scaled 1 → 3, with the replicas Ready read right after each. */
  const scaleSamples: { status: string; message: string; readyReplicas: number }[] = [];

  beforeAll(async () => {
    namespace = await createNamespace(w.client, 'e2e-kstatus-tcp');
  });

  it('is InProgress while it comes up, Current once Ready', async () => {
    await createClusterWithControlPlane(w.client, namespace, 'lambda', 1);
    await observed(TalosControlPlaneKind, namespace, name);
    const coming = await kstatusBecomes(TalosControlPlaneKind, namespace, name, 'InProgress');
    process.stderr.write(`[figures] kstatus while the control plane comes up: ${JSON.stringify(coming)}\n`);
    await kstatusBecomes(TalosControlPlaneKind, namespace, name, 'Current', 300_000);
    const tcp = await w.client.get<TalosControlPlane>(TalosControlPlaneKind, namespace, name);
    expect(tcp.status).toMatchObject({ ready: true, readyReplicas: 1, observedGeneration: tcp.metadata.generation });
  });

  it('scales 1 → 3: InProgress at once (a generation not yet observed, or the scale-up), Current once all are Ready', async () => {
    await w.client.patch(TalosControlPlaneKind, namespace, name, { spec: { replicas: 3 } }, 'merge');
    await eventually('3 Ready replicas and kstatus Current', async () => {
      const { status, message } = await kstatus.one(TalosControlPlaneKind, namespace, name);
      const tcp = await w.client.get<TalosControlPlane>(TalosControlPlaneKind, namespace, name);
      scaleSamples.push({ status, message, readyReplicas: tcp.status?.readyReplicas ?? 0 });
      return status === 'Current' && tcp.status?.readyReplicas === 3;
    }, { timeoutMs: 300_000, intervalMs: 250 });
    process.stderr.write(`[figures] kstatus during the scale-up: ${scaleSamples.length} samples, ${JSON.stringify(scaleSamples.slice(0, 3))}\n`);
    expect(scaleSamples[0]?.status).toBe('InProgress');
  });

  it('is never Current while a replica it scales up to is not Ready', () => {
    expect(scaleSamples.length).toBeGreaterThan(1);
    // readyReplicas only grows during a scale-up: read after kstatus answered, it is at least what kstatus saw.
    expect(scaleSamples.filter((s) => s.status === 'Current' && s.readyReplicas < 3)).toEqual([]);
  });
});
