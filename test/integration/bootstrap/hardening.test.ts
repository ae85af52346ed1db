// What the bootstrap provider refuses, against the real apiserver: it never
// overwrites a Secret that is not its own, never splits a cluster's CAs with a
// second bundle, never trusts a bundle that does not read whole, and every
// failure ends in a condition and a Warning Event (issue 14).
import { parse as parseYaml } from 'yaml';
import { SecretKind } from '../../../src/kube/client/resource';
import { V1BETA1 } from '../../../src/api/bootstrap/resources';
import { setupBootstrapController } from '../../../src/bootstrap/controller';
import { ClusterSecrets } from '../../../src/bootstrap/cluster-secrets';
import { MAX_PATCH_DEPTH } from '../../../src/bootstrap/decisions';
import { CA_VALIDITY_MS, encodeSecretsBundle, generateSecretsBundle, parseContract, type SecretsBundle } from '../../../src/talos/config';
import type { Machine } from '../../../src/api/capi/v1beta2/types';
import type { TalosConfig, TalosConfigSpec } from '../../../src/api/bootstrap/v1beta1/types';
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
  testClient,
  waitForBootstrapData,
  type SecretData,
} from '../../support/capi-fixtures';
import { useBootstrapEnvironment } from '../../support/bootstrap-env';
import { startManager } from '../../support/in-process-manager';

jest.setTimeout(180_000);

// Every new Machine checks the bundle Secret is still there (by default a burst checks once).
const checkingEveryTime = () => new ClusterSecrets(testClient(), { verifyEveryMs: 0 });
const env = useBootstrapEnvironment({ secrets: checkingEveryTime() });
const contract = parseContract('v1.6');
const WORKER: TalosConfigSpec = { generateType: 'worker', talosVersion: 'v1.6' };
const CONTROL_PLANE: TalosConfigSpec = { generateType: 'controlplane', talosVersion: 'v1.6' };

type Found = { type: string; status: string; reason: string; message: string };
const conditionOf = (config: TalosConfig, type: string) => config.status?.conditions?.find((c) => c.type === type) as Found | undefined;

async function waitForReason(namespace: string, name: string, type: string, reason: string, timeoutMs = 30_000): Promise<Found> {
  let last: Found | undefined;
  return eventually(`${type} reason ${reason} on ${namespace}/${name}`, async () => {
    last = conditionOf(await getTalosConfig(env.client, namespace, name), type);
    return last?.status === 'False' && last.reason === reason ? last : undefined;
  }, { timeoutMs }).catch((error: Error) => {
    throw new Error(`${error.message}; last: ${JSON.stringify(last)}`);
  });
}

const machineTypeOf = (data: string) => parseYaml(data.split('\n---\n')[0]!).machine.type as string;

async function createSecret(namespace: string, name: string, data: Record<string, string>, metadata: Record<string, unknown> = {}) {
  return env.client.create<SecretData>(SecretKind, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, ...metadata },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  });
}

