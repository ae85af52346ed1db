// Least-privilege access to a cluster's Talos API: each call is made with a client certificate of
// the least Talos role that Talos accepts for it (reads as os:reader; Bootstrap, etcd leave and
// Kubeconfig need os:admin), signed by the cluster's OS CA from its secrets bundle, valid for an
// hour, kept only in memory and renewed at half life. No long-lived admin talosconfig is used.
import { issueClientCertificate, type IssuedCertificate } from '../talos/config/secrets/certificates';

export const TALOS_READER = 'os:reader';
export const TALOS_ADMIN = 'os:admin';
export type TalosRole = typeof TALOS_READER | typeof TALOS_ADMIN;

/** How long a certificate issued for the operator's own calls is valid. */
const CERTIFICATE_TTL_MS = 60 * 60 * 1000;
/** Clock skew between the operator and the nodes it may meet (notBefore is moved back by it). */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

/** What a Talos client needs: the CA the nodes' certificates chain to, and a client pair. */
export interface TalosCredentials {
  caPem: string;
  certPem: string;
  keyPem: string;
}

interface Held {
  credentials: TalosCredentials;
  renewAt: number;
}

export class TalosAccess {
  private readonly held = new Map<string, Held>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Credentials of `role` for one cluster (keyed by `clusterUid`, any UID that stands for it),
   * issued from its OS CA (asked of `osCa` only when a certificate must be issued).
   */
  async credentials(clusterUid: string, role: TalosRole, osCa: () => Promise<IssuedCertificate>): Promise<TalosCredentials> {
    const key = `${clusterUid}/${role}`;
    const now = this.now();
    const held = this.held.get(key);
    if (held && now < held.renewAt) return held.credentials;
    const ca = await osCa();
    const issued = await issueClientCertificate({
      ca, organizations: [role], notBefore: new Date(now - CLOCK_SKEW_MS), notAfter: new Date(now + CERTIFICATE_TTL_MS),
    });
    const credentials = { caPem: ca.crt, certPem: issued.crt, keyPem: issued.key };
    this.held.set(key, { credentials, renewAt: now + CERTIFICATE_TTL_MS / 2 });
    return credentials;
  }

  /** The cluster is gone: drop its certificates. */
  forget(clusterUid: string): void {
    for (const key of this.held.keys()) if (key.startsWith(`${clusterUid}/`)) this.held.delete(key);
  }
}
