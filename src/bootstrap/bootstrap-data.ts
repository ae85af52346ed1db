// The per-Machine bootstrap data Secret `<owner>-bootstrap-data` (key `value`),
// owned by its TalosConfig so it goes away with it.
import { isAlreadyExists } from '../kube/api-error';
import type { KubeClient } from '../kube/client';
import { controllerOwnerReference } from '../kube/owners';
import { SecretKind } from '../kube/resource';
import { V1BETA1 } from '../api/bootstrap/resources';
import { CLUSTER_NAME_LABEL } from '../api/capi/v1beta2/types';
import type { TalosConfig } from '../api/bootstrap/v1beta1/types';
import { toBase64, type SecretObject } from './cluster-secrets';

export function bootstrapDataSecret(config: TalosConfig, name: string, clusterName: string, data: string): SecretObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace: config.metadata.namespace,
      labels: { [CLUSTER_NAME_LABEL]: clusterName },
      ownerReferences: [controllerOwnerReference(config, V1BETA1.talosConfig)],
    },
    type: 'Opaque',
    data: { value: toBase64(data) },
  };
}

/** True when the Secret's controlling owner is this very TalosConfig (same UID). */
export function ownedBy(secret: SecretObject, config: TalosConfig): boolean {
  return (secret.metadata.ownerReferences ?? []).some((ref) => ref.controller && ref.uid === config.metadata.uid);
}

/**
 * Creates the Secret. If one by that name exists and this TalosConfig owns it, it is kept as is
 * (a Machine's data never changes under it). If it belongs to a TalosConfig that was deleted and
 * recreated under the same name, it holds the old config: it is taken over and rewritten.
 */
export async function writeBootstrapData(client: KubeClient, desired: SecretObject, config: TalosConfig): Promise<'created' | 'kept' | 'replaced'> {
  try {
    await client.create(SecretKind, desired);
    return 'created';
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
  }
  const existing = await client.get<SecretObject>(SecretKind, desired.metadata.namespace!, desired.metadata.name!);
  if (ownedBy(existing, config)) return 'kept';
  await client.replace(SecretKind, { ...desired, metadata: { ...desired.metadata, resourceVersion: existing.metadata.resourceVersion } });
  return 'replaced';
}
