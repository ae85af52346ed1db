// Key material is held per Cluster only while the Cluster exists: deleting the
// Cluster drops its bundle from the operator's memory.
import { ClusterKind } from '../../../src/api/capi/v1beta2/resources';
import { setupBootstrapController } from '../../../src/bootstrap/controller';
import { ClusterSecrets } from '../../../src/bootstrap/cluster-secrets';
import type { Manager } from '../../../src/kube/manager/manager';
import { createCluster, createMachine, createNamespace, createTalosConfig, eventually, testClient, waitForBootstrapData } from '../../support/capi-fixtures';
import { startManager } from '../../support/in-process-manager';

jest.setTimeout(120_000);

const client = testClient();
const secrets = new ClusterSecrets(client);
let manager: Manager;

beforeAll(async () => {
  manager = await startManager((m) => setupBootstrapController(m, { secrets }));
});

afterAll(async () => {
  await manager?.stop();
});

test('a deleted Cluster’s bundle is no longer held; another cluster’s still is', async () => {
  const ns = await createNamespace(client, 'evict');
  const [gone, kept] = await Promise.all([createCluster(client, ns, 'gone'), createCluster(client, ns, 'kept')]);
  for (const cluster of [gone, kept]) {
    const machine = await createMachine(client, cluster, `${cluster.metadata.name}-cp`, { controlPlane: true });
    await createTalosConfig(client, machine, { generateType: 'controlplane', talosVersion: 'v1.6' });
  }
  await Promise.all([waitForBootstrapData(client, ns, 'gone-cp'), waitForBootstrapData(client, ns, 'kept-cp')]);
  expect(secrets.holds(gone.metadata.uid!)).toBe(true);
  expect(secrets.holds(kept.metadata.uid!)).toBe(true);

  await client.delete(ClusterKind, ns, 'gone');
  await eventually('the deleted Cluster’s bundle to be dropped', async () => !secrets.holds(gone.metadata.uid!));
  expect(secrets.holds(kept.metadata.uid!)).toBe(true);
});
