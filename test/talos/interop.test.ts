// Files move between talosctl/CABPT and us in both directions: our secrets
// bundles and talosconfigs load in Talos's library, and Talos's load in ours.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { parse, stringify } from 'yaml';
import {
  encodeSecretsBundle,
  generateSecretsBundle,
  generateTalosconfig,
  loadSecretsBundle,
  parseContract,
  parseTalosconfig,
  validateSecretsBundle,
} from '../../src/talos/config';
import { ORACLE_BUILD_TIMEOUT_MS, TalosOracle } from '../support/talos-oracle';
import { compareConfigs } from './config-compare';

const NOW = '2026-01-01T00:00:00Z';
/** One contract per service-account key type, and the newest. */
const CONTRACTS = ['v1.6', 'v1.7', 'v1.14'] as const;

let oracle: TalosOracle;

/** What must match between two CAs made for the same contract at the same time (not keys or serials). */
function certificateFacts(pem: string | undefined) {
  const cert = new X509Certificate(pem ?? '');
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    validFrom: cert.validFrom,
    validTo: cert.validTo,
    ca: cert.ca,
    extendedKeyUsage: cert.keyUsage,
    keyType: cert.publicKey.asymmetricKeyType,
    subjectAltName: cert.subjectAltName,
  };
}

function keyFacts(pem: string | undefined) {
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem ?? '')?.[1];
  const bits = /RSA/.test(label ?? '') ? createPrivateKey(pem ?? '').asymmetricKeyDetails?.modulusLength : undefined;
  return { label, bits };
}

beforeAll(async () => {
  oracle = await TalosOracle.start();
}, ORACLE_BUILD_TIMEOUT_MS);

afterAll(async () => {
  await oracle?.close();
});

describe.each(CONTRACTS)('secrets bundle, contract %s', (talosVersion) => {
  const contract = parseContract(talosVersion);

  test('ours loads in Talos, validates, and Talos re-encodes it identically', async () => {
    const ours = encodeSecretsBundle(await generateSecretsBundle({ contract, now: new Date(NOW) }));
    const loaded = await oracle.loadSecrets({ bundle: ours, talosVersion });
    expect(loaded.validationErrors).toEqual([]);
    expect(loaded.bundle).toBe(ours);
  });

  test("our CAs and keys have the same subjects, validity, extensions and key types as Talos's", async () => {
    const ours = await generateSecretsBundle({ contract, now: new Date(NOW) });
    const talos = loadSecretsBundle(await oracle.genSecrets({ talosVersion, now: NOW }));
    for (const name of ['etcd', 'k8s', 'k8sAggregator', 'os'] as const) {
      expect({ authority: name, ...certificateFacts(ours.certs[name]?.crt) }).toEqual({ authority: name, ...certificateFacts(talos.certs[name]?.crt) });
      expect(keyFacts(ours.certs[name]?.key)).toEqual(keyFacts(talos.certs[name]?.key));
    }
    expect(keyFacts(ours.certs.k8sServiceAccount?.key)).toEqual(keyFacts(talos.certs.k8sServiceAccount?.key));
  });

  test("Talos's loads in ours, validates, and we re-encode it identically", async () => {
    const talos = await oracle.genSecrets({ talosVersion, now: NOW });
    const loaded = loadSecretsBundle(talos);
    expect(await validateSecretsBundle(loaded, contract)).toEqual([]);
    expect(encodeSecretsBundle(loaded)).toBe(talos);
  });
});

test('the legacy certs/kubeSecrets/trustdInfo layout loads the same in both', async () => {
  const talos = parse(await oracle.genSecrets({ talosVersion: 'v1.5', now: NOW, ecdsaServiceAccountKey: true })) as Record<string, unknown>;
  const legacy = { certs: stringify(talos.certs), kubeSecrets: stringify(talos.secrets), trustdInfo: stringify(talos.trustdinfo) };
  const theirs = await oracle.loadSecrets({ legacy });
  const ours = encodeSecretsBundle(loadSecretsBundle(legacy));
  expect(compareConfigs(ours, theirs.bundle)).toMatchObject({ semanticallyEqual: true });
});

describe('talosconfig', () => {
  test('ours loads in Talos: os:admin, chained to the bundle OS CA, clientAuth only, one year', async () => {
    const bundle = await generateSecretsBundle({ contract: parseContract('v1.14'), now: new Date(NOW) });
    const talosconfig = await generateTalosconfig({ bundle, contextName: 'demo', endpoints: ['10.5.0.2', 'fd00::2'], now: new Date(NOW) });
    const loaded = await oracle.loadTalosconfig({ talosconfig, bundle: encodeSecretsBundle(bundle) });

    expect(loaded.context).toBe('demo');
    expect(loaded.contexts).toEqual({ demo: { endpoints: ['10.5.0.2', 'fd00::2'], nodes: [], hasCA: true, hasCrt: true, hasKey: true } });
    expect(loaded.caMatchesBundle).toBe(true);
    expect(loaded.client).toEqual({
      roles: ['os:admin'],
      unknownRoles: [],
      commonName: '',
      keyAlgorithm: 'Ed25519',
      notBefore: NOW,
      notAfter: '2027-01-01T00:00:00Z',
      isCA: false,
      clientAuthEKU: true,
      onlyClientAuthEKU: true,
      chainsToCA: true,
    });
  });

  test("ours has the same layout as Talos's", async () => {
    const bundle = await generateSecretsBundle({ contract: parseContract('v1.6'), now: new Date(NOW) });
    const options = { endpoints: ['10.5.0.2'], now: new Date(NOW) };
    const ours = await generateTalosconfig({ bundle, contextName: 'demo', ...options });
    const talos = await oracle.genTalosconfig({ bundle: encodeSecretsBundle(bundle), clusterName: 'demo', ...options, now: NOW });
    // The client keys are random, so only the shape and the CA can match.
    const shape = (text: string) => text.replace(/(crt|key): \S+/g, '$1: <random>');
    expect(shape(ours)).toBe(shape(talos));
  });

  test("Talos's loads in ours: endpoints, CA and a client certificate signed by it", async () => {
    const bundleYaml = await oracle.genSecrets({ talosVersion: 'v1.13', now: NOW, ecdsaServiceAccountKey: true });
    const talosconfig = await oracle.genTalosconfig({ bundle: bundleYaml, clusterName: 'demo', endpoints: ['10.5.0.2', '10.5.0.3'], now: NOW });
    const parsed = parseTalosconfig(talosconfig);
    const context = parsed.contexts.demo;

    expect(parsed.context).toBe('demo');
    expect(context?.endpoints).toEqual(['10.5.0.2', '10.5.0.3']);
    expect(context?.ca).toBe(loadSecretsBundle(bundleYaml).certs.os?.crt);
    const ca = new X509Certificate(context?.ca ?? '');
    const client = new X509Certificate(context?.crt ?? '');
    expect(client.verify(ca.publicKey)).toBe(true);
    expect(client.subject).toBe('O=os:admin');
    expect(context?.key).toContain('-----BEGIN ED25519 PRIVATE KEY-----');
  });
});
