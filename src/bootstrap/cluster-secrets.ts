// The cluster-wide Secrets the bootstrap provider keeps: the Talos secrets
// bundle (`<cluster>-talos`) and the Kubernetes CA (`<cluster>-ca`). Both are
// created once and never regenerated: a lost race re-reads the winner's copy,
// an unreadable copy is refused, and a missing one is restored from memory or
// refused once the cluster has used a bundle — a second bundle would split the
// cluster's CAs.
import { isNotFound } from '../kube/client/api-error';
import type { KubeClient } from '../kube/client/client';
import { SecretKind } from '../kube/client/resource';
import type { Cluster } from '../api/capi/v1beta2/types';
import { encodeSecretsBundle, generateKey, generateSecretsBundle, type KeyAlgorithm, type SecretsBundle, type TalosContract } from '../talos/config';
import { SingleFlight } from '../kube/controller/single-flight';
import { createIfAbsent } from '../cluster/create-if-absent';
import { BUNDLE_KEY, bundleFromSecret, InvalidSecretsBundle } from '../cluster/bundle-secret';
import { countBundleCreated } from '../metrics/provider-metrics';
import { clusterOwnedSecret, clusterSecretNames, type SecretObject } from '../cluster/secrets';
import { KeyPool, POOLED_ALGORITHM } from './key-pool';

export interface BundleRequest {
  contract: TalosContract;
  /**
   * Asked only when the Secret is absent and this process holds no copy: has the cluster already
   * used a bundle? If so none is made.
   */
  clusterUsedABundle: () => Promise<boolean>;
  /**
   * Read the Secret even when a copy is held (at most every `verifyEveryMs`): a new Machine needs
   * it to be there still, and a deleted one is restored from the copy.
   */
  verify?: boolean;
  signal?: AbortSignal;
}

export interface BundleResult {
  bundle: SecretsBundle;
  /** `created`: a new bundle; `restored`: the Secret was gone and is back from the copy held here. */
  outcome: 'read' | 'created' | 'restored';
}

/** A bundle as last read, with the Secret's exact data to restore it from. */
interface HeldBundle {
  resourceVersion?: string;
  data: Record<string, string>;
  bundle: SecretsBundle;
  /** When the Secret was last seen to be there (ms since the epoch). */
  seenAt: number;
}

export interface ClusterSecretsOptions {
  now?: () => Date;
  /**
   * A burst of new Machines checks the bundle Secret once, not once each. Until the next check a
   * new config renders from the held copy, which is the Secret's exact content.
   */
  verifyEveryMs?: number;
  /** Where RSA-4096 service-account keys come from (contracts ≥ 1.7); a pool of two by default. */
  rsaKeys?: KeyPool;
}

/**
 * Reads the cluster's secrets bundle, creating it on first use. Concurrent callers for the same
 * cluster in this process share one read or generation (RSA-4096 keys are slow); a create race
 * with another process ends with both using the copy that reached the API server first.
 */
export class ClusterSecrets {
  private readonly inFlight = new SingleFlight<BundleResult>();
  /** By Cluster UID; dropped with `forget` when the Cluster goes. */
  private readonly held = new Map<string, HeldBundle>();
  /** Clusters (by UID) whose `<cluster>-ca` is known to exist. */
  private readonly caWritten = new Set<string>();

  private readonly now: () => Date;
  private readonly verifyEveryMs: number;
  private readonly rsaKeys: KeyPool;

  constructor(private readonly client: KubeClient, options: ClusterSecretsOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.verifyEveryMs = options.verifyEveryMs ?? 5_000;
    this.rsaKeys = options.rsaKeys ?? new KeyPool();
  }

  /** Starts making the keys a new cluster's bundle will need (see KeyPool.warmUp). */
  warmUp(): void {
    this.rsaKeys.warmUp();
  }

  /** Drops what is held for a Cluster that no longer exists. */
  forget(clusterUid: string): void {
    this.held.delete(clusterUid);
    this.caWritten.delete(clusterUid);
  }

  /** True while a bundle is held for the Cluster with this UID. */
  holds(clusterUid: string): boolean {
    return this.held.has(clusterUid);
  }

