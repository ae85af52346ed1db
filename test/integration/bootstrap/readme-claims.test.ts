// What the README says the bootstrap provider does, each shown once against the
// real apiserver: the Events it names, MachinePool configs, the legacy
// finalizer, and talosconfig renewal that needs no periodic resync (the
// in-process manager runs with resync off).
import { X509Certificate } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { SecretKind } from '../../../src/kube/client/resource';
import { MachinePoolKind } from '../../../src/api/capi/v1beta2/resources';
import { V1BETA1 } from '../../../src/api/bootstrap/resources';
import { CLUSTER_NAME_LABEL, type MachinePool } from '../../../src/api/capi/v1beta2/types';
import type { TalosConfig } from '../../../src/api/bootstrap/v1beta1/types';
import { LEGACY_FINALIZER } from '../../../src/bootstrap/reconciler';
import { clusterOwnedSecret } from '../../../src/cluster/secrets';
import { CLIENT_CERTIFICATE_VALIDITY_MS } from '../../../src/talos/config/talosconfig';
import { encodeSecretsBundle, generateSecretsBundle, generateTalosconfig, parseContract } from '../../../src/talos/config';
import {
  createCluster,
  createMachine,
  createNamespace,
  createTalosConfig,
  decode,
  eventually,
  eventsFor,
  getTalosConfig,
  readSecret,
  waitForBootstrapData,
} from '../../support/capi-fixtures';
import { useBootstrapEnvironment } from '../../support/bootstrap-env';

jest.setTimeout(120_000);

const env = useBootstrapEnvironment({ machinePools: true });

test('SecretsBundleCreated on the Cluster when its bundle is made', async () => {
  const ns = await createNamespace(env.client, 'bundleevent');
  const cluster = await createCluster(env.client, ns, 'c');
  const machine = await createMachine(env.client, cluster, 'cp', { controlPlane: true });
  await createTalosConfig(env.client, machine, { generateType: 'controlplane', talosVersion: 'v1.6' });
  await waitForBootstrapData(env.client, ns, 'cp');
  const [event] = await eventsFor(env.client, ns, 'c', 'SecretsBundleCreated');
  expect(event).toMatchObject({ type: 'Normal', note: 'Created the Talos secrets bundle for cluster c', regarding: { kind: 'Cluster' } });
});

test('a misplaced /machine/kernel/args patch is rewritten with a ConfigPatchRewritten Warning', async () => {
  const ns = await createNamespace(env.client, 'rewritten');
  const cluster = await createCluster(env.client, ns, 'c');
  const machine = await createMachine(env.client, cluster, 'w');
  await createTalosConfig(env.client, machine, {
    generateType: 'worker',
    talosVersion: 'v1.11',
    configPatches: [{ op: 'add', path: '/machine/kernel/args', value: ['console=ttyS0'] }],
  });
  const { data } = await waitForBootstrapData(env.client, ns, 'w');
  expect(parseYaml(data.split('\n---\n')[0]!).machine.install.extraKernelArgs).toEqual(['console=ttyS0']);
  const [event] = await eventsFor(env.client, ns, 'w', 'ConfigPatchRewritten');
  expect(event!.type).toBe('Warning');
  expect(event!.note).toContain('/machine/kernel/args');
});

