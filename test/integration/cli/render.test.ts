// `talos-capi render` against the operator: the same manifests and secrets bundle, once through
// the CLI and once applied to the test bed with the TalosConfig controller running in-process.
// The CLI's output is the bootstrap data Secret's value byte for byte, and a broken patch fails
// with the message of the InvalidConfig condition.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { setupBootstrapController } from '../../../src/bootstrap/controller';
import { V1ALPHA3, V1BETA1 } from '../../../src/api/bootstrap/resources';
import { V1ALPHA3 as CONTROLPLANE_V1ALPHA3, V1BETA1 as CONTROLPLANE_V1BETA1 } from '../../../src/api/controlplane/resources';
import type { TalosControlPlane } from '../../../src/api/controlplane/v1alpha3/types';
import type { TalosControlPlane as HubTalosControlPlane } from '../../../src/api/controlplane/v1beta1/types';
import { MachineKind } from '../../../src/api/capi/v1beta2/resources';
import type { Cluster, Machine } from '../../../src/api/capi/v1beta2/types';
import type { TalosConfig, TalosConfigSpec } from '../../../src/api/bootstrap/v1beta1/types';
import { machineObjects } from '../../../src/controlplane/machine-objects';
import type { KubeClient } from '../../../src/kube/client/client';
import type { Manager } from '../../../src/kube/manager/manager';
import { SecretKind } from '../../../src/kube/client/resource';
import {
  createCluster, createMachine, createNamespace, createTalosConfig, eventsFor, eventually, getTalosConfig, testClient, waitForBootstrapData,
} from '../../support/capi-fixtures';
import { startManager } from '../../support/in-process-manager';
import { runCli as run, SEEDS, seedWithEtcdCA } from '../../unit/cli/cli-harness';

jest.setTimeout(180_000);

let client: KubeClient;
let manager: Manager;
let dir: string;
let secrets: string;

/** A manifest file as Git would hold it: what the user wrote, no server-set fields. */
function manifest(name: string, object: { apiVersion: string; kind: string; metadata: { name?: string; namespace?: string }; spec?: unknown }): string {
  const path = join(dir, name);
  const { apiVersion, kind, metadata, spec } = object;
  writeFileSync(path, stringify({ apiVersion, kind, metadata: { name: metadata.name, namespace: metadata.namespace }, spec }));
  return path;
}

beforeAll(async () => {
  client = testClient();
  manager = await startManager((m) => setupBootstrapController(m));
  dir = mkdtempSync(join(tmpdir(), 'talos-capi-render-'));
  secrets = join(dir, 'secrets.yaml');
  expect((await run('gen', 'secrets', '-o', secrets)).code).toBe(0);
}, 120_000);