/** A TalosConfig made by hand or by GitOps: owned by its Machine, without Cluster API's cluster label. */
async function createUnlabelledConfig(machine: Machine, spec: TalosConfigSpec, name = machine.metadata.name!) {
  return env.client.create<TalosConfig>(V1BETA1.talosConfig, {
    apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1',
    kind: 'TalosConfig',
    metadata: {
      name,
      namespace: machine.metadata.namespace,
      ownerReferences: [{ apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Machine', name: machine.metadata.name!, uid: machine.metadata.uid! }],
    },
    spec,
  });
}

async function clusterWithMachine(prefix: string, options: { controlPlane?: boolean } = {}) {
  const ns = await createNamespace(env.client, prefix);
  const cluster = await createCluster(env.client, ns, 'c');
  const machine = await createMachine(env.client, cluster, 'm', options);
  return { ns, cluster, machine };
}

describe('finding 1: one TalosConfig per Machine', () => {
  test('a second TalosConfig for the same Machine is refused, naming the first; the first keeps its Secret', async () => {
    const { ns, machine } = await clusterWithMachine('twocfg', { controlPlane: true });
    await createTalosConfig(env.client, machine, CONTROL_PLANE, 'first');
    const before = await waitForBootstrapData(env.client, ns, 'first');
    await createTalosConfig(env.client, machine, WORKER, 'second');

    const refused = await waitForReason(ns, 'second', 'DataSecretAvailable', 'OwnerHasAnotherConfig');
    expect(refused.message).toContain('TalosConfig first');
    const events = await eventsFor(env.client, ns, 'second', 'OwnerHasAnotherConfig');
    expect(events[0]).toMatchObject({ type: 'Warning' });
    expect(events[0]!.note).toContain('TalosConfig first');

    const after = await waitForBootstrapData(env.client, ns, 'first');
    expect(after.secret.metadata.resourceVersion).toBe(before.secret.metadata.resourceVersion);
    expect(machineTypeOf(after.data)).toBe('controlplane');
    expect(after.config.status?.dataSecretName).toBe('m-bootstrap-data');
    expect(conditionOf(after.config, 'Ready')?.status).toBe('True');
    expect((await getTalosConfig(env.client, ns, 'second')).status?.initialization?.dataSecretCreated).toBeUndefined();
  });
});

describe('finding 2: Secrets that are not ours are never overwritten', () => {
  test.each([
    ['no owner', {}, /it has no owner/],
    [
      'a controller of another kind',
      { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'someone', uid: '00000000-0000-0000-0000-000000000001', controller: true }] },
      /controlled by ConfigMap someone/,
    ],
    [
      'a non-controller owner',
      { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'someone', uid: '00000000-0000-0000-0000-000000000002' }] },
      /owned, without a controller, by ConfigMap someone/,
    ],
  ])('a <machine>-bootstrap-data Secret with %s is refused and kept', async (_what, metadata, owner) => {
    const { ns, machine } = await clusterWithMachine('foreign');
    const foreign = await createSecret(ns, 'm-bootstrap-data', { value: 'not yours' }, metadata);
    await createTalosConfig(env.client, machine, WORKER);
    const refused = await waitForReason(ns, 'm', 'DataSecretAvailable', 'SecretConflict');
    expect(refused.message).toContain(`Secret ${ns}/m-bootstrap-data`);
    expect(refused.message).toMatch(owner);
    expect((await eventsFor(env.client, ns, 'm', 'SecretConflict'))[0]!.type).toBe('Warning');
    const kept = await readSecret(env.client, ns, 'm-bootstrap-data');
    expect(kept!.metadata.resourceVersion).toBe(foreign.metadata.resourceVersion);
    expect(decode(kept!.data!.value)).toBe('not yours');
    expect(kept!.metadata.ownerReferences ?? []).toEqual((metadata as { ownerReferences?: unknown[] }).ownerReferences ?? []);
  });

  test('a Secret left by a deleted TalosConfig of the same name is taken over', async () => {
    const { ns, machine } = await clusterWithMachine('successor');
    // A config deleted and recreated: the cluster's bundle is still there.
    await bundleSecretWith(ns, await generateSecretsBundle({ contract }));
    const gone = '00000000-0000-0000-0000-00000000dead';
    await createSecret(ns, 'm-bootstrap-data', { value: 'old config' }, {
      ownerReferences: [{ apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1', kind: 'TalosConfig', name: 'm', uid: gone, controller: true }],
    });
    const config = await createTalosConfig(env.client, machine, WORKER);
    const { secret, data } = await waitForBootstrapData(env.client, ns, 'm');
    expect(machineTypeOf(data)).toBe('worker');
    expect(secret.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'TalosConfig', name: 'm', uid: config.metadata.uid, controller: true })]);
  });

  test('a <cluster>-talosconfig Secret with no owner is refused and kept', async () => {
    const { ns, machine } = await clusterWithMachine('foreigntc', { controlPlane: true });
    const foreign = await createSecret(ns, 'c-talosconfig', { talosconfig: 'context: mine\n' });
    await createTalosConfig(env.client, machine, CONTROL_PLANE);
    const refused = await waitForReason(ns, 'm', 'ClientConfigAvailable', 'SecretConflict');
    expect(refused.message).toContain(`Secret ${ns}/c-talosconfig`);
    expect(refused.message).toContain('it has no owner');
    expect((await eventsFor(env.client, ns, 'm', 'SecretConflict'))[0]!.type).toBe('Warning');
    expect((await readSecret(env.client, ns, 'c-talosconfig'))!.metadata.resourceVersion).toBe(foreign.metadata.resourceVersion);
    // The machine's own data is still made: only the talosconfig is refused.
    expect((await getTalosConfig(env.client, ns, 'm')).status?.initialization?.dataSecretCreated).toBe(true);
  });
});

