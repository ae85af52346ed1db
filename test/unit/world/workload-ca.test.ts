// A workload cluster trusts the Kubernetes CA from the machine config: Talos writes it as ECDSA
// with a SEC1 "EC PRIVATE KEY"; a user-supplied CA may be RSA. The test bed PKI signs with either.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { createCertificateAuthority } from '../../../src/talos/config/secrets/certificates';
import type { KeyAlgorithm } from '../../../src/talos/config/secrets/keys';
import { issueCertificate, loadCertificateAuthority } from '../../testbed/pki';

jest.setTimeout(60_000);

test.each<[KeyAlgorithm, string]>([
  ['ecdsa-p256', 'EC PRIVATE KEY'],
  ['rsa-4096', 'RSA PRIVATE KEY'],
])('a %s CA (%s) signs certificates that verify against it', async (algorithm, label) => {
  const now = Date.now();
  const talosCa = await createCertificateAuthority({
    algorithm,
    organization: 'kubernetes',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3_600_000),
  });
  expect(talosCa.key).toContain(`BEGIN ${label}`);
  const ca = await loadCertificateAuthority(talosCa.crt, talosCa.key);
  const leaf = new x509.X509Certificate(
    (await issueCertificate(ca, { commonName: 'system:node:n1', organizations: ['system:nodes'], usage: 'client' })).certPem,
  );
  expect(await leaf.verify({ publicKey: ca.cert.publicKey, signatureOnly: true }, webcrypto)).toBe(true);
  // The chain is found by key identifier: the leaf names the CA's own (random, for Talos) SKI.
  const caKeyId = ca.cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  expect(leaf.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(caKeyId);
});
