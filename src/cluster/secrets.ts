// The Secrets a Talos cluster's providers share, and the one way to build them:
// `<cluster>-talos` (the secrets bundle), `<cluster>-ca` (the Kubernetes CA
// Cluster API reads), `<cluster>-talosconfig` (an os:admin client config) and
// `<cluster>-kubeconfig` (written by the control plane), plus each Machine's
// bootstrap data Secret. Provider-neutral: bootstrap and control plane import it.
import type { KubeObject } from '../kube/meta/object';
import type { ResourceKind } from '../kube/client/resource';
import { controllerOwnerReference } from '../kube/meta/owners';
import { ClusterKind } from '../api/capi/v1beta2/resources';
import { CLUSTER_NAME_LABEL, type Cluster } from '../api/capi/v1beta2/types';

export interface SecretObject extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

export const fromBase64 = (value: string | undefined): string => Buffer.from(value ?? '', 'base64').toString('utf8');
export const toBase64 = (value: string): string => Buffer.from(value, 'utf8').toString('base64');

export const clusterSecretNames = (cluster: string) => ({
  bundle: `${cluster}-talos`,
  kubernetesCA: `${cluster}-ca`,
  talosconfig: `${cluster}-talosconfig`,
  kubeconfig: `${cluster}-kubeconfig`,
});

/** Cluster API's type for the Secrets it reads (kubeconfig); ours are Opaque. */
const CLUSTER_SECRET_TYPE = 'cluster.x-k8s.io/secret';

export interface OwnedSecretSpec {
  name: string;
  /** The cluster it belongs to (its label); the namespace is the owner's. */
  clusterName: string;
  owner: KubeObject;
  ownerKind: ResourceKind;
  /** Plain-text values; encoded here. */
  values?: Record<string, string>;
  /** Values already base64-encoded, kept byte for byte (restoring a Secret exactly). */
  encoded?: Record<string, string>;
  type?: string;
}

/** A Secret labelled with its cluster and controlled by `owner`, so it goes away with it. */
export function ownedSecret(spec: OwnedSecretSpec): SecretObject {
  const encoded = Object.fromEntries(Object.entries(spec.values ?? {}).map(([key, value]) => [key, toBase64(value)]));
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: spec.name,
      namespace: spec.owner.metadata.namespace,
      labels: { [CLUSTER_NAME_LABEL]: spec.clusterName },
      ownerReferences: [controllerOwnerReference(spec.owner, spec.ownerKind)],
    },
    type: spec.type ?? 'Opaque',
    data: { ...(spec.encoded ?? {}), ...encoded },
  };
}

/** A cluster-wide Secret controlled by the Cluster itself. */
export function clusterOwnedSecret(cluster: Cluster, name: string, values: Record<string, string>, encoded?: Record<string, string>): SecretObject {
  return ownedSecret({ name, clusterName: cluster.metadata.name!, owner: cluster, ownerKind: ClusterKind, values, encoded });
}

/** `<cluster>-kubeconfig` as Cluster API reads it (key `value`), controlled by the control plane that wrote it. */
export function kubeconfigSecret(cluster: Cluster, controlPlane: KubeObject, controlPlaneKind: ResourceKind, kubeconfig: string): SecretObject {
  return ownedSecret({
    name: clusterSecretNames(cluster.metadata.name!).kubeconfig,
    clusterName: cluster.metadata.name!,
    owner: controlPlane,
    ownerKind: controlPlaneKind,
    values: { value: kubeconfig },
    type: CLUSTER_SECRET_TYPE,
  });
}