describe('finding 3: a cluster that used a bundle never gets a second one', () => {
  test('bundle deleted, operator restarted, configs unlabelled: a new worker is refused, no new bundle', async () => {
    const { ns, cluster, machine } = await clusterWithMachine('lostbundle', { controlPlane: true });
    await createUnlabelledConfig(machine, CONTROL_PLANE);
    await waitForBootstrapData(env.client, ns, 'm');
    // Only the unlabelled config and its data Secret remain to tell that a bundle was used.
    await env.client.delete(SecretKind, ns, 'c-talos');
    await env.client.delete(SecretKind, ns, 'c-ca');
    await env.manager.stop();
    env.manager = await startManager((m) => setupBootstrapController(m, { secrets: checkingEveryTime() }));

    const worker = await createMachine(env.client, cluster, 'w');
    await createUnlabelledConfig(worker, WORKER);
    const refused = await waitForReason(ns, 'w', 'DataSecretAvailable', 'InvalidSecretsBundle');
    expect(refused.message).toContain(`secrets bundle Secret ${ns}/c-talos is missing`);
    expect((await eventsFor(env.client, ns, 'w', 'InvalidSecretsBundle'))[0]!.type).toBe('Warning');
    expect(await readSecret(env.client, ns, 'c-talos')).toBeUndefined();
    expect(await readSecret(env.client, ns, 'w-bootstrap-data')).toBeUndefined();
  });

  test('bundle deleted while the operator holds it: restored byte for byte with a Warning Event', async () => {
    const { ns, cluster, machine } = await clusterWithMachine('restore', { controlPlane: true });
    await createTalosConfig(env.client, machine, CONTROL_PLANE);
    const first = await waitForBootstrapData(env.client, ns, 'm');
    const original = await readSecret(env.client, ns, 'c-talos');
    await env.client.delete(SecretKind, ns, 'c-talos');

    const worker = await createMachine(env.client, cluster, 'w');
    await createTalosConfig(env.client, worker, WORKER);
    const second = await waitForBootstrapData(env.client, ns, 'w');
    const restored = await readSecret(env.client, ns, 'c-talos');
    expect(restored!.data).toEqual(original!.data);
    expect(restored!.metadata.uid).not.toBe(original!.metadata.uid);
    const event = (await eventsFor(env.client, ns, 'c', 'SecretsBundleRestored'))[0]!;
    expect(event.type).toBe('Warning');
    const caOf = (data: string) => parseYaml(data.split('\n---\n')[0]!).machine.ca.crt;
    expect(caOf(second.data)).toBe(caOf(first.data));
  });
});

async function bundleSecretWith(namespace: string, bundle: SecretsBundle) {
  return createSecret(namespace, 'c-talos', { bundle: encodeSecretsBundle(bundle) }, { labels: { 'cluster.x-k8s.io/cluster-name': 'c' } });
}

