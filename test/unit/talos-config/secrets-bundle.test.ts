import 'reflect-metadata';
import { createPrivateKey } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import {
  CA_VALIDITY_MS,
  encodeSecretsBundle,
  generateSecretsBundle,
  loadSecretsBundle,
  parseContract,
  validateSecretsBundle,
  type SecretsBundle,
} from '../../../src/talos/config';

const NOW = new Date('2026-03-01T12:00:00.750Z');
const WHOLE_SECOND = new Date('2026-03-01T12:00:00Z');

function keyType(pem: string): string {
  const label = /BEGIN ([A-Z0-9 ]+)-----/.exec(pem)?.[1] ?? '';
  const key = createPrivateKey(label === 'ED25519 PRIVATE KEY' ? pem.replaceAll(label, 'PRIVATE KEY') : pem);
  const details = key.asymmetricKeyDetails;
  return `${label}/${key.asymmetricKeyType}${details?.namedCurve ? `/${details.namedCurve}` : ''}${details?.modulusLength ? `/${details.modulusLength}` : ''}`;
}

describe('generateSecretsBundle', () => {
  let ecdsaBundle: SecretsBundle; // contract 1.6: ECDSA service-account key
  let rsaBundle: SecretsBundle; // contract 1.14: RSA-4096 service-account key

  beforeAll(async () => {
    [ecdsaBundle, rsaBundle] = await Promise.all([
      generateSecretsBundle({ contract: parseContract('v1.6'), now: NOW }),
      generateSecretsBundle({ contract: parseContract('v1.14'), now: NOW }),
    ]);
  });

  it.each([
    ['etcd', 'O=etcd', 'EC PRIVATE KEY/ec/prime256v1'],
    ['k8s', 'O=kubernetes', 'EC PRIVATE KEY/ec/prime256v1'],
    ['k8sAggregator', '', 'EC PRIVATE KEY/ec/prime256v1'],
    ['os', 'O=talos', 'ED25519 PRIVATE KEY/ed25519'],
  ] as const)('makes the %s CA like Talos: subject "%s", key %s, 10 years from now', (name, subject, key) => {
    const pair = ecdsaBundle.certs[name]!;
    const cert = new x509.X509Certificate(pair.crt);
    expect(cert.subject).toBe(subject);
    expect(cert.issuer).toBe(subject);
    expect(keyType(pair.key)).toBe(key);
    expect(cert.notBefore).toEqual(WHOLE_SECOND);
    expect(cert.notAfter).toEqual(new Date(WHOLE_SECOND.getTime() + CA_VALIDITY_MS));
    const constraints = cert.getExtension(x509.BasicConstraintsExtension)!;
    expect(constraints.ca).toBe(true);
    expect(constraints.critical).toBe(true);
    const usage = cert.getExtension(x509.KeyUsagesExtension)!;
    expect(usage.usages).toBe(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign);
    expect(usage.critical).toBe(true);
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)!.usages).toEqual([
      x509.ExtendedKeyUsage.serverAuth,
      x509.ExtendedKeyUsage.clientAuth,
    ]);
    expect(cert.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId).toHaveLength(40);
  });

  it('uses an ECDSA service-account key up to contract 1.6 and RSA-4096 from 1.7', () => {
    expect(keyType(ecdsaBundle.certs.k8sServiceAccount!.key)).toBe('EC PRIVATE KEY/ec/prime256v1');
    expect(keyType(rsaBundle.certs.k8sServiceAccount!.key)).toBe('RSA PRIVATE KEY/rsa/4096');
  });

  it('takes the service-account key from the caller when given a source, asking for the algorithm the contract needs', async () => {
    const asked: string[] = [];
    const serviceAccountKey = async (algorithm: string) => {
      asked.push(algorithm);
      return rsaBundle.certs.k8sServiceAccount!.key;
    };
    const bundle = await generateSecretsBundle({ contract: parseContract('v1.14'), now: NOW, serviceAccountKey });
    expect(asked).toEqual(['rsa-4096']);
    expect(bundle.certs.k8sServiceAccount!.key).toBe(rsaBundle.certs.k8sServiceAccount!.key);
  });

  it('makes tokens and secrets in Talos formats', () => {
    expect(ecdsaBundle.secrets.bootstrapToken).toMatch(/^[0-9a-z]{6}\.[0-9a-z]{16}$/);
    expect(ecdsaBundle.trustdInfo.token).toMatch(/^[0-9a-z]{6}\.[0-9a-z]{16}$/);
    for (const secret of [ecdsaBundle.cluster.id, ecdsaBundle.cluster.secret, ecdsaBundle.secrets.secretboxEncryptionSecret!]) {
      expect(Buffer.from(secret, 'base64')).toHaveLength(32);
      expect(Buffer.from(secret, 'base64').toString('base64')).toBe(secret);
    }
    expect(ecdsaBundle.secrets.aescbcEncryptionSecret).toBeUndefined();
  });

  it('passes Talos-style validation', async () => {
    await expect(validateSecretsBundle(rsaBundle, parseContract('v1.14'))).resolves.toEqual([]);
  });
});

