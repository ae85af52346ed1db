// The cluster's `<cluster>-talosconfig` Secret: a talosconfig with an os:admin
// client certificate for the control-plane endpoints. Unlike CABPT it is only
// rewritten when the certificate has used half its life or the endpoints
// changed, not on every reconcile.
import { X509Certificate } from 'node:crypto';
import { isAlreadyExists, isConflict, isNotFound } from '../kube/api-error';
import type { KubeClient } from '../kube/client';
import { SecretKind } from '../kube/resource';
import type { Cluster } from '../api/capi/v1beta2/types';
import { generateTalosconfig, parseTalosconfig, type SecretsBundle } from '../talos/config';
import { clusterOwnedSecret, fromBase64, type SecretObject } from './cluster-secrets';
import { clusterSecretNames, talosconfigNeedsRenewal, type IssuedClientCertificate } from './decisions';

export const TALOSCONFIG_KEY = 'talosconfig';

/** What the current Secret holds, as far as renewal cares; undefined if unreadable. */
export function issuedCertificateOf(talosconfigText: string, contextName: string): IssuedClientCertificate | undefined {
  try {
    const parsed = parseTalosconfig(talosconfigText);
    const context = parsed.contexts[contextName] ?? parsed.contexts[parsed.context];
    if (!context?.crt) return undefined;
    const cert = new X509Certificate(context.crt);
    return { notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo), endpoints: context.endpoints };
  } catch {
    return undefined;
  }
}

export type TalosconfigOutcome = 'created' | 'renewed' | 'unchanged';

export async function reconcileTalosconfig(
  client: KubeClient,
  cluster: Cluster,
  bundle: SecretsBundle,
  endpoints: string[],
  now: Date = new Date(),
): Promise<TalosconfigOutcome> {
  const clusterName = cluster.metadata.name!;
  const name = clusterSecretNames(clusterName).talosconfig;
  let existing: SecretObject | undefined;
  try {
    existing = await client.get<SecretObject>(SecretKind, cluster.metadata.namespace!, name);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const current = existing ? issuedCertificateOf(fromBase64(existing.data?.[TALOSCONFIG_KEY]), clusterName) : undefined;
  if (existing && !talosconfigNeedsRenewal(current, endpoints, now)) return 'unchanged';

  const text = await generateTalosconfig({ bundle, contextName: clusterName, endpoints, now });
  const desired = clusterOwnedSecret(cluster, name, { [TALOSCONFIG_KEY]: text });
  if (!existing) {
    try {
      await client.create(SecretKind, desired);
      return 'created';
    } catch (error) {
      // Another reconcile wrote it a moment ago; its copy is as good as ours.
      if (isAlreadyExists(error)) return 'unchanged';
      throw error;
    }
  }
  try {
    await client.replace(SecretKind, {
      ...existing,
      data: { ...(existing.data ?? {}), ...desired.data },
      metadata: { ...existing.metadata, labels: { ...(existing.metadata.labels ?? {}), ...desired.metadata.labels } },
    });
  } catch (error) {
    if (isConflict(error)) return 'unchanged';
    throw error;
  }
  return 'renewed';
}