  async bundle(cluster: Cluster, request: BundleRequest): Promise<BundleResult> {
    const uid = cluster.metadata.uid!;
    const held = this.held.get(uid);
    const fresh = held && (!request.verify || this.now().getTime() - held.seenAt < this.verifyEveryMs);
    if (fresh) return { bundle: held.bundle, outcome: 'read' };
    return this.inFlight.run(uid, () => this.readOrCreate(cluster, request));
  }

  private async read(namespace: string, name: string, signal?: AbortSignal): Promise<SecretObject | undefined> {
    try {
      return await this.client.get<SecretObject>(SecretKind, namespace, name, signal);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private remember(uid: string, secret: SecretObject, bundle?: SecretsBundle): SecretsBundle {
    const held = this.held.get(uid);
    const same = held && held.resourceVersion === secret.metadata.resourceVersion;
    const current = bundle ?? (same ? held.bundle : bundleFromSecret(secret, this.now()));
    this.held.set(uid, { resourceVersion: secret.metadata.resourceVersion, data: secret.data ?? {}, bundle: current, seenAt: this.now().getTime() });
    return current;
  }

  private async readOrCreate(cluster: Cluster, request: BundleRequest): Promise<BundleResult> {
    const { signal } = request;
    const uid = cluster.metadata.uid!;
    const namespace = cluster.metadata.namespace!;
    const name = clusterSecretNames(cluster.metadata.name!).bundle;
    const existing = await this.read(namespace, name, signal);
    if (existing) return { bundle: this.remember(uid, existing), outcome: 'read' };

    const held = this.held.get(uid);
    if (!held && (await request.clusterUsedABundle())) {
      // Another process may have made it while the evidence was gathered.
      const late = await this.read(namespace, name, signal);
      if (late) return { bundle: this.remember(uid, late), outcome: 'read' };
      throw new InvalidSecretsBundle(
        `${namespace}/${name}`,
        'is missing, but this cluster already used a bundle (machines were configured from it, or its Kubernetes CA Secret exists): restore the Secret; a new bundle would not match them',
      );
    }
    let generated: SecretsBundle | undefined;
    const { secret, created } = await createIfAbsent(
      this.client,
      namespace,
      name,
      async () => {
        if (held) return clusterOwnedSecret(cluster, name, {}, held.data);
        generated = await generateSecretsBundle({ contract: request.contract, serviceAccountKey: (algorithm) => this.serviceAccountKey(algorithm) });
        return clusterOwnedSecret(cluster, name, { [BUNDLE_KEY]: encodeSecretsBundle(generated) });
      },
      { expectAbsent: true, signal },
    );
    if (!created) return { bundle: this.remember(uid, secret), outcome: 'read' };
    countBundleCreated(generated ? 'generated' : 'restored');
    return { bundle: this.remember(uid, secret, generated ?? held!.bundle), outcome: generated ? 'created' : 'restored' };
  }

  private async serviceAccountKey(algorithm: KeyAlgorithm): Promise<string> {
    if (algorithm === POOLED_ALGORITHM) return this.rsaKeys.take();
    return (await generateKey(algorithm)).privateKeyPem;
  }

  /** True when `<cluster>-ca` exists (evidence that the cluster was configured). */
  async kubernetesCAExists(cluster: Cluster, signal?: AbortSignal): Promise<boolean> {
    if (this.caWritten.has(cluster.metadata.uid ?? '')) return true;
    return (await this.read(cluster.metadata.namespace!, clusterSecretNames(cluster.metadata.name!).kubernetesCA, signal)) !== undefined;
  }

  /**
   * Writes `<cluster>-ca` (tls.crt/tls.key: the Kubernetes CA, for Cluster API's kubeconfig) if it
   * is not there yet. Never updated: an existing Secret wins.
   */
  async ensureKubernetesCA(cluster: Cluster, ca: { crt: string; key: string }, signal?: AbortSignal): Promise<boolean> {
    const uid = cluster.metadata.uid ?? '';
    if (this.caWritten.has(uid)) return false;
    const name = clusterSecretNames(cluster.metadata.name!).kubernetesCA;
    const { created } = await createIfAbsent(
      this.client,
      cluster.metadata.namespace!,
      name,
      () => clusterOwnedSecret(cluster, name, { 'tls.crt': ca.crt, 'tls.key': ca.key }),
      { signal },
    );
    this.caWritten.add(uid);
    return created;
  }
}