describe('secrets.yaml layout', () => {
  let bundle: SecretsBundle;
  beforeAll(async () => {
    bundle = await generateSecretsBundle({ contract: parseContract('v1.5'), now: NOW });
  });

  it('writes the talosctl layout: lower-cased field names, base64 of PEM', () => {
    const text = encodeSecretsBundle(bundle);
    const keys = text.split('\n').filter((line) => /^\s*[a-z0-9]+:/.test(line)).map((line) => line.trim().split(':')[0]);
    expect(keys).toEqual([
      'cluster', 'id', 'secret', 'secrets', 'bootstraptoken', 'secretboxencryptionsecret', 'trustdinfo', 'token',
      'certs', 'etcd', 'crt', 'key', 'k8s', 'crt', 'key', 'k8saggregator', 'crt', 'key', 'k8sserviceaccount', 'key', 'os', 'crt', 'key',
    ]);
    expect(text).toContain(`        crt: ${Buffer.from(bundle.certs.etcd!.crt).toString('base64')}\n`);
    expect(text.startsWith('cluster:\n    id: ')).toBe(true);
  });

  it('round-trips through load', () => {
    expect(loadSecretsBundle(encodeSecretsBundle(bundle))).toEqual(bundle);
  });

  it('ignores unknown keys and keeps a redacted key marker (written quoted, as go-yaml does)', () => {
    const redacted: SecretsBundle = { ...bundle, certs: { ...bundle.certs, os: { crt: bundle.certs.os!.crt, key: '******' } } };
    const text = encodeSecretsBundle(redacted);
    expect(text).toContain("        key: '******'\n");
    expect(loadSecretsBundle(`${text}extra: 1\n`).certs.os?.key).toBe('******');
  });

  it('reads the legacy CABPT layout (certs / kubeSecrets / trustdInfo), without cluster identity', () => {
    const full = loadSecretsBundle(encodeSecretsBundle(bundle));
    const sections = encodeSecretsBundle(bundle).split(/^(?=\w)/m);
    const section = (name: string) => (sections.find((s) => s.startsWith(`${name}:`)) ?? '').replace(/^\w+:\n/, '').replace(/^ {4}/gm, '');
    const parts = { certs: section('certs'), kubeSecrets: section('secrets'), trustdInfo: section('trustdinfo') };
    const legacy = loadSecretsBundle(parts);
    expect(legacy.cluster).toEqual({ id: '', secret: '' });
    expect(legacy.certs).toEqual(full.certs);
    expect(legacy.secrets).toEqual(full.secrets);
    expect(legacy.trustdInfo).toEqual(full.trustdInfo);
    // The same, as one YAML mapping holding the three parts as strings.
    const asYaml = `certs: |\n${parts.certs.replace(/^/gm, '  ')}\nkubeSecrets: |\n${parts.kubeSecrets.replace(/^/gm, '  ')}\ntrustdInfo: |\n${parts.trustdInfo.replace(/^/gm, '  ')}\n`;
    expect(loadSecretsBundle(asYaml).certs).toEqual(full.certs);
  });

  it('reports what Talos validation would reject', async () => {
    const broken: SecretsBundle = { ...bundle, cluster: { id: '', secret: 'x' }, certs: { ...bundle.certs, etcd: undefined } };
    broken.certs.k8s = { crt: 'not a certificate', key: bundle.certs.k8s!.key };
    await expect(validateSecretsBundle(broken, parseContract('v1.5'))).resolves.toEqual([
      'cluster.id is required',
      'certs.etcd is required',
      'certs.k8s is invalid: certificate PEM does not parse',
    ]);
  });

  it('refuses malformed input with a clear message', () => {
    expect(() => loadSecretsBundle('certs: [')).toThrow(/secrets bundle is not valid YAML/);
    expect(() => loadSecretsBundle('certs:\n  os: {crt: "%%%", key: ""}\n')).toThrow('certs.os.crt: illegal base64 data');
    expect(() => loadSecretsBundle({ certs: '{}', kubeSecrets: '', trustdInfo: '{}' })).toThrow('legacy secrets: kubeSecrets is missing');
  });
});
