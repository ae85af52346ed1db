// Checks the Talos oracle itself and the facts the matrix is built on: the
// contract list and Kubernetes versions come from Talos's library, bundles and
// talosconfigs Talos makes round-trip through it, and the config comparison
// reports what it should.
import { X509Certificate } from 'node:crypto';
import { parse, stringify } from 'yaml';
import { ORACLE_BUILD_TIMEOUT_MS, OracleError, TalosOracle } from '../support/talos-oracle';
import { compareConfigs, describeDifferences, parseConfigDocuments } from './config-compare';
import { CONTRACTS, KUBERNETES_VERSIONS } from './matrix';

const NOW = '2026-01-01T00:00:00Z';

let oracle: TalosOracle;

beforeAll(async () => {
  oracle = await TalosOracle.start();
}, ORACLE_BUILD_TIMEOUT_MS);

afterAll(async () => {
  await oracle?.close();
});

/** Reads a nested field of parsed YAML; undefined when any step is missing. */
function field(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function keysOf(value: unknown): string[] {
  return typeof value === 'object' && value !== null ? Object.keys(value) : [];
}

function certFromBase64Pem(value: unknown): X509Certificate {
  return new X509Certificate(Buffer.from(String(value), 'base64').toString('utf8'));
}

function keyLabel(value: unknown): string {
  return /-----BEGIN ([A-Z0-9 ]+)-----/.exec(Buffer.from(String(value), 'base64').toString('utf8'))?.[1] ?? '(none)';
}

describe('matrix facts come from Talos', () => {
  test('the matrix covers every contract from v1.3 to the newest the library defines', async () => {
    const { contracts, machineryVersion } = await oracle.contracts();
    expect(machineryVersion).toMatch(/^v1\.\d+\.\d+/);
    expect([...CONTRACTS]).toEqual(contracts);
  });

  test('every Kubernetes version in the matrix is supported by its Talos version, and the bounds are tight', async () => {
    for (const contract of CONTRACTS) {
      const talos = `${contract}.0`;
      for (const version of KUBERNETES_VERSIONS[contract]) {
        expect(await oracle.checkKubernetesVersion(version, talos)).toEqual({ supported: true });
      }
      const minors = KUBERNETES_VERSIONS[contract].map((v) => Number(v.split('.')[1]));
      const below = `1.${Math.min(...minors) - 1}.0`;
      const above = `1.${Math.max(...minors) + 1}.0`;
      expect((await oracle.checkKubernetesVersion(below, talos)).supported).toBe(false);
      expect((await oracle.checkKubernetesVersion(above, talos)).supported).toBe(false);
    }
  });
});

describe('secrets bundles made by Talos', () => {
  test.each([
    ['v1.6', 'EC PRIVATE KEY'],
    ['v1.7', 'RSA PRIVATE KEY'],
  ])('contract %s: layout, key types and fixed clock; loads back unchanged', async (talosVersion, saKeyLabel) => {
    const bundle = await oracle.genSecrets({ talosVersion, now: NOW });
    const doc: unknown = parse(bundle);

    expect(keysOf(doc)).toEqual(['cluster', 'secrets', 'trustdinfo', 'certs']);
    expect(keysOf(field(doc, 'certs'))).toEqual(['etcd', 'k8s', 'k8saggregator', 'k8sserviceaccount', 'os']);
    expect(field(doc, 'secrets', 'bootstraptoken')).toMatch(/^[0-9a-z]{6}\.[0-9a-z]{16}$/);
    expect(keyLabel(field(doc, 'certs', 'k8sserviceaccount', 'key'))).toBe(saKeyLabel);
    expect(keyLabel(field(doc, 'certs', 'os', 'key'))).toBe('ED25519 PRIVATE KEY');

    const etcdCA = certFromBase64Pem(field(doc, 'certs', 'etcd', 'crt'));
    expect(new Date(etcdCA.validFrom).toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(etcdCA.subject).toBe('O=etcd');

    const loaded = await oracle.loadSecrets({ bundle, talosVersion });
    expect(loaded.validationErrors).toEqual([]);
    expect(loaded.bundle).toBe(bundle);
  });

  test('the legacy certs/kubeSecrets/trustdInfo layout loads without a cluster identity', async () => {
    const bundle = parse(await oracle.genSecrets({ talosVersion: 'v1.5', now: NOW, ecdsaServiceAccountKey: true })) as Record<
      string,
      unknown
    >;
    const loaded = await oracle.loadSecrets({
      legacy: { certs: stringify(bundle.certs), kubeSecrets: stringify(bundle.secrets), trustdInfo: stringify(bundle.trustdinfo) },
    });
    const normalized = parse(loaded.bundle) as Record<string, unknown>;

    expect(normalized.certs).toEqual(bundle.certs);
    expect(normalized.secrets).toEqual(bundle.secrets);
    expect(normalized.trustdinfo).toEqual(bundle.trustdinfo);
    expect(normalized.cluster).toEqual({ id: '', secret: '' });
    expect(loaded.validationErrors).toEqual(expect.arrayContaining([expect.stringContaining('cluster.id is required')]));
  });

  test('a broken bundle is an error naming the problem, and the oracle keeps serving', async () => {
    await expect(oracle.loadSecrets({ bundle: 'certs: [not, a, map]\n' })).rejects.toThrow(OracleError);
    await expect(oracle.contracts()).resolves.toBeDefined();
  });
});

describe('talosconfig made by Talos', () => {
  test('os:admin Ed25519 client certificate for one year, chained to the bundle OS CA', async () => {
    const bundle = await oracle.genSecrets({ talosVersion: 'v1.13', now: NOW, ecdsaServiceAccountKey: true });
    const talosconfig = await oracle.genTalosconfig({ bundle, clusterName: 'demo', endpoints: ['10.5.0.2', '10.5.0.3'], now: NOW });
    const loaded = await oracle.loadTalosconfig({ talosconfig, bundle });

    expect(loaded.context).toBe('demo');
    expect(loaded.contexts.demo).toEqual({ endpoints: ['10.5.0.2', '10.5.0.3'], nodes: [], hasCA: true, hasCrt: true, hasKey: true });
    expect(loaded.client).toMatchObject({
      roles: ['os:admin'],
      keyAlgorithm: 'Ed25519',
      notBefore: NOW,
      notAfter: '2027-01-01T00:00:00Z',
      isCA: false,
      onlyClientAuthEKU: true,
      chainsToCA: true,
    });
    expect(loaded.caMatchesBundle).toBe(true);
  });
});

describe('config comparison', () => {
  const talos = 'version: v1alpha1\nmachine:\n    type: worker\n    certSANs: []\n---\napiVersion: v1alpha1\nkind: HostnameConfig\nauto: stable\n';

  test('identical text is equal and byte-identical', () => {
    expect(compareConfigs(talos, talos)).toEqual({ semanticallyEqual: true, byteIdentical: true, differences: [] });
  });

  test('key order and indentation are not semantic', () => {
    const reordered = 'machine:\n  certSANs: []\n  type: worker\nversion: v1alpha1\n---\nkind: HostnameConfig\napiVersion: v1alpha1\nauto: stable\n';
    expect(compareConfigs(reordered, talos)).toMatchObject({ semanticallyEqual: true, byteIdentical: false });
  });

  test('differences are named by document and path', () => {
    const changed = talos.replace('type: worker', 'type: controlplane').replace('auto: stable\n', 'auto: stable\nhostname: x\n');
    const result = compareConfigs(changed + '---\napiVersion: v1alpha1\nkind: KubeSpanConfig\nenabled: true\n', talos);
    expect(result.semanticallyEqual).toBe(false);
    expect(result.differences).toEqual([
      'v1alpha1.machine.type: ours "controlplane", talos "worker"',
      'HostnameConfig.hostname: only in ours ("x")',
      'KubeSpanConfig: document only in ours',
    ]);
    expect(describeDifferences('case-1', result)).toContain('case-1: 3 difference(s)');
  });

  test('documents are identified by kind and name', () => {
    const docs = parseConfigDocuments('apiVersion: v1alpha1\nkind: RegistryMirrorConfig\nname: docker.io\n---\n');
    expect(docs.map((d) => d.id)).toEqual(['RegistryMirrorConfig/docker.io']);
  });
});
