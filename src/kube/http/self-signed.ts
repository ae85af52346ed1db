// A serving certificate made in memory at start, for the metrics server when no certificate
// directory is given (what controller-runtime's metrics server does): scrapers authenticate
// themselves with a token and do not verify it (a ServiceMonitor's insecureSkipVerify).
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { hostname } from 'node:os';
import * as x509 from '@peculiar/x509';

/** PEM certificate and private key. */
export interface ServingCertificate {
  cert: string | Buffer;
  key: string | Buffer;
}

const VALIDITY_MS = 365 * 24 * 60 * 60 * 1000;
const CLOCK_SKEW_MS = 5 * 60 * 1000;

/** An ECDSA P-256 certificate for localhost, the loopback addresses and this host's name, valid a year. */
export async function selfSignedCertificate(commonName: string, now = Date.now()): Promise<ServingCertificate> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const names = [...new Set(['localhost', hostname()])].map((value) => ({ type: 'dns' as const, value }));
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${commonName}`,
    keys,
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(now + VALIDITY_MS),
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([...names, { type: 'ip', value: '127.0.0.1' }, { type: 'ip', value: '::1' }]),
    ],
  }, webcrypto);
  const key = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  return { cert: certificate.toString('pem'), key };
}