test('a MachinePool config: one worker config in <pool>-bootstrap-data', async () => {
  const ns = await createNamespace(env.client, 'pool');
  await createCluster(env.client, ns, 'c');
  const pool = await env.client.create<MachinePool>(MachinePoolKind, {
    apiVersion: 'cluster.x-k8s.io/v1beta2',
    kind: 'MachinePool',
    metadata: { name: 'workers', namespace: ns, labels: { [CLUSTER_NAME_LABEL]: 'c' } },
    spec: {
      clusterName: 'c',
      replicas: 3,
      template: {
        spec: {
          clusterName: 'c',
          version: 'v1.34.1',
          bootstrap: { configRef: { apiGroup: 'bootstrap.cluster.x-k8s.io', kind: 'TalosConfig', name: 'workers' } },
          infrastructureRef: { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: 'ProxmoxMachinePool', name: 'workers' },
        },
      },
    },
  });
  await env.client.create<TalosConfig>(V1BETA1.talosConfig, {
    apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1',
    kind: 'TalosConfig',
    metadata: {
      name: 'workers',
      namespace: ns,
      labels: { [CLUSTER_NAME_LABEL]: 'c' },
      ownerReferences: [{ apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'MachinePool', name: 'workers', uid: pool.metadata.uid! }],
    },
    spec: { generateType: 'worker', talosVersion: 'v1.13', hostname: { source: 'MachineName' } },
  });
  const { config, data } = await waitForBootstrapData(env.client, ns, 'workers');
  expect(config.status?.dataSecretName).toBe('workers-bootstrap-data');
  const machine = parseYaml(data.split('\n---\n')[0]!).machine;
  expect(machine.type).toBe('worker');
  // One config serves every replica: no per-machine hostname, whatever the hostname source says.
  expect(data).not.toMatch(/hostname: workers/);
  await expect(env.oracle.validate({ config: data, mode: 'container', strict: true })).resolves.toMatchObject({ valid: true });
});

test('the legacy CABPT finalizer is removed, so an old TalosConfig can be deleted', async () => {
  const ns = await createNamespace(env.client, 'finalizer');
  const cluster = await createCluster(env.client, ns, 'c');
  const machine = await createMachine(env.client, cluster, 'w');
  const config = await createTalosConfig(env.client, machine, { generateType: 'worker', talosVersion: 'v1.6' });
  await env.client.patch(V1BETA1.talosConfig, ns, 'w', { metadata: { finalizers: [LEGACY_FINALIZER] } }, 'merge');
  await env.client.delete(V1BETA1.talosConfig, ns, 'w');
  await eventually('the TalosConfig to be gone', async () => {
    try {
      const current = await getTalosConfig(env.client, ns, 'w');
      return current.metadata.uid !== config.metadata.uid;
    } catch {
      return true;
    }
  });
});

test('the talosconfig is renewed at half its certificate life, with no resync to prompt it', async () => {
  const ns = await createNamespace(env.client, 'renewal');
  const cluster = await createCluster(env.client, ns, 'c');
  const bundle = await generateSecretsBundle({ contract: parseContract('v1.6') });
  await env.client.create(SecretKind, clusterOwnedSecret(cluster, 'c-talos', { bundle: encodeSecretsBundle(bundle) }));
  // Issued so that its half-life is a few seconds away.
  const issuedAt = new Date(Date.now() - CLIENT_CERTIFICATE_VALIDITY_MS / 2 + 5_000);
  const old = await generateTalosconfig({ bundle, contextName: 'c', endpoints: [], now: issuedAt });
  const before = await env.client.create(SecretKind, clusterOwnedSecret(cluster, 'c-talosconfig', { talosconfig: old }));
  const machine = await createMachine(env.client, cluster, 'cp', { controlPlane: true });
  await createTalosConfig(env.client, machine, { generateType: 'controlplane', talosVersion: 'v1.6' });
  await waitForBootstrapData(env.client, ns, 'cp');
  expect((await readSecret(env.client, ns, 'c-talosconfig'))!.metadata.resourceVersion).toBe(before.metadata.resourceVersion);

  const renewed = await eventually('the talosconfig renewed', async () => {
    const secret = await readSecret(env.client, ns, 'c-talosconfig');
    return secret!.metadata.resourceVersion !== before.metadata.resourceVersion ? secret : undefined;
  }, { timeoutMs: 40_000 });
  const context = parseYaml(decode(renewed!.data!.talosconfig)).contexts.c;
  const certificate = new X509Certificate(decode(context.crt));
  expect(new Date(certificate.validFrom).getTime()).toBeGreaterThan(issuedAt.getTime() + 60_000);
  expect(certificate.verify(new X509Certificate(bundle.certs.os!.crt).publicKey)).toBe(true);
});
