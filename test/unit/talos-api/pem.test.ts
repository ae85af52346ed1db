import { createPrivateKey } from 'node:crypto';
import { TalosClientConfigError } from '../../../src/talos/api/errors';
import { certificateValidityProblem, checkClientIdentity, toNodeKeyPem } from '../../../src/talos/api/pem';
import { makeClientCertificate, makeForeignOsCa } from '../../support/talos-fixtures';

interface Pems {
  certPem: string;
  keyPem: string;
}
let ca: Pems;
let admin: Pems;

beforeAll(async () => {
  const osCa = await makeForeignOsCa();
  const cert = await makeClientCertificate(osCa, { roles: ['os:reader', 'os:admin'] });
  ca = { certPem: osCa.crt, keyPem: osCa.key };
  admin = { certPem: cert.crt, keyPem: cert.key };
});

describe('client key and certificate handling', () => {
  it('Node cannot read Talos\'s "ED25519 PRIVATE KEY" label as is', () => {
    expect(admin.keyPem).toContain('-----BEGIN ED25519 PRIVATE KEY-----');
    expect(() => createPrivateKey(admin.keyPem)).toThrow();
  });

  it('relabels it to PKCS#8 "PRIVATE KEY", which Node reads as Ed25519', () => {
    const pem = toNodeKeyPem(admin.keyPem);
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
    expect(createPrivateKey(pem).asymmetricKeyType).toBe('ed25519');
  });

  it('leaves other key labels alone', () => {
    const ec = '-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n';
    expect(toNodeKeyPem(ec)).toBe(ec);
  });

  it('reads the roles (all Organization values) and validity of the client certificate', () => {
    const identity = checkClientIdentity(ca.certPem, admin.certPem, admin.keyPem);
    expect(identity.roles.sort()).toEqual(['os:admin', 'os:reader']);
    expect(identity.notAfter.getTime()).toBeGreaterThan(Date.now());
  });

  it('refuses a key that belongs to another certificate', async () => {
    const other = await makeClientCertificate({ crt: ca.certPem, key: ca.keyPem });
    expect(() => checkClientIdentity(ca.certPem, admin.certPem, other.key)).toThrow('client key does not belong to the client certificate');
  });

  it.each([
    ['an unreadable CA', (): [string, string, string] => ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', admin.certPem, admin.keyPem], /CA certificate is not a readable/],
    ['an unreadable certificate', (): [string, string, string] => [ca.certPem, 'nope', admin.keyPem], /client certificate is not a readable/],
    ['an unreadable key', (): [string, string, string] => [ca.certPem, admin.certPem, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'], /client key is not a readable private key/],
  ])('reports %s as a TalosClientConfigError', (_what, args, message) => {
    expect(() => checkClientIdentity(...args())).toThrow(TalosClientConfigError);
    expect(() => checkClientIdentity(...args())).toThrow(message);
  });

  it('says when the certificate is outside its validity window', () => {
    const identity = { roles: [], notBefore: new Date('2030-01-01T00:00:00Z'), notAfter: new Date('2031-01-01T00:00:00Z') };
    expect(certificateValidityProblem(identity, new Date('2029-12-31T00:00:00Z'))).toBe('client certificate is not valid before 2030-01-01T00:00:00.000Z');
    expect(certificateValidityProblem(identity, new Date('2031-06-01T00:00:00Z'))).toBe('client certificate expired at 2031-01-01T00:00:00.000Z');
    expect(certificateValidityProblem(identity, new Date('2030-06-01T00:00:00Z'))).toBeUndefined();
  });
});
