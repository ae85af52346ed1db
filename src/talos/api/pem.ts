// Certificates and keys from a talosconfig, made acceptable to Node's TLS.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { TalosClientConfigError } from './errors';

/**
 * Talos writes Ed25519 keys as PKCS#8 under the non-standard label
 * "ED25519 PRIVATE KEY", which OpenSSL's decoder rejects; the body is plain
 * PKCS#8, so the standard "PRIVATE KEY" label is all Node needs. Other labels
 * Talos uses (PRIVATE KEY, EC PRIVATE KEY, RSA PRIVATE KEY) pass unchanged.
 */
export function toNodeKeyPem(keyPem: string): string {
  return keyPem.replace(/-----(BEGIN|END) ED25519 PRIVATE KEY-----/g, '-----$1 PRIVATE KEY-----');
}

export interface ClientIdentity {
  /** Subject Organization values: the Talos roles the certificate grants. */
  roles: string[];
  notBefore: Date;
  notAfter: Date;
}

function parseCertificate(pem: string, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new TalosClientConfigError(`${what} is not a readable X.509 certificate: ${(err as Error).message}`);
  }
}

function parseKey(pem: string): KeyObject {
  try {
    return createPrivateKey(toNodeKeyPem(pem));
  } catch (err) {
    throw new TalosClientConfigError(`client key is not a readable private key: ${(err as Error).message}`);
  }
}

/** The Organization values of a subject as Node prints it ("O=a\nO=b" or "O=a + O=b"). */
function organizations(subject: string): string[] {
  return subject
    .split(/\n|\s\+\s/)
    .filter((part) => part.startsWith('O='))
    .map((part) => part.slice(2));
}

/** Checks the CA and client certificate are readable and the key belongs to the certificate. */
export function checkClientIdentity(caPem: string, certPem: string, keyPem: string): ClientIdentity {
  parseCertificate(caPem, 'CA certificate');
  const cert = parseCertificate(certPem, 'client certificate');
  if (!cert.checkPrivateKey(parseKey(keyPem))) {
    throw new TalosClientConfigError('client key does not belong to the client certificate');
  }
  return { roles: organizations(cert.subject), notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) };
}

/** Why the client certificate cannot be accepted at `now`, if it cannot; used to explain refused handshakes. */
export function certificateValidityProblem(identity: ClientIdentity, now: Date): string | undefined {
  if (now < identity.notBefore) return `client certificate is not valid before ${identity.notBefore.toISOString()}`;
  if (now > identity.notAfter) return `client certificate expired at ${identity.notAfter.toISOString()}`;
  return undefined;
}
