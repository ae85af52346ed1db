// The cluster's `<cluster>-talosconfig` Secret: a talosconfig with an os:admin
// client certificate for the control-plane endpoints. Unlike CABPT it is only
// rewritten when the certificate has used half its life or the endpoints
// changed, not on every reconcile; the caller requeues itself for that moment.
// Only a Secret the Cluster controls is rewritten (see src/cluster/ownership).
import { X509Certificate } from 'node:crypto';
import { isConflict } from '../kube/client/api-error';
import type { KubeClient } from '../kube/client/client';
import { SecretKind } from '../kube/client/resource';
import { ClusterKind } from '../api/capi/v1beta2/resources';
import type { Cluster } from '../api/capi/v1beta2/types';
import { generateTalosconfig, parseTalosconfig, type SecretsBundle } from '../talos/config';
import { createIfAbsent } from '../cluster/create-if-absent';
import { requireWritable } from '../cluster/ownership';
import { clusterOwnedSecret, clusterSecretNames, fromBase64, type SecretObject } from '../cluster/secrets';
import { renewalDue, talosconfigNeedsRenewal, type IssuedClientCertificate } from './decisions';

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

/** How long a talosconfig Secret of ours, once read or written, is trusted without reading it again. */
export const TALOSCONFIG_RECHECK_MS = 5_000;

/**
 * The certificate last read from each cluster's talosconfig Secret, by the Secret's
 * resourceVersion: the control-plane configs of a cluster parse one Secret once, not each. It also
 * remembers when a Secret of ours was last seen, so that the control-plane configs of a cluster
 * reconciling together (a new cluster, a burst) read it once, not once each.
 */
export class IssuedCertificates {
  private readonly byCluster = new Map<string, { resourceVersion: string; issued: IssuedClientCertificate | undefined; oursSeenAt?: number }>();

  constructor(private readonly recheckMs = TALOSCONFIG_RECHECK_MS) {}

  of(clusterUid: string, secret: SecretObject, contextName: string): IssuedClientCertificate | undefined {
    const resourceVersion = secret.metadata.resourceVersion ?? '';
    const known = this.byCluster.get(clusterUid);
    if (known && resourceVersion && known.resourceVersion === resourceVersion) return known.issued;
    const issued = issuedCertificateOf(fromBase64(secret.data?.[TALOSCONFIG_KEY]), contextName);
    this.byCluster.set(clusterUid, { resourceVersion, issued });
    return issued;
  }

  /** The Secret last passed to `of` is ours (we wrote it, or may update it) and was there at `now`. */
  seenOurs(clusterUid: string, now: Date): void {
    const known = this.byCluster.get(clusterUid);
    if (known) known.oursSeenAt = now.getTime();
  }

  /** The certificate of our Secret if it was seen less than the recheck interval before `now`. */
  recentlySeen(clusterUid: string, now: Date): IssuedClientCertificate | undefined {
    const known = this.byCluster.get(clusterUid);
    if (known?.oursSeenAt === undefined || now.getTime() - known.oursSeenAt >= this.recheckMs) return undefined;
    return known.issued;
  }

  /** The Cluster is gone. */
  forget(clusterUid: string): void {
    this.byCluster.delete(clusterUid);
  }
}

export type TalosconfigOutcome = 'created' | 'renewed' | 'unchanged';

export interface TalosconfigResult {
  outcome: TalosconfigOutcome;
  /** When the Secret should be looked at again (its certificate's half-life). */
  renewAt: Date;
}

/** A write we lost to a concurrent one: look again shortly rather than at the old half-life. */
const AFTER_A_LOST_RACE_MS = 1_000;

export async function reconcileTalosconfig(
  client: KubeClient,
  cluster: Cluster,
  bundle: SecretsBundle,
  endpoints: string[],
  now: Date,
  issuedCertificates: IssuedCertificates,
  signal?: AbortSignal,
): Promise<TalosconfigResult> {
  const clusterName = cluster.metadata.name!;
  const uid = cluster.metadata.uid ?? '';
  const name = clusterSecretNames(clusterName).talosconfig;
  const issue = () => generateTalosconfig({ bundle, contextName: clusterName, endpoints, now });
  const dueOf = (issued: IssuedClientCertificate | undefined) => (issued ? renewalDue(issued) : now);
  const recent = issuedCertificates.recentlySeen(uid, now);
  if (recent && !talosconfigNeedsRenewal(recent, endpoints, now)) return { outcome: 'unchanged', renewAt: dueOf(recent) };
  const issuedIn = (secret: SecretObject) => issuedCertificates.of(uid, secret, clusterName);
  const issuedInOurs = (secret: SecretObject) => {
    const issued = issuedIn(secret);
    issuedCertificates.seenOurs(uid, now);
    return issued;
  };
  const { secret: existing, created } = await createIfAbsent(
    client,
    cluster.metadata.namespace!,
    name,
    async () => clusterOwnedSecret(cluster, name, { [TALOSCONFIG_KEY]: await issue() }),
    { signal },
  );
  if (created) return { outcome: 'created', renewAt: dueOf(issuedInOurs(existing)) };

  const decision = requireWritable(existing, { object: cluster, kind: ClusterKind });
  // Reading a talosconfig and its certificate is most of this function's CPU: once per version.
  const current = issuedIn(existing);
  if (decision.action === 'update' && !talosconfigNeedsRenewal(current, endpoints, now)) {
    issuedCertificates.seenOurs(uid, now);
    return { outcome: 'unchanged', renewAt: dueOf(current) };
  }
  const desired = clusterOwnedSecret(cluster, name, { [TALOSCONFIG_KEY]: await issue() });
  let written: SecretObject;
  try {
    written = await client.replace<SecretObject>(
      SecretKind,
      {
        ...existing,
        data: { ...(existing.data ?? {}), ...desired.data },
        metadata: {
          ...existing.metadata,
          labels: { ...(existing.metadata.labels ?? {}), ...desired.metadata.labels },
          ownerReferences: desired.metadata.ownerReferences,
        },
      },
      undefined,
      signal,
    );
  } catch (error) {
    if (isConflict(error)) return { outcome: 'unchanged', renewAt: new Date(now.getTime() + AFTER_A_LOST_RACE_MS) };
    throw error;
  }
  return { outcome: 'renewed', renewAt: dueOf(issuedInOurs(written)) };
}
