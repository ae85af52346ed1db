// The bootstrap provider against the real apiserver: CABPT's integration
// cases (cabpt.md §5) plus the places where we go past it. Every generated
// config is loaded and strictly validated by Talos's own library (the oracle).
import { X509Certificate } from 'node:crypto';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { SecretKind } from '../../../src/kube/client/resource';
import { encodeSecretsBundle, generateSecretsBundle, parseContract, renderMachineConfig, loadSecretsBundle } from '../../../src/talos/config';
import type { Cluster } from '../../../src/api/capi/v1beta2/types';
import { V1BETA1 } from '../../../src/api/bootstrap/resources';
import {
  createCluster,
  createMachine,
  createNamespace,
  createTalosConfig,
  decode,
  eventually,
  eventsFor,
  getTalosConfig,
  patchCluster,
  readSecret,
  setClusterStatus,
  setMachineAddresses,
  waitForBootstrapData,
} from '../../support/capi-fixtures';
import { useBootstrapEnvironment } from '../../support/bootstrap-env';

jest.setTimeout(180_000);

const env = useBootstrapEnvironment({ machinePools: true });

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered YAML is navigated freely; a wrong path fails the assertion
type Doc = Record<string, any>;
const documents = (text: string): Doc[] => parseAllDocuments(text.replace(/^#!talos\n/, '')).map((d) => d.toJS() as Doc).filter(Boolean);
const v1alpha1 = (text: string): Doc => documents(text).find((d) => d.version === 'v1alpha1')!;
/** The control-plane endpoint, from the v1alpha1 document or (contract 1.14+) KubeClusterConfig. */
const endpointOf = (text: string): string | undefined =>
  v1alpha1(text)?.cluster?.controlPlane?.endpoint ?? documents(text).find((d) => d.kind === 'KubeClusterConfig')?.endpoint;
const condition = (config: { status?: { conditions?: { type: string }[] } }, type: string) => config.status?.conditions?.find((c) => c.type === type) as
  | { type: string; status: string; reason: string; message: string }
  | undefined;

/** Talos's own loader and validator (no install disk: as CABPT's tests validate). */
async function expectTalosAccepts(config: string): Promise<void> {
  const result = await env.oracle.validate({ config: config.replace(/^#!talos\n/, ''), mode: 'container', strict: true });
  expect({ loadError: result.loadError, errors: result.errors }).toEqual({ loadError: undefined, errors: [] });
  expect(result.valid).toBe(true);
}

/** Reconciles the TalosConfig controller has finished, successful or not. */
async function reconciles(): Promise<number> {
  const { values } = await env.manager.metrics.reconcileTotal.get();
  return values.filter((v) => v.labels.controller === 'talosconfig').reduce((sum, v) => sum + v.value, 0);
}

async function waitForCondition(namespace: string, name: string, type: string, status: string) {
  return eventually(`${type}=${status} on ${namespace}/${name}`, async () => {
    const config = await getTalosConfig(env.client, namespace, name);
    const found = condition(config, type);
    return found?.status === status ? { config, condition: found } : undefined;
  });
}

describe('single node and a full cluster', () => {
  test('init with no talosVersion: valid config, CA, bundle and an endpoint-less talosconfig', async () => {
    const ns = await createNamespace(env.client, 'single');
    const cluster = await createCluster(env.client, ns, 'c1');
    const machine = await createMachine(env.client, cluster, 'cp-0', { controlPlane: true });
    await createTalosConfig(env.client, machine, { generateType: 'init' });

    const { config, secret, data } = await waitForBootstrapData(env.client, ns, 'cp-0');
    expect(config.status?.dataSecretName).toBe('cp-0-bootstrap-data');
    expect(Object.keys(secret.data ?? {})).toEqual(['value']);
    expect(Buffer.byteLength(data)).toBeLessThan(32 * 1024);
    expect(secret.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'TalosConfig', name: 'cp-0', controller: true });
    const doc = v1alpha1(data);
    expect(doc.machine.type).toBe('init');
    expect(endpointOf(data)).toBe('https://c1.example.com:6443');
    await expectTalosAccepts(data);

    // The newest contract spreads the cluster section over documents: look for the values anywhere.
    const bundleSecret = await readSecret(env.client, ns, 'c1-talos');
    expect(Object.keys(bundleSecret!.data!)).toEqual(['bundle']);
    const bundle = loadSecretsBundle(decode(bundleSecret!.data!.bundle));
    for (const value of [bundle.secrets.bootstrapToken, bundle.trustdInfo.token, bundle.cluster.id]) expect(data).toContain(value);
    // Certificates appear base64-encoded (v1alpha1) or as PEM blocks (1.14 documents).
    const carries = (pem: string) => data.includes(Buffer.from(pem).toString('base64')) || data.includes(pem.split('\n')[1]!);
    expect(carries(bundle.certs.k8s!.crt)).toBe(true);
    expect(carries(bundle.certs.os!.crt)).toBe(true);
    const ca = await readSecret(env.client, ns, 'c1-ca');
    expect(Object.keys(ca!.data!).sort()).toEqual(['tls.crt', 'tls.key']);
    expect(decode(ca!.data!['tls.crt'])).toBe(bundle.certs.k8s!.crt);
    expect(decode(ca!.data!['tls.key'])).toBe(bundle.certs.k8s!.key);

    await waitForCondition(ns, 'cp-0', 'ClientConfigAvailable', 'True');
    const talosconfig = parseYaml(decode((await readSecret(env.client, ns, 'c1-talosconfig'))!.data!.talosconfig));
    expect(Object.keys(talosconfig.contexts)).toEqual(['c1']);
    expect(talosconfig.contexts.c1.endpoints).toEqual([]);
    expect(talosconfig.contexts.c1.ca && talosconfig.contexts.c1.crt && talosconfig.contexts.c1.key).toBeTruthy();

    const ready = await waitForCondition(ns, 'cp-0', 'Ready', 'True');
    expect(ready.config.status?.deprecated?.v1beta1?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  test('1 init + 2 controlplane + 4 workers share one bundle; talosconfig lists the control-plane IPs', async () => {
    const ns = await createNamespace(env.client, 'cluster');
    const cluster = await createCluster(env.client, ns, 'c2');
    const specs: Array<[string, string, boolean]> = [
      ['cp-0', 'init', true], ['cp-1', 'controlplane', true], ['cp-2', 'controlplane', true],
      ['w-0', 'worker', false], ['w-1', 'worker', false], ['w-2', 'join', false], ['w-3', 'worker', false],
    ];
    const machines = await Promise.all(specs.map(([name, , controlPlane]) => createMachine(env.client, cluster, name, { controlPlane })));
    await Promise.all(specs.map(([, generateType], i) => createTalosConfig(env.client, machines[i]!, { generateType, talosVersion: 'v1.13' })));
    const results = await Promise.all(specs.map(([name]) => waitForBootstrapData(env.client, ns, name)));

    const docs = results.map((r) => v1alpha1(r.data));
    expect(docs.map((d) => d.machine.type)).toEqual(['init', 'controlplane', 'controlplane', 'worker', 'worker', 'worker', 'worker']);
    for (const doc of docs) {
      expect(doc.machine.token).toBe(docs[0]!.machine.token);
      expect(doc.machine.ca.crt).toBe(docs[0]!.machine.ca.crt);
      expect(doc.cluster.id).toBe(docs[0]!.cluster.id);
      expect(doc.cluster.secret).toBe(docs[0]!.cluster.secret);
      expect(doc.cluster.token).toBe(docs[0]!.cluster.token);
      expect(doc.cluster.ca.crt).toBe(docs[0]!.cluster.ca.crt);
      expect(doc.cluster.controlPlane.endpoint).toBe('https://c2.example.com:6443');
    }
    // Control-plane configs carry the same CA keys and encryption secret.
    expect(new Set(docs.slice(0, 3).map((d) => JSON.stringify([d.cluster.ca, d.cluster.etcd.ca, d.cluster.secretboxEncryptionSecret]))).size).toBe(1);
    for (const { data } of results) await expectTalosAccepts(data);
    const bundles = (await env.client.list(SecretKind, { namespace: ns })).items.filter((s) => s.metadata.name?.endsWith('-talos'));
    expect(bundles.map((s) => s.metadata.name)).toEqual(['c2-talos']);

    await Promise.all([
      setMachineAddresses(env.client, machines[0]!, [{ type: 'ExternalIP', address: '10.5.0.3' }, { type: 'Hostname', address: 'cp-0' }]),
      setMachineAddresses(env.client, machines[1]!, [{ type: 'ExternalIP', address: '10.5.0.2' }]),
      setMachineAddresses(env.client, machines[2]!, [{ type: 'InternalIP', address: '10.5.0.4' }]),
      setMachineAddresses(env.client, machines[3]!, [{ type: 'ExternalIP', address: '10.5.0.9' }]),
    ]);
    await eventually('talosconfig endpoints of the three control-plane machines', async () => {
      const secret = await readSecret(env.client, ns, 'c2-talosconfig');
      const endpoints = secret ? parseYaml(decode(secret.data?.talosconfig)).contexts.c2.endpoints : [];
      return JSON.stringify(endpoints) === JSON.stringify(['10.5.0.2', '10.5.0.3', '10.5.0.4']);
    });
  });

  test('cluster spec overrides: dual-stack CIDRs, DNS domain, a DNS endpoint', async () => {
    const ns = await createNamespace(env.client, 'spec');
    const cluster = await createCluster(env.client, ns, 'c3', {
      endpoint: { host: 'example.com', port: 443 },
      clusterNetwork: {
        serviceDomain: 'mycluster.local',
        pods: { cidrBlocks: ['192.168.0.0/16', 'fd00:10:244::/56'] },
        services: { cidrBlocks: ['10.128.0.0/12', 'fd00:10:96::/112'] },
      },
    });
    const machine = await createMachine(env.client, cluster, 'cp-0', { controlPlane: true });
    await createTalosConfig(env.client, machine, { generateType: 'controlplane', talosVersion: 'v1.12' });
    const { data } = await waitForBootstrapData(env.client, ns, 'cp-0');
    const doc = v1alpha1(data);
    expect(doc.cluster.network.dnsDomain).toBe('mycluster.local');
    expect(doc.cluster.network.podSubnets).toEqual(['192.168.0.0/16', 'fd00:10:244::/56']);
    expect(doc.cluster.network.serviceSubnets).toEqual(['10.128.0.0/12', 'fd00:10:96::/112']);
    expect(doc.cluster.controlPlane.endpoint).toBe('https://example.com:443');
    await expectTalosAccepts(data);
  });
});

describe('patches', () => {
  async function generatedWith(prefix: string, spec: Parameters<typeof createTalosConfig>[2]) {
    const ns = await createNamespace(env.client, prefix);
    const cluster = await createCluster(env.client, ns, 'c');
    const machine = await createMachine(env.client, cluster, 'm', { controlPlane: spec.generateType !== 'worker' });
    await createTalosConfig(env.client, machine, spec);
    return { ns, cluster, machine, ...(await waitForBootstrapData(env.client, ns, 'm')) };
  }

  test('strategic merge patches: a HostnameConfig document and time servers', async () => {
    const { data } = await generatedWith('smp', {
      generateType: 'controlplane',
      talosVersion: 'v1.13',
      strategicPatches: [
        'apiVersion: v1alpha1\nkind: HostnameConfig\nauto: "off"\nhostname: foo.bar\n',
        'machine:\n  time:\n    servers:\n      - time.cloudflare.com\n',
      ],
    });
    expect(documents(data).find((d) => d.kind === 'HostnameConfig')?.hostname).toBe('foo.bar');
    expect(v1alpha1(data).machine.time.servers).toEqual(['time.cloudflare.com']);
    await expectTalosAccepts(data);
  });

  test('strategic merge patch with $patch: delete removes the PodSecurity admission plugin', async () => {
    const { data } = await generatedWith('smpdel', {
      generateType: 'controlplane',
      talosVersion: 'v1.13',
      strategicPatches: ['cluster:\n  apiServer:\n    admissionControl:\n      - name: PodSecurity\n        $patch: delete\n'],
    });
    expect(v1alpha1(data).cluster.apiServer.admissionControl ?? []).toEqual([]);
    await expectTalosAccepts(data);
  });

  test('RFC 6902 configPatches work on multi-document configs (CABPT fails them)', async () => {
    const { data } = await generatedWith('json6902', {
      generateType: 'worker',
      talosVersion: 'v1.13',
      configPatches: [
        { op: 'add', path: '/machine/install/extraKernelArgs', value: ['console=ttyS0'] },
        { op: 'replace', path: '/machine/install/disk', value: '/dev/vda' },
      ],
    });
    const doc = v1alpha1(data);
    expect(doc.machine.install.disk).toBe('/dev/vda');
    expect(doc.machine.install.extraKernelArgs).toEqual(['console=ttyS0']);
    expect(documents(data).length).toBeGreaterThan(1);
    await expectTalosAccepts(data);
  });

  test('a broken patch: condition and Event name the patch and path; no Secret; recreate with a fixed spec works', async () => {
    const ns = await createNamespace(env.client, 'badpatch');
    const cluster = await createCluster(env.client, ns, 'c');
    const machine = await createMachine(env.client, cluster, 'w', {});
    const bad = await createTalosConfig(env.client, machine, {
      generateType: 'worker',
      talosVersion: 'v1.13',
      configPatches: [
        { op: 'add', path: '/machine/sysctls', value: { 'net.ipv4.ip_forward': '1' } },
        { op: 'replace', path: '/machine/nonexistent/field', value: 1 },
      ],
    });
    const failed = await waitForCondition(ns, 'w', 'DataSecretAvailable', 'False');
    expect(failed.condition.reason).toBe('InvalidConfig');
    expect(failed.condition.message).toMatch(/^Data secret generation failed: .*configPatches\[1\].*\/machine\/nonexistent\/field/);
    expect(await readSecret(env.client, ns, 'w-bootstrap-data')).toBeUndefined();
    const events = await eventsFor(env.client, ns, 'w', 'DataSecretGenerationFailed');
    expect(events[0]!.type).toBe('Warning');
    expect(events[0]!.note).toMatch(/configPatches\[1\]/);

    await env.client.delete(V1BETA1.talosConfig, ns, 'w');
    await eventually('the broken TalosConfig to go', async () => !(await readSecretless(ns, 'w')));
    await createTalosConfig(env.client, machine, { ...bad.spec, configPatches: [bad.spec.configPatches![0]!] });
    const { data } = await waitForBootstrapData(env.client, ns, 'w');
    expect(v1alpha1(data).machine.sysctls).toEqual({ 'net.ipv4.ip_forward': '1' });
    await expectTalosAccepts(data);
  });
});

async function readSecretless(namespace: string, name: string): Promise<boolean> {
  try {
    await getTalosConfig(env.client, namespace, name);
    return true;
  } catch {
    return false;
  }
}

describe('hostname, pause, waiting, adoption', () => {
  test.each([
    ['MachineName', 'worker-a'],
    ['InfrastructureName', 'worker-a-infra'],
  ])('hostname from %s (HostnameConfig on 1.12+, the v1alpha1 field before)', async (source, expected) => {
    const ns = await createNamespace(env.client, 'hostname');
    const cluster = await createCluster(env.client, ns, 'c');
    const machine = await createMachine(env.client, cluster, 'worker-a');
    const old = await createMachine(env.client, cluster, 'worker-b', { infraName: 'worker-b-infra' });
    await createTalosConfig(env.client, machine, { generateType: 'worker', talosVersion: 'v1.13', hostname: { source } });
    await createTalosConfig(env.client, old, { generateType: 'worker', talosVersion: 'v1.11', hostname: { source } });
    const { data } = await waitForBootstrapData(env.client, ns, 'worker-a');
    const hostnameDoc = documents(data).find((d) => d.kind === 'HostnameConfig');
    expect(hostnameDoc).toMatchObject({ hostname: expected, auto: 'off' });
    expect(v1alpha1(data).machine.network?.hostname).toBeUndefined();
    await expectTalosAccepts(data);
    const legacy = await waitForBootstrapData(env.client, ns, 'worker-b');
    expect(v1alpha1(legacy.data).machine.network.hostname).toBe(expected.replace('-a', '-b'));
    expect(documents(legacy.data).some((d) => d.kind === 'HostnameConfig')).toBe(false);
    await expectTalosAccepts(legacy.data);
  });

  test('hostname with no talosVersion gives a config Talos accepts (CABPT writes both forms)', async () => {
    const ns = await createNamespace(env.client, 'hostnamedefault');
    const cluster = await createCluster(env.client, ns, 'c');
    const machine = await createMachine(env.client, cluster, 'node-1');
    await createTalosConfig(env.client, machine, { generateType: 'worker', hostname: { source: 'MachineName' } });
    const { data } = await waitForBootstrapData(env.client, ns, 'node-1');
    await expectTalosAccepts(data);
  });

  test('paused Cluster: Paused condition, nothing generated; unpaused: generated', async () => {
    const ns = await createNamespace(env.client, 'paused');
    const cluster = await createCluster(env.client, ns, 'c', { paused: true });
    const machine = await createMachine(env.client, cluster, 'm');
    await createTalosConfig(env.client, machine, { generateType: 'worker', talosVersion: 'v1.13' });
    await waitForCondition(ns, 'm', 'Paused', 'True');
    expect((await getTalosConfig(env.client, ns, 'm')).status?.initialization?.dataSecretCreated).toBeUndefined();
    await patchCluster(env.client, cluster, { spec: { paused: false } });
    await waitForBootstrapData(env.client, ns, 'm');
    await waitForCondition(ns, 'm', 'Paused', 'False');
  });

  test('waits for infrastructure, then for the control-plane endpoint; never renders https://:0', async () => {
    const ns = await createNamespace(env.client, 'waiting');
    const cluster = await createCluster(env.client, ns, 'c', { provisioned: false, endpoint: undefined });
    const machine = await createMachine(env.client, cluster, 'm');
    await createTalosConfig(env.client, machine, { generateType: 'worker', talosVersion: 'v1.13' });
    const first = await waitForCondition(ns, 'm', 'DataSecretAvailable', 'False');
    expect(first.condition.message).toBe('Waiting for the cluster infrastructure to be ready');
    expect((await eventsFor(env.client, ns, 'm', 'WaitingForCluster'))[0]!.note).toBe('Waiting for the cluster infrastructure to be ready');
    await setClusterStatus(env.client, cluster, { initialization: { infrastructureProvisioned: true } });
    await eventually('waiting for the endpoint', async () => {
      const c = condition(await getTalosConfig(env.client, ns, 'm'), 'DataSecretAvailable');
      return c?.message === 'Waiting for the cluster control plane endpoint to be set';
    });
    await patchCluster(env.client, cluster, { spec: { controlPlaneEndpoint: { host: '10.0.0.100', port: 6443 } } });
    const { data } = await waitForBootstrapData(env.client, ns, 'm');
    expect(v1alpha1(data).cluster.controlPlane.endpoint).toBe('https://10.0.0.100:6443');
    expect((await eventsFor(env.client, ns, 'm', 'DataSecretGenerated'))[0]).toMatchObject({ type: 'Normal', note: 'Generated bootstrap data Secret m-bootstrap-data' });
  });

  test('a Machine that already names its data secret (pivot) is adopted, nothing generated', async () => {
    const ns = await createNamespace(env.client, 'pivot');
    const cluster = await createCluster(env.client, ns, 'c');
    const machine = await createMachine(env.client, cluster, 'm', { dataSecretName: 'restored-data' });
    await createTalosConfig(env.client, machine, { generateType: 'worker' });
    const config = await eventually('adoption', async () => {
      const current = await getTalosConfig(env.client, ns, 'm');
      return current.status?.initialization?.dataSecretCreated ? current : undefined;
    });
    expect(config.status?.dataSecretName).toBe('restored-data');
    expect(await readSecret(env.client, ns, 'm-bootstrap-data')).toBeUndefined();
    expect(await readSecret(env.client, ns, 'c-talos')).toBeUndefined();
  });

  test('Packet machines get the #!talos marker', async () => {
    const ns = await createNamespace(env.client, 'packet');
    const cluster = await createCluster(env.client, ns, 'c');
    const machine = await createMachine(env.client, cluster, 'm', { infraKind: 'PacketMachine' });
    await createTalosConfig(env.client, machine, { generateType: 'worker', talosVersion: 'v1.13' });
    const { data } = await waitForBootstrapData(env.client, ns, 'm');
    expect(data.startsWith('#!talos\n')).toBe(true);
    await expectTalosAccepts(data);
  });
});

describe('existing secrets and user configs', () => {
  test('a legacy certs/kubeSecrets/trustdInfo bundle Secret is reused as is', async () => {
    const ns = await createNamespace(env.client, 'legacy');
    const cluster = await createCluster(env.client, ns, 'c');
    const bundle = await generateSecretsBundle({ contract: parseContract('v1.3') });
    const encoded = parseYaml(encodeSecretsBundle(bundle));
    const yaml = await import('yaml');
    // CABPT's pre-bundle layout: the bundle's three sections under their old key names.
    const legacy = { certs: encoded.certs, kubeSecrets: encoded.secrets, trustdInfo: encoded.trustdinfo };
    await env.client.create(SecretKind, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'c-talos', namespace: ns, labels: { 'cluster.x-k8s.io/cluster-name': 'c' } },
      data: Object.fromEntries(Object.entries(legacy).map(([k, v]) => [k, Buffer.from(yaml.stringify(v)).toString('base64')])),
    });
    const machine = await createMachine(env.client, cluster, 'cp', { controlPlane: true });
    await createTalosConfig(env.client, machine, { generateType: 'controlplane', talosVersion: 'v1.3' });
    const { data } = await waitForBootstrapData(env.client, ns, 'cp');
    const doc = v1alpha1(data);
    expect(doc.machine.token).toBe(bundle.trustdInfo.token);
    expect(doc.cluster.token).toBe(bundle.secrets.bootstrapToken);
    expect(decode(doc.cluster.ca.crt)).toBe(bundle.certs.k8s!.crt);
    expect(decode(doc.machine.ca.crt)).toBe(bundle.certs.os!.crt);
    const stored = await readSecret(env.client, ns, 'c-talos');
    expect(Object.keys(stored!.data!).sort()).toEqual(['certs', 'kubeSecrets', 'trustdInfo']);
  });

  test('generateType none passes user configs through; the control plane writes the CA and a talosconfig', async () => {
    const ns = await createNamespace(env.client, 'none');
    const cluster = await createCluster(env.client, ns, 'c');
    const contract = parseContract('v1.13');
    const bundle = await generateSecretsBundle({ contract });
    const render = (machineType: 'controlplane' | 'worker') =>
      renderMachineConfig({ clusterName: 'c', endpoint: 'https://c.example.com:6443', kubernetesVersion: '1.34.1', contract, bundle, machineType });
    const cp = await createMachine(env.client, cluster, 'cp', { controlPlane: true });
    const worker = await createMachine(env.client, cluster, 'w');
    await createTalosConfig(env.client, cp, { generateType: 'none', data: render('controlplane') });
    await createTalosConfig(env.client, worker, { generateType: 'none', data: render('worker') });
    const cpData = await waitForBootstrapData(env.client, ns, 'cp');
    const workerData = await waitForBootstrapData(env.client, ns, 'w');
    expect(v1alpha1(cpData.data)).toEqual(v1alpha1(render('controlplane')));
    expect(v1alpha1(workerData.data).machine.type).toBe('worker');
    const ca = await readSecret(env.client, ns, 'c-ca');
    expect(decode(ca!.data!['tls.crt'])).toBe(bundle.certs.k8s!.crt);
    expect(await readSecret(env.client, ns, 'c-talos')).toBeUndefined();
    const talosconfig = await eventually('talosconfig for a none control plane', () => readSecret(env.client, ns, 'c-talosconfig'));
    const context = parseYaml(decode(talosconfig.data!.talosconfig)).contexts.c;
    const clientCert = new X509Certificate(decode(context.crt));
    expect(clientCert.verify(new X509Certificate(bundle.certs.os!.crt).publicKey)).toBe(true);
  });

  test('the talosconfig is not rewritten on every reconcile, and explicit endpoints are honoured', async () => {
    const ns = await createNamespace(env.client, 'renew');
    const cluster = await createCluster(env.client, ns, 'c');
    const machine = await createMachine(env.client, cluster, 'cp', { controlPlane: true });
    await createTalosConfig(env.client, machine, { generateType: 'controlplane', talosVersion: 'v1.13', talosconfig: { endpoints: ['talos.example.com'] } });
    await waitForCondition(ns, 'cp', 'ClientConfigAvailable', 'True');
    const first = await readSecret(env.client, ns, 'c-talosconfig');
    expect(parseYaml(decode(first!.data!.talosconfig)).contexts.c.endpoints).toEqual(['talos.example.com']);
    // Nudge reconciles: the Machine changes (addresses), the Cluster changes (endpoint port); wait
    // until both have been reconciled before looking at the Secret.
    const before = await reconciles();
    await setMachineAddresses(env.client, machine, [{ type: 'ExternalIP', address: '10.9.9.9' }]);
    await eventually('a reconcile after the Machine changed', async () => (await reconciles()) > before);
    const afterMachine = await reconciles();
    await patchCluster(env.client, cluster as Cluster, { spec: { controlPlaneEndpoint: { host: 'c.example.com', port: 6444 } } });
    await eventually('a reconcile after the Cluster changed', async () => (await reconciles()) > afterMachine);
    const second = await readSecret(env.client, ns, 'c-talosconfig');
    expect(second!.metadata.resourceVersion).toBe(first!.metadata.resourceVersion);
  });
});
