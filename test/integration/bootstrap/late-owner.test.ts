// A TalosConfig that reaches the cache before its owner Machine or its Cluster (they are watched
// apart, and a config made by hand or by GitOps may name a Machine whose configRef names another
// config) is reconciled when the owner or the Cluster arrives, not left waiting for a resync.
import { V1BETA1 } from '../../../src/api/bootstrap/resources';
import { CLUSTER_NAME_LABEL, type Cluster } from '../../../src/api/capi/v1beta2/types';
import type { TalosConfig } from '../../../src/api/bootstrap/v1beta1/types';
import { createCluster, createMachine, createNamespace, eventually, getTalosConfig, waitForBootstrapData } from '../../support/capi-fixtures';
import { useBootstrapEnvironment } from '../../support/bootstrap-env';

jest.setTimeout(120_000);

const env = useBootstrapEnvironment();

/** A config owned by Machine `machine` of Cluster `cluster`, made before either is seen. */
async function earlyConfig(namespace: string, name: string, machine: string, cluster: string) {
  await env.client.create<TalosConfig>(V1BETA1.talosConfig, {
    apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1',
    kind: 'TalosConfig',
    metadata: {
      name, namespace, labels: { [CLUSTER_NAME_LABEL]: cluster },
      ownerReferences: [{ apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Machine', name: machine, uid: '00000000-0000-0000-0000-00000000000a' }],
    },
    spec: { generateType: 'worker', talosVersion: 'v1.14' },
  });
  // Seen once and found waiting (nothing rendered yet).
  await eventually('the config reconciled once', async () => ((await getTalosConfig(env.client, namespace, name)).status?.conditions?.length ? true : undefined), { timeoutMs: 30_000 });
  expect((await getTalosConfig(env.client, namespace, name)).status?.initialization?.dataSecretCreated).toBeUndefined();
}

// Well under the reconciler's own 30 s recheck: only the arrival of the owner or the Cluster can bring the pass.
const SOON_MS = 10_000;

it('renders once its owner Machine arrives, though the Machine\'s configRef names another config', async () => {
  const ns = await createNamespace(env.client, 'late-machine');
  const cluster = await createCluster(env.client, ns, 'c');
  await earlyConfig(ns, 'early', 'm', 'c');
  await createMachine(env.client, cluster, 'm', { configName: 'other' });
  await waitForBootstrapData(env.client, ns, 'early', SOON_MS);
});

it('renders once its Cluster arrives', async () => {
  const ns = await createNamespace(env.client, 'late-cluster');
  await earlyConfig(ns, 'early', 'm', 'c');
  // The Machine names its Cluster before the Cluster exists.
  await createMachine(env.client, { metadata: { name: 'c', namespace: ns } } as Cluster, 'm', { configName: 'other' });
  await createCluster(env.client, ns, 'c');
  await waitForBootstrapData(env.client, ns, 'early', SOON_MS);
});
