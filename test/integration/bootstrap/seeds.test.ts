// The seed documents' manifests, applied as they are written (v1alpha3), reach
// dataSecretCreated and give configs Talos's own validator accepts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { V1ALPHA3, V1BETA1 } from '../../../src/api/bootstrap/resources';
import type { TalosConfig } from '../../../src/api/bootstrap/v1beta1/types';
import { createCluster, createMachine, createNamespace, eventually, waitForBootstrapData } from '../../support/capi-fixtures';
import { useBootstrapEnvironment } from '../../support/bootstrap-env';

jest.setTimeout(300_000);

const SEEDS = join(__dirname, '..', '..', 'fixtures', 'seeds');
const seed = (file: string) => parseYaml(readFileSync(join(SEEDS, file), 'utf8'));

const env = useBootstrapEnvironment();

/** Cluster API's Machine controller makes the Machine the TalosConfig's owner; the test bed runs none, so we do. */
async function adopt(namespace: string, configName: string, machineName: string, machineUid: string): Promise<void> {
  await env.client.patch(V1BETA1.talosConfig, namespace, configName, {
    metadata: { ownerReferences: [{ apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Machine', name: machineName, uid: machineUid }] },
  }, 'merge');
}

/**
 * Talos loads and validates it (metal mode: the seeds install to disk). The seeds use
 * machine.install.extensions, which Talos still applies but deprecates: that warning, and only
 * that one, is expected.
 */
async function expectTalosAccepts(config: string): Promise<void> {
  const result = await env.oracle.validate({ config, mode: 'metal', strict: false });
  expect({ loadError: result.loadError, errors: result.errors }).toEqual({ loadError: undefined, errors: [] });
  for (const warning of result.warnings) expect(warning).toMatch(/\.machine\.install\.extensions is deprecated/);
}

const v1alpha1 = (text: string) => parseAllDocuments(text).map((d) => d.toJS()).find((d) => d?.version === 'v1alpha1');

test.each([
  ['000-talosconfig-controlplane-config.yaml', true],
  ['000-talosconfig-worker-node-bootstrap.yaml', false],
])('seed %s, applied verbatim as v1alpha3, becomes a valid machine config', async (file, controlPlane) => {
  const manifest = seed(file) as TalosConfig;
  const ns = await createNamespace(env.client, 'seed');
  const cluster = await createCluster(env.client, ns, 'proxmox', { endpoint: { host: '192.168.1.99', port: 6443 } });
  await env.client.create(V1ALPHA3.talosConfig, { ...manifest, metadata: { ...manifest.metadata, namespace: ns } });
  const machine = await createMachine(env.client, cluster, `${manifest.metadata.name}-m`, { controlPlane, configName: manifest.metadata.name! });
  await adopt(ns, manifest.metadata.name!, machine.metadata.name!, machine.metadata.uid!);

  const { data } = await waitForBootstrapData(env.client, ns, manifest.metadata.name!);
  await expectTalosAccepts(data);
  const doc = v1alpha1(data);
  expect(doc.machine.install.disk).toBe('/dev/sda');
  expect(doc.machine.type).toBe(controlPlane ? 'controlplane' : 'worker');
  if (controlPlane) {
    expect(doc.machine.install.extraKernelArgs).toEqual(['net.ifnames=0', 'console=tty0', 'console=ttyS0']);
    expect(doc.machine.install.extensions).toEqual([{ image: 'ghcr.io/siderolabs/qemu-guest-agent:9.0.0' }]);
  } else {
    expect(doc.machine.network.interfaces).toEqual([{ interface: 'eth0', dhcp: true }]);
  }
  // Read back in the version it was written in: CABPT v1alpha3 readers see `ready`.
  const asV1alpha3 = await eventually('v1alpha3 status.ready', async () => {
    const read = await env.client.get<{ status?: { ready?: boolean; dataSecretName?: string } } & TalosConfig>(V1ALPHA3.talosConfig, ns, manifest.metadata.name!);
    return read.status?.ready ? read : undefined;
  });
  expect(asV1alpha3.status?.dataSecretName).toBe(`${machine.metadata.name}-bootstrap-data`);
});

test.each([1, 2, 3, 4])('seed configPatches fragment %i works on a control-plane config', async (n) => {
  const fragment = seed(`000-configpatches-${n}.yaml`) as { configPatches: TalosConfig['spec']['configPatches'] };
  const ns = await createNamespace(env.client, 'fragment');
  const cluster = await createCluster(env.client, ns, 'proxmox', { endpoint: { host: '192.168.1.99', port: 6443 } });
  const name = `fragment-${n}`;
  await env.client.create(V1ALPHA3.talosConfig, {
    apiVersion: 'bootstrap.cluster.x-k8s.io/v1alpha3',
    kind: 'TalosConfig',
    metadata: { name, namespace: ns },
    spec: { generateType: 'controlplane', talosVersion: 'v1.7.0', configPatches: [{ op: 'add', path: '/machine/install/disk', value: '/dev/sda' }, ...fragment.configPatches!] },
  });
  const machine = await createMachine(env.client, cluster, `${name}-m`, { configName: name, controlPlane: true });
  await adopt(ns, name, machine.metadata.name!, machine.metadata.uid!);
  const { data } = await waitForBootstrapData(env.client, ns, name);
  await expectTalosAccepts(data);
});
