// The seeds' TalosConfig manifests, applied unchanged as v1alpha3 (what `kubectl apply` sends),
// go through our conversion webhook in the world and bring up a cluster with the real Cluster API
// controllers: CAPI's Machine controller adopts them, our operator renders them, nodes boot.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { V1ALPHA3 } from '../../src/api/bootstrap/resources';
import type { KubeObject } from '../../src/kube/meta/object';
import { bootstrapEtcd, createMachine, createNamespace, createSimCluster, eventually, waitForRunningMachines, world } from './world-fixtures';

jest.setTimeout(600_000);

const SEEDS = join(__dirname, '..', 'fixtures', 'seeds');
const seed = (file: string) => parseYaml(readFileSync(join(SEEDS, file), 'utf8')) as KubeObject;

const w = world();

interface V1alpha3Status extends KubeObject {
  status?: { ready?: boolean; dataSecretName?: string };
}

it('seed TalosConfigs (v1alpha3, unchanged) bring a control plane and a worker to Running', async () => {
  const namespace = await createNamespace(w.client, 'e2e-seeds');
  const cluster = await createSimCluster(w.client, namespace, 'proxmox');
  const controlPlane = seed('000-talosconfig-controlplane-config.yaml');
  const worker = seed('000-talosconfig-worker-node-bootstrap.yaml');
  await createMachine(w.client, cluster, controlPlane.metadata.name!, { controlPlane: true, configManifest: { kind: V1ALPHA3.talosConfig, body: controlPlane } });
  await createMachine(w.client, cluster, worker.metadata.name!, { configManifest: { kind: V1ALPHA3.talosConfig, body: worker } });

  await bootstrapEtcd(w.client, cluster, controlPlane.metadata.name!);
  await waitForRunningMachines(w.client, namespace, 'proxmox', 2);
  for (const name of [controlPlane.metadata.name!, worker.metadata.name!]) {
    // Read back in the version it was written in: CABPT v1alpha3 readers see `ready`.
    const asWritten = await eventually(`${name} ready as v1alpha3`, async () => {
      const read = await w.client.get<V1alpha3Status>(V1ALPHA3.talosConfig, namespace, name);
      return read.status?.ready ? read : undefined;
    });
    expect(asWritten.apiVersion).toBe('bootstrap.cluster.x-k8s.io/v1alpha3');
    expect(asWritten.status?.dataSecretName).toBe(`${name}-bootstrap-data`);
    expect(asWritten.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Machine', name });
  }
});