afterAll(async () => {
  await manager?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A provisioned Cluster whose `<cluster>-talos` Secret holds the bundle in `secrets`, and its manifest. */
async function clusterWithBundle(prefix: string): Promise<{ namespace: string; cluster: Cluster; clusterFile: string }> {
  const namespace = await createNamespace(client, prefix);
  const cluster = await createCluster(client, namespace, 'c', {
    endpoint: { host: '10.5.0.10', port: 6443 },
    clusterNetwork: { pods: { cidrBlocks: ['10.200.0.0/16'] }, services: { cidrBlocks: ['10.201.0.0/16'] }, serviceDomain: 'c.internal' },
  });
  await client.create(SecretKind, {
    apiVersion: 'v1', kind: 'Secret', metadata: { name: 'c-talos', namespace },
    data: { bundle: Buffer.from(readFileSync(secrets, 'utf8')).toString('base64') },
  });
  return { namespace, cluster, clusterFile: manifest(`${namespace}-cluster.yaml`, cluster) };
}

/** Cluster API's Machine controller makes the Machine the TalosConfig's owner; the test bed runs none, so we do. */
async function adopt(config: { metadata: { namespace?: string; name?: string; ownerReferences?: unknown[] } }, machine: Machine): Promise<void> {
  const ownerReferences = [...(config.metadata.ownerReferences ?? []), { apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Machine', name: machine.metadata.name!, uid: machine.metadata.uid! }];
  await client.patch(V1BETA1.talosConfig, config.metadata.namespace!, config.metadata.name!, { metadata: { ownerReferences } }, 'merge');
}

describe('talos-capi render prints what the operator writes', () => {
  it('a seed TalosConfig (v1alpha3) for a control-plane Machine: the same bytes, and its rewrite Event on stderr', async () => {
    const { namespace, cluster, clusterFile } = await clusterWithBundle('render-seed');
    const seedFile = join(SEEDS, '000-talosconfig-controlplane-config.yaml');
    const seed = parseYaml(readFileSync(seedFile, 'utf8')) as TalosConfig;
    const config = await client.create<TalosConfig>(V1ALPHA3.talosConfig, { ...seed, metadata: { ...seed.metadata, namespace } });
    const machine = await createMachine(client, cluster, 'cp-0', { controlPlane: true, configName: config.metadata.name!, version: 'v1.34.1' });
    await adopt(config, machine);
    const { data } = await waitForBootstrapData(client, namespace, config.metadata.name!);

    const result = await run('render', '-f', seedFile, '--cluster', clusterFile, '--machine', manifest('cp-0.yaml', machine), '--secrets', secrets);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(data);
    const events = await eventsFor(client, namespace, config.metadata.name!, 'ConfigPatchRewritten');
    expect(result.stderr).toBe(events.map((event) => `talos-capi: warning: ${event.note}\n`).join(''));
  });

  it('a v1beta1 worker config with a strategic patch, a hostname from the Machine name and the Equinix Metal marker', async () => {
    const { namespace, cluster, clusterFile } = await clusterWithBundle('render-worker');
    const machine = await createMachine(client, cluster, 'worker-0', { version: 'v1.33.2', infraKind: 'PacketMachine' });
    const spec: TalosConfigSpec = {
      generateType: 'worker', talosVersion: 'v1.11', hostname: { source: 'MachineName' },
      strategicPatches: ['machine:\n  time:\n    servers: [time.example]\n'],
      configPatches: [{ op: 'add', path: '/machine/install/disk', value: '/dev/vdb' }],
    };
    const config = await createTalosConfig(client, machine, spec);
    const { data } = await waitForBootstrapData(client, namespace, config.metadata.name!);
    expect(data.startsWith('#!talos\n')).toBe(true);

    const result = await run('render', '-f', manifest('worker.yaml', config), '--cluster', clusterFile, '--machine', manifest('worker-0.yaml', machine), '--secrets', secrets);
    expect(result).toEqual({ code: 0, stdout: data, stderr: '' });
  });

  it('the first Machine of a seed TalosControlPlane, as the control-plane provider builds its TalosConfig and Machine', async () => {
    const { namespace, cluster, clusterFile } = await clusterWithBundle('render-tcp');
    const tcpFile = join(dir, 'tcp.yaml');
    writeFileSync(tcpFile, seedWithEtcdCA('000-taloscontrolplane-production-control-plane.yaml', secrets));
    const written = parseYaml(readFileSync(tcpFile, 'utf8')) as TalosControlPlane;
    const tcp = await client.create<TalosControlPlane>(CONTROLPLANE_V1ALPHA3.talosControlPlane, { ...written, metadata: { ...written.metadata, namespace } });
    const ref = tcp.spec.infrastructureTemplate;
    const template = { apiVersion: ref.apiVersion!, kind: ref.kind!, metadata: { name: ref.name, namespace }, spec: { template: { spec: {} } } };
    const hub = await client.get<HubTalosControlPlane>(CONTROLPLANE_V1BETA1.talosControlPlane, namespace, tcp.metadata.name!);
    const objects = machineObjects({ tcp: hub, clusterName: cluster.metadata.name!, template, name: 'production-control-plane-x7k2p', first: true });
    const config = await client.create<TalosConfig>(V1ALPHA3.talosConfig, objects.talosConfig as TalosConfig);
    const machine = await client.create<Machine>(MachineKind, objects.machine);
    await adopt(config, machine);
    const { data } = await waitForBootstrapData(client, namespace, config.metadata.name!);

    const result = await run('render', '-f', tcpFile, '--cluster', clusterFile, '--first', '--hostname', machine.metadata.name!, '--secrets', secrets);
    expect(result).toEqual({ code: 0, stdout: data, stderr: '' });
  });

  it('a broken patch: exit 2 with the message of the InvalidConfig condition', async () => {
    const { namespace, cluster, clusterFile } = await clusterWithBundle('render-bad');
    const machine = await createMachine(client, cluster, 'bad-0');
    const config = await createTalosConfig(client, machine, {
      generateType: 'worker', configPatches: [{ op: 'replace', path: '/machine/network/hostname/deeper', value: 'x' }],
    });
    const condition = await eventually('InvalidConfig', async () => {
      const found = (await getTalosConfig(client, namespace, config.metadata.name!)).status?.conditions?.find((c) => c.type === 'DataSecretAvailable');
      return found?.reason === 'InvalidConfig' ? found : undefined;
    });

    const result = await run('render', '-f', manifest('bad.yaml', config), '--cluster', clusterFile, '--machine', manifest('bad-0.yaml', machine), '--secrets', secrets);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    const message = condition.message ?? '';
    expect(message).toMatch(/^Data secret generation failed: configPatches\[0\] \(replace \/machine\/network\/hostname\/deeper\)/);
    expect(result.stderr).toBe(`talos-capi: InvalidConfig: ${message.replace('Data secret generation failed: ', '')}\n`);
  });
});
