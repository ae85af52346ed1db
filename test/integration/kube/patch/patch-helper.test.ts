// The patch helper against a real CRD with a status subresource (Cluster API v1beta2 Cluster):
// other writers' conditions and finalizers survive, and an unchanged object costs no request.
import { setCondition, type Condition } from '../../../../src/kube/patch/conditions';
import { RuntimeMetrics } from '../../../../src/kube/http/metrics';
import type { KubeObject } from '../../../../src/kube/meta/object';
import { PatchHelper } from '../../../../src/kube/patch/patch-helper';
import { ClusterKind, createNamespace, testClient } from '../helpers';

interface Cluster extends KubeObject {
  spec?: { paused?: boolean };
  status?: { conditions?: Condition[]; phase?: string };
}

const metrics = new RuntimeMetrics();
const client = testClient(metrics);
let namespace: string;

async function requestCount(): Promise<number> {
  const { values } = await metrics.restClientRequests.get();
  return values.reduce((sum, v) => sum + v.value, 0);
}

async function createCluster(name: string): Promise<Cluster> {
  return client.create<Cluster>(ClusterKind, {
    apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster', metadata: { name, namespace }, spec: { paused: true },
  });
}

const foreignCondition = {
  type: 'ExternalCheck', status: 'True', reason: 'Checked', message: 'set by another writer', lastTransitionTime: '2026-01-01T00:00:00Z',
};

beforeAll(async () => {
  namespace = await createNamespace(client, 'kube-patch');
});

it('patches status without clobbering a condition another writer set after our read', async () => {
  const cluster = await createCluster('conditions');
  const helper = new PatchHelper(client, ClusterKind, cluster);

  // Another writer adds its condition after our snapshot (our resourceVersion is now stale).
  await client.patch(ClusterKind, namespace, 'conditions', { status: { conditions: [foreignCondition] } }, 'merge', { subresource: 'status' });

  cluster.status = { conditions: setCondition(cluster.status?.conditions, { type: 'Ready', status: 'True', reason: 'AllGood' }) };
  cluster.metadata.labels = { 'example.talos-capi.dev/seen': 'yes' };
  const result = await helper.patch(cluster);

  const latest = await client.get<Cluster>(ClusterKind, namespace, 'conditions');
  expect(latest.metadata.labels).toEqual({ 'example.talos-capi.dev/seen': 'yes' });
  expect(latest.status?.conditions?.map((c) => `${c.type}=${c.status}`).sort()).toEqual(['ExternalCheck=True', 'Ready=True']);
  expect(latest.status?.conditions?.find((c) => c.type === 'ExternalCheck')).toEqual(foreignCondition);
  expect(result?.metadata.resourceVersion).toBe(latest.metadata.resourceVersion);
});

it('re-reads and retries when a condition-only patch meets a newer resourceVersion', async () => {
  const cluster = await createCluster('conflict');
  const helper = new PatchHelper(client, ClusterKind, cluster);
  await client.patch(ClusterKind, namespace, 'conflict', { status: { conditions: [foreignCondition] } }, 'merge', { subresource: 'status' });
  const conflictsBefore = (await metrics.restClientRequests.get()).values.find((v) => v.labels.code === '409')?.value ?? 0;

  cluster.status = { conditions: setCondition(cluster.status?.conditions, { type: 'Ready', status: 'False', reason: 'Waiting', message: 'w' }) };
  await helper.patch(cluster);

  const conflictsAfter = (await metrics.restClientRequests.get()).values.find((v) => v.labels.code === '409')?.value ?? 0;
  expect(conflictsAfter).toBe(conflictsBefore + 1);
  const latest = await client.get<Cluster>(ClusterKind, namespace, 'conflict');
  expect(latest.status?.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual(['ExternalCheck=True', 'Ready=False']);
});

it('sends no request at all when nothing changed', async () => {
  const cluster = await createCluster('unchanged');
  const helper = new PatchHelper(client, ClusterKind, cluster);
  const before = await requestCount();
  expect(await helper.patch(structuredClone(cluster))).toBeUndefined();
  expect(await requestCount()).toBe(before);
});

it('keeps a finalizer another writer added while adding ours', async () => {
  const cluster = await createCluster('finalizers');
  const helper = new PatchHelper(client, ClusterKind, cluster);
  await client.patch(ClusterKind, namespace, 'finalizers', { metadata: { finalizers: ['other.example/cleanup'] } }, 'merge');
  cluster.metadata.finalizers = ['talos-capi.example/ours'];
  await helper.patch(cluster);
  const latest = await client.get<Cluster>(ClusterKind, namespace, 'finalizers');
  expect(latest.metadata.finalizers).toEqual(['other.example/cleanup', 'talos-capi.example/ours']);
  // Clean up so that the namespace can go away.
  await client.patch(ClusterKind, namespace, 'finalizers', { metadata: { finalizers: null } }, 'merge');
});

it('removes a condition this writer dropped while keeping foreign ones', async () => {
  await createCluster('removal');
  await client.patch(ClusterKind, namespace, 'removal', {
    status: { conditions: [foreignCondition, { ...foreignCondition, type: 'Ours', message: 'ours' }] },
  }, 'merge', { subresource: 'status' });
  const current = await client.get<Cluster>(ClusterKind, namespace, 'removal');
  const helper = new PatchHelper(client, ClusterKind, current);
  current.status!.conditions = current.status!.conditions!.filter((c) => c.type !== 'Ours');
  await helper.patch(current);
  const latest = await client.get<Cluster>(ClusterKind, namespace, 'removal');
  expect(latest.status?.conditions?.map((c) => c.type)).toEqual(['ExternalCheck']);
});
