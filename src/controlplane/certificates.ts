// The cluster's certificates as the control plane sees them: the secrets bundle Secret
// `<cluster>-talos` (the bootstrap provider writes it when it renders the first Machine's config)
// holds every CA of the cluster; the control plane reaches its nodes with certificates signed by
// the bundle's Talos API CA. CertificatesAvailable, KCP's condition on itself, says whether that
// Secret exists and reads whole (every CA parses, its key belongs to it, none has expired) and,
// if not, what is missing.
import type { KubeClient } from '../kube/client/client';
import { isNotFound } from '../kube/client/api-error';
import { SecretKind } from '../kube/client/resource';
import type { ConditionInput } from '../kube/patch/conditions';
import type { SecretsBundle } from '../talos/config';
import { clusterSecretNames, type SecretObject } from '../cluster/secrets';
import { bundleFromSecret, InvalidSecretsBundle } from '../cluster/bundle-secret';

export const CERTIFICATES_AVAILABLE = 'CertificatesAvailable';

/** The bundle Secret does not exist (yet). */
export class MissingSecretsBundle extends Error {
  constructor(readonly secretName: string) {
    super(`Secret ${secretName} does not exist yet (the bootstrap provider writes the secrets bundle when it renders the first Machine's config)`);
    this.name = 'MissingSecretsBundle';
  }
}

/** The bundle Secret of a cluster, undefined when it does not exist. */
async function bundleSecretOf(client: KubeClient, namespace: string, clusterName: string, signal?: AbortSignal): Promise<SecretObject | undefined> {
  try {
    return await client.get<SecretObject>(SecretKind, namespace, clusterSecretNames(clusterName).bundle, signal);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The cluster's secrets bundle, read whole at `now`; throws MissingSecretsBundle or InvalidSecretsBundle. */
export async function readSecretsBundle(client: KubeClient, namespace: string, clusterName: string, now: Date, signal?: AbortSignal): Promise<SecretsBundle> {
  const secret = await bundleSecretOf(client, namespace, clusterName, signal);
  if (!secret) throw new MissingSecretsBundle(`${namespace}/${clusterSecretNames(clusterName).bundle}`);
  return bundleFromSecret(secret, now);
}

export type CertificatesCheck = { available: true } | { available: false; reason: 'SecretNotFound' | 'InvalidSecret'; message: string };

/** Whether the bundle Secret `name` (undefined: absent) holds the cluster's certificates whole at `now`. */
export function certificatesCheckOf(secret: SecretObject | undefined, name: string, now: Date): CertificatesCheck {
  if (!secret) return { available: false, reason: 'SecretNotFound', message: new MissingSecretsBundle(name).message };
  try {
    bundleFromSecret(secret, now);
    return { available: true };
  } catch (error) {
    if (error instanceof InvalidSecretsBundle) return { available: false, reason: 'InvalidSecret', message: error.message };
    throw error;
  }
}

/** Reads the bundle Secret and checks it (a failure to read it other than its absence is thrown). */
export async function checkCertificates(client: KubeClient, namespace: string, clusterName: string, now: Date, signal?: AbortSignal): Promise<CertificatesCheck> {
  const secret = await bundleSecretOf(client, namespace, clusterName, signal);
  return certificatesCheckOf(secret, `${namespace}/${clusterSecretNames(clusterName).bundle}`, now);
}

/** The CertificatesAvailable condition from a check (undefined: not checked yet). */
export function certificatesCondition(check: CertificatesCheck | undefined): ConditionInput {
  const type = CERTIFICATES_AVAILABLE;
  if (!check) return { type, status: 'Unknown', reason: 'NotChecked', message: 'The secrets bundle Secret has not been read yet' };
  return check.available
    ? { type, status: 'True', reason: 'Available', message: '' }
    : { type, status: 'False', reason: check.reason, message: check.message };
}
