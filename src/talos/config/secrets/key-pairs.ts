// Is a bundle read from storage whole? Every CA's key must parse and belong to
// its certificate, and no certificate may have expired: a bundle that fails
// this would render configs carrying a foreign key beside the real CA, or
// certificates nodes refuse. Pure and synchronous (node:crypto only).
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { SecretsBundle } from './bundle';
import { parsePrivateKey } from './keys';

export interface KeyPairProblem {
  /** The bundle's name for the pair, as in secrets.yaml: certs.os, certs.k8s, … */
  pair: string;
  problem: string;
}

const spki = (key: KeyObject) => key.export({ type: 'spki', format: 'der' });

function certificateProblem(pem: string, key: KeyObject, now: Date): string | undefined {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch {
    return 'the certificate does not parse';
  }
  if (!spki(certificate.publicKey).equals(spki(createPublicKey(key)))) return 'the private key does not belong to the certificate';
  const notAfter = new Date(certificate.validTo);
  if (notAfter.getTime() <= now.getTime()) return `the certificate expired on ${notAfter.toISOString()}`;
  return undefined;
}

function keyOf(pem: string | undefined): KeyObject | string {
  if (!pem) return 'the private key is missing';
  try {
    return parsePrivateKey(pem);
  } catch (error) {
    return `the private key does not parse (${(error as Error).message})`;
  }
}

/** Every problem with the bundle's CA pairs and service-account key at `now`; empty when whole. */
export function keyPairProblems(bundle: SecretsBundle, now: Date): KeyPairProblem[] {
  const problems: KeyPairProblem[] = [];
  const authorities: Array<[string, { crt: string; key: string } | undefined]> = [
    ['certs.os', bundle.certs.os],
    ['certs.k8s', bundle.certs.k8s],
    ['certs.etcd', bundle.certs.etcd],
    ['certs.k8saggregator', bundle.certs.k8sAggregator],
  ];
  for (const [pair, authority] of authorities) {
    if (!authority?.crt) {
      problems.push({ pair, problem: 'the certificate is missing' });
      continue;
    }
    const key = keyOf(authority.key);
    const problem = typeof key === 'string' ? key : certificateProblem(authority.crt, key, now);
    if (problem) problems.push({ pair, problem });
  }
  const serviceAccount = keyOf(bundle.certs.k8sServiceAccount?.key);
  if (typeof serviceAccount === 'string') problems.push({ pair: 'certs.k8sserviceaccount', problem: serviceAccount });
  return problems;
}
