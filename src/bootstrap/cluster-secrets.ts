// The cluster-wide Secrets the bootstrap provider keeps: the Talos secrets
// bundle (`<cluster>-talos`) and the Kubernetes CA (`<cluster>-ca`). Both are
// created once and never regenerated: a lost race re-reads the winner's copy,
// and an unreadable copy is an error, never a reason to make a new one.
import { isAlreadyExists, isNotFound } from '../kube/api-error';
import type { KubeClient } from '../kube/client';
import type { KubeObject } from '../kube/object';
import { SingleFlight } from '../kube/single-flight';
import { controllerOwnerReference } from '../kube/owners';
import { ClusterKind } from '../api/capi/v1beta2/resources';
import { SecretKind } from '../kube/resource';
import { CLUSTER_NAME_LABEL, type Cluster } from '../api/capi/v1beta2/types';
import {
  encodeSecretsBundle,
  generateSecretsBundle,
  loadSecretsBundle,
  type SecretsBundle,
  type TalosContract,
} from '../talos/config';
import { clusterSecretNames } from './decisions';

export interface SecretObject extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

export const fromBase64 = (value: string | undefined): string => Buffer.from(value ?? '', 'base64').toString('utf8');
export const toBase64 = (value: string): string => Buffer.from(value, 'utf8').toString('base64');

/** A Secret belonging to the cluster: its label, and the Cluster as controlling owner. */
export function clusterOwnedSecret(cluster: Cluster, name: string, data: Record<string, string>): SecretObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace: cluster.metadata.namespace,
      labels: { [CLUSTER_NAME_LABEL]: cluster.metadata.name! },
      ownerReferences: [controllerOwnerReference(cluster, ClusterKind)],
    },
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, toBase64(value)])),
  };
}

export class SecretsBundleUnreadable extends Error {
  constructor(secret: string, cause: unknown) {
    super(`secrets bundle Secret ${secret} cannot be read: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'SecretsBundleUnreadable';
  }
}

/** The bundle stored in a `<cluster>-talos` Secret: key `bundle`, or CABPT's older three-key layout. */
export function bundleFromSecret(secret: SecretObject): SecretsBundle {
  const data = secret.data ?? {};
  try {
    if (data.bundle !== undefined) return loadSecretsBundle(fromBase64(data.bundle));
    return loadSecretsBundle({
      certs: fromBase64(data.certs),
      kubeSecrets: fromBase64(data.kubeSecrets),
      trustdInfo: fromBase64(data.trustdInfo),
    });
  } catch (error) {
    throw new SecretsBundleUnreadable(`${secret.metadata.namespace}/${secret.metadata.name}`, error);
  }
}

export interface BundleResult {
  bundle: SecretsBundle;
  /** True when this call created the Secret. */
  created: boolean;
}

/**
 * Reads the cluster's secrets bundle, creating it on first use. Concurrent callers for the same
 * cluster in this process share one generation (RSA-4096 keys are slow); a create race with
 * another process ends with both using the copy that reached the API server first.
 */
export class ClusterSecrets {
  private readonly inFlight = new SingleFlight<BundleResult>();
  /** Bundles are never changed once written: after the first read, keep them per Cluster UID. */
  private readonly known = new Map<string, SecretsBundle>();
  /** Clusters (by UID) whose `<cluster>-ca` is known to exist. */
  private readonly caWritten = new Set<string>();

  constructor(private readonly client: KubeClient) {}

  async bundle(cluster: Cluster, contract: TalosContract, options: { allowCreate: boolean }): Promise<BundleResult> {
    const key = `${cluster.metadata.namespace}/${cluster.metadata.name}/${cluster.metadata.uid}`;
    const known = this.known.get(key);
    if (known) return { bundle: known, created: false };
    return this.inFlight.run(key, async () => {
      const result = await this.readOrCreate(cluster, contract, options.allowCreate);
      this.known.set(key, result.bundle);
      return result;
    });
  }

  private async readOrCreate(cluster: Cluster, contract: TalosContract, allowCreate: boolean): Promise<BundleResult> {
    const namespace = cluster.metadata.namespace!;
    const name = clusterSecretNames(cluster.metadata.name!).bundle;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const secret = await this.client.get<SecretObject>(SecretKind, namespace, name);
        return { bundle: bundleFromSecret(secret), created: false };
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      if (!allowCreate) {
        throw new Error(`secrets bundle Secret ${namespace}/${name} is missing, but machines of this cluster were configured from it: restore it (a new bundle would not match them)`);
      }
      const bundle = await generateSecretsBundle({ contract });
      try {
        await this.client.create(SecretKind, clusterOwnedSecret(cluster, name, { bundle: encodeSecretsBundle(bundle) }));
        return { bundle, created: true };
      } catch (error) {
        // Someone else created it first: theirs is the bundle; read it on the next pass.
        if (!isAlreadyExists(error)) throw error;
      }
    }
    throw new Error(`secrets bundle Secret ${namespace}/${name}: gave up after repeated create/read races`);
  }

  /**
   * Writes `<cluster>-ca` (tls.crt/tls.key: the Kubernetes CA, for Cluster API's kubeconfig) if it
   * is not there yet. Never updated: an existing Secret wins.
   */
  async ensureKubernetesCA(cluster: Cluster, ca: { crt: string; key: string }): Promise<boolean> {
    const uid = cluster.metadata.uid ?? '';
    if (this.caWritten.has(uid)) return false;
    const name = clusterSecretNames(cluster.metadata.name!).kubernetesCA;
    let created = false;
    try {
      await this.client.get(SecretKind, cluster.metadata.namespace!, name);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      try {
        await this.client.create(SecretKind, clusterOwnedSecret(cluster, name, { 'tls.crt': ca.crt, 'tls.key': ca.key }));
        created = true;
      } catch (createError) {
        if (!isAlreadyExists(createError)) throw createError;
      }
    }
    this.caWritten.add(uid);
    return created;
  }
}
