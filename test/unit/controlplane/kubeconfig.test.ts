import { stringify } from 'yaml';
import { clientCertificateValidity, renewalTime } from '../../../src/controlplane/kubeconfig';
import { createCertificateAuthority, issueClientCertificate } from '../../../src/talos/config/secrets/certificates';

async function kubeconfigWith(notBefore: string, notAfter: string): Promise<string> {
  const ca = await createCertificateAuthority({ algorithm: 'ecdsa-p256', notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2036-01-01T00:00:00Z') });
  const cert = await issueClientCertificate({ ca, organizations: ['system:masters'], notBefore: new Date(notBefore), notAfter: new Date(notAfter) });
  return stringify({
    apiVersion: 'v1', kind: 'Config',
    clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': Buffer.from(ca.crt).toString('base64') } }],
    users: [{ name: 'admin@c', user: { 'client-certificate-data': Buffer.from(cert.crt).toString('base64'), 'client-key-data': Buffer.from(cert.key).toString('base64') } }],
    contexts: [{ name: 'admin@c', context: { cluster: 'c', user: 'admin@c' } }], 'current-context': 'admin@c',
  });
}

describe('the kubeconfig’s client certificate', () => {
  it('is read from the first user, and due for renewal half-way through its life', async () => {
    const validity = clientCertificateValidity(await kubeconfigWith('2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'));
    expect(validity).toEqual({ notBefore: Date.parse('2026-01-01T00:00:00Z'), notAfter: Date.parse('2027-01-01T00:00:00Z') });
    expect(new Date(renewalTime(validity!)).toISOString()).toBe('2026-07-02T12:00:00.000Z');
  });

  it('is absent from a kubeconfig with a token, or one that does not parse', () => {
    expect(clientCertificateValidity(stringify({ users: [{ name: 'u', user: { token: 'abc' } }] }))).toBeUndefined();
    expect(clientCertificateValidity('users: [')).toBeUndefined();
    expect(clientCertificateValidity(stringify({ users: [{ name: 'u', user: { 'client-certificate-data': 'bm90IGEgY2VydA==' } }] }))).toBeUndefined();
  });
});
