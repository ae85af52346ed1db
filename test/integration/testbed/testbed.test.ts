// The test bed itself: a real kube-apiserver at the pinned version, with the
// Cluster API core CRDs served at v1beta2, that survives a restart.
import * as k8s from '@kubernetes/client-node';
import { CLUSTER_API_VERSION, KUBERNETES_VERSION, readState, restartApiserver } from '../../testbed/testbed';

function client(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(process.env.KUBECONFIG!);
  return kc;
}

test('serves the pinned Kubernetes version', async () => {
  const version = await client().makeApiClient(k8s.VersionApi).getCode();
  expect(version.gitVersion).toBe(KUBERNETES_VERSION);
});

test(`has the Cluster API ${CLUSTER_API_VERSION} core CRDs with v1beta2 as storage`, async () => {
  const crds = await client().makeApiClient(k8s.ApiextensionsV1Api).listCustomResourceDefinition();
  const byName = new Map(crds.items.map((crd) => [crd.metadata!.name!, crd]));
  for (const kind of ['clusters', 'machines', 'machinesets', 'machinedeployments', 'machinepools', 'machinehealthchecks']) {
    const crd = byName.get(`${kind}.cluster.x-k8s.io`);
    expect(crd).toBeDefined();
    expect(crd!.spec.versions.find((v) => v.storage)?.name).toBe('v1beta2');
  }
});

test('keeps its data across a kube-apiserver restart', async () => {
  const core = client().makeApiClient(k8s.CoreV1Api);
  const name = `survives-restart-${Date.now()}`;
  await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name }, data: { a: '1' } } });
  const before = readState(process.env.TESTBED_DIR!).apiserver.pid;
  await restartApiserver(process.env.TESTBED_DIR!);
  expect(readState(process.env.TESTBED_DIR!).apiserver.pid).not.toBe(before);
  const read = await client().makeApiClient(k8s.CoreV1Api).readNamespacedConfigMap({ namespace: 'default', name });
  expect(read.data).toEqual({ a: '1' });
});