describe('finding 4 and the bundle Secret faults: refused with InvalidSecretsBundle naming the Secret and the pair', () => {
  type Pairs = 'os' | 'k8s' | 'etcd' | 'k8sAggregator';
  test.each<[string, Pairs]>([
    ['certs.os', 'os'],
    ['certs.k8s', 'k8s'],
    ['certs.etcd', 'etcd'],
    ['certs.k8saggregator', 'k8sAggregator'],
  ])('%s key from another bundle', async (pairName, pair) => {
    const { ns, machine } = await clusterWithMachine('mismatch');
    const [bundle, other] = await Promise.all([generateSecretsBundle({ contract }), generateSecretsBundle({ contract })]);
    bundle.certs[pair] = { crt: bundle.certs[pair]!.crt, key: other.certs[pair]!.key };
    await bundleSecretWith(ns, bundle);
    await createTalosConfig(env.client, machine, WORKER);
    const refused = await waitForReason(ns, 'm', 'DataSecretAvailable', 'InvalidSecretsBundle');
    expect(refused.message).toContain(`secrets bundle Secret ${ns}/c-talos`);
    expect(refused.message).toContain(`${pairName}: the private key does not belong to the certificate`);
    expect(await readSecret(env.client, ns, 'm-bootstrap-data')).toBeUndefined();
  });

  test('an expired CA, and then the fixed Secret is picked up without touching the TalosConfig', async () => {
    const { ns, machine } = await clusterWithMachine('expired');
    const expired = await generateSecretsBundle({ contract, now: new Date(Date.now() - CA_VALIDITY_MS - 86_400_000) });
    await bundleSecretWith(ns, expired);
    await createTalosConfig(env.client, machine, WORKER);
    const refused = await waitForReason(ns, 'm', 'DataSecretAvailable', 'InvalidSecretsBundle');
    expect(refused.message).toMatch(/certs\.os: the certificate expired on/);

    const good = await generateSecretsBundle({ contract });
    await env.client.delete(SecretKind, ns, 'c-talos');
    await bundleSecretWith(ns, good);
    const { data } = await waitForBootstrapData(env.client, ns, 'm', 90_000);
    expect(parseYaml(data.split('\n---\n')[0]!).machine.token).toBe(good.trustdInfo.token);
  });

  test('an unreadable bundle Secret', async () => {
    const { ns, machine } = await clusterWithMachine('garbage');
    await createSecret(ns, 'c-talos', { bundle: 'certs: [not, a, bundle' });
    await createTalosConfig(env.client, machine, WORKER);
    const refused = await waitForReason(ns, 'm', 'DataSecretAvailable', 'InvalidSecretsBundle');
    expect(refused.message).toContain(`secrets bundle Secret ${ns}/c-talos cannot be read`);
  });
});

describe('finding 5 and input that can never succeed: a condition and an Event, not retried', () => {
  test(`patch values nested ${2000} deep: InvalidConfig naming the patch`, async () => {
    const { ns, machine } = await clusterWithMachine('deep');
    let value: Record<string, unknown> = { leaf: 'x' };
    for (let i = 0; i < 2000; i++) value = { n: value };
    await createTalosConfig(env.client, machine, { ...WORKER, configPatches: [{ op: 'add', path: '/machine/sysctls', value }] });
    const refused = await waitForReason(ns, 'm', 'DataSecretAvailable', 'InvalidConfig');
    expect(refused.message).toContain(`configPatches[0].value nests deeper than ${MAX_PATCH_DEPTH} levels`);
    expect((await eventsFor(env.client, ns, 'm', 'DataSecretGenerationFailed'))[0]!.type).toBe('Warning');
  });

  test('a rendered config over the 1 MiB Secret limit: InvalidConfig naming the size', async () => {
    const { ns, machine } = await clusterWithMachine('huge');
    const content = 'x'.repeat(1_100_000);
    await createTalosConfig(env.client, machine, {
      ...WORKER,
      configPatches: [{ op: 'add', path: '/machine/files', value: [{ content, path: '/var/huge', op: 'create', permissions: 0o644 }] }],
    });
    const refused = await waitForReason(ns, 'm', 'DataSecretAvailable', 'InvalidConfig');
    expect(refused.message).toMatch(/the rendered machine config is \d{7} bytes, more than the 1048576 bytes a Secret can hold/);
    expect(await readSecret(env.client, ns, 'm-bootstrap-data')).toBeUndefined();
  });
});
