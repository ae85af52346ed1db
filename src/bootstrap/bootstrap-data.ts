// The per-Machine bootstrap data Secret `<owner>-bootstrap-data` (key `value`),
// controlled by its TalosConfig so it goes away with it. Never written over
// unless this TalosConfig controls it, or it was left by a deleted TalosConfig
// of the same name (see src/cluster/ownership).
import type { KubeClient } from '../kube/client/client';
import { SecretKind } from '../kube/client/resource';
import { V1BETA1 } from '../api/bootstrap/resources';
import type { TalosConfig } from '../api/bootstrap/v1beta1/types';
import { createIfAbsent } from '../cluster/create-if-absent';
import { requireWritable } from '../cluster/ownership';
import { ownedSecret, type SecretObject } from '../cluster/secrets';

/** The most a Secret holds (its data, decoded): the API server refuses larger ones. */
export const MAX_SECRET_DATA_BYTES = 1024 * 1024;

export function bootstrapDataSecret(config: TalosConfig, name: string, clusterName: string, data: string): SecretObject {
  return ownedSecret({ name, clusterName, owner: config, ownerKind: V1BETA1.talosConfig, values: { value: data } });
}

export type BootstrapDataOutcome = 'created' | 'kept' | 'adopted';

/**
 * Creates the Secret. One this TalosConfig controls is kept as is (a Machine's data never changes
 * under it); one left by a deleted TalosConfig of this name holds the old config and is rewritten;
 * any other is refused (SecretOwnershipConflict).
 */
export async function writeBootstrapData(client: KubeClient, desired: SecretObject, config: TalosConfig, signal?: AbortSignal): Promise<BootstrapDataOutcome> {
  const { secret, created } = await createIfAbsent(client, desired.metadata.namespace!, desired.metadata.name!, () => desired, { expectAbsent: true, signal });
  if (created) return 'created';
  if (requireWritable(secret, { object: config, kind: V1BETA1.talosConfig }).action === 'update') return 'kept';
  await client.replace(SecretKind, { ...desired, metadata: { ...desired.metadata, resourceVersion: secret.metadata.resourceVersion } }, undefined, signal);
  return 'adopted';
}
