import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import {
  CLIENT_CERTIFICATE_VALIDITY_MS,
  generateSecretsBundle,
  generateTalosconfig,
  parseContract,
  parseTalosconfig,
  type SecretsBundle,
} from '../../../src/talos/config';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const NOW = new Date('2026-05-05T05:05:05Z');
let bundle: SecretsBundle;
let text: string;

beforeAll(async () => {
  bundle = await generateSecretsBundle({ contract: parseContract('v1.6'), now: NOW });
  text = await generateTalosconfig({ bundle, contextName: 'demo', endpoints: ['10.0.0.1', '10.0.0.2:50000'], nodes: ['10.0.0.5'], now: NOW });
});

describe('generateTalosconfig', () => {
  it('writes one context with endpoints, nodes and base64 PEM credentials, like talosctl', () => {
    expect(text.split('\n').slice(0, 9)).toEqual([
      'context: demo',
      'contexts:',
      '    demo:',
      '        endpoints:',
      '            - 10.0.0.1',
      '            - 10.0.0.2:50000',
      '        nodes:',
      '            - 10.0.0.5',
      `        ca: ${Buffer.from(bundle.certs.os!.crt).toString('base64')}`,
    ]);
    const parsed = parseTalosconfig(text);
    expect(parsed.context).toBe('demo');
    expect(parsed.contexts.demo!.endpoints).toEqual(['10.0.0.1', '10.0.0.2:50000']);
    expect(parsed.contexts.demo!.key).toMatch(/^-----BEGIN ED25519 PRIVATE KEY-----\n/);
  });

  it('issues an os:admin Ed25519 client certificate signed by the OS CA, valid one year', async () => {
    const context = parseTalosconfig(text).contexts.demo!;
    const client = new x509.X509Certificate(context.crt);
    const ca = new x509.X509Certificate(bundle.certs.os!.crt);
    expect(client.subject).toBe('O=os:admin');
    expect(client.issuer).toBe('O=talos');
    expect(client.publicKey.algorithm.name).toBe('Ed25519');
    expect(client.notBefore).toEqual(NOW);
    expect(client.notAfter).toEqual(new Date(NOW.getTime() + CLIENT_CERTIFICATE_VALIDITY_MS));
    await expect(client.verify({ publicKey: ca.publicKey, signatureOnly: true })).resolves.toBe(true);
    expect(client.getExtension(x509.ExtendedKeyUsageExtension)!.usages).toEqual([x509.ExtendedKeyUsage.clientAuth]);
    expect(client.getExtension(x509.KeyUsagesExtension)!.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    expect(client.getExtension(x509.BasicConstraintsExtension)).toBeNull();
    expect(client.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId).toBe(
      ca.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId,
    );
  });

  it('writes one organisation per role, sorted', async () => {
    const withRoles = await generateTalosconfig({ bundle, contextName: 'r', endpoints: ['1.2.3.4'], roles: ['os:reader', 'os:etcd:backup'] });
    expect(new x509.X509Certificate(parseTalosconfig(withRoles).contexts.r!.crt).subject).toBe('O=os:etcd:backup, O=os:reader');
  });

  it('refuses a bundle without the OS CA key and an empty role list', async () => {
    const noKey: SecretsBundle = { ...bundle, certs: { ...bundle.certs, os: { crt: bundle.certs.os!.crt, key: '' } } };
    await expect(generateTalosconfig({ bundle: noKey, contextName: 'x', endpoints: [] })).rejects.toThrow('has no OS CA certificate and key');
    await expect(generateTalosconfig({ bundle, contextName: 'x', endpoints: [], roles: [] })).rejects.toThrow('at least one role');
  });
});
