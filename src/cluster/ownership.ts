// Whose Secret is it? The rule for every Secret a provider writes: create it,
// or update one it controls; take over a Secret controlled by an object of the
// writer's kind and name only when that object (by UID) is gone — the writer,
// recreated under the same name, is its successor; refuse anything else.
import type { KubeObject, OwnerReference } from '../kube/meta/object';
import { refersToKind } from '../kube/meta/owners';
import type { ResourceKind } from '../kube/client/resource';

export type SecretWriteDecision =
  | { action: 'update' }
  | { action: 'adopt'; previousOwner: string }
  | { action: 'refuse'; owner: string };

export interface SecretWriter {
  object: KubeObject;
  kind: ResourceKind;
}

const describe = (ref: OwnerReference) => `${ref.kind} ${ref.name}`;

/** Who the Secret belongs to, in words for a condition. */
export function describeSecretOwner(secret: KubeObject): string {
  const refs = secret.metadata.ownerReferences ?? [];
  const controller = refs.find((ref) => ref.controller === true);
  if (controller) return `controlled by ${describe(controller)} (uid ${controller.uid})`;
  if (refs.length > 0) return `owned, without a controller, by ${refs.map(describe).join(', ')}`;
  return 'it has no owner';
}

/**
 * What `writer` may do with the existing `secret`. Names are unique within a namespace, so a
 * controller of the writer's kind and name but another UID no longer exists.
 */
export function decideSecretWrite(secret: KubeObject, writer: SecretWriter): SecretWriteDecision {
  const controller = (secret.metadata.ownerReferences ?? []).find((ref) => ref.controller === true);
  if (controller?.uid === writer.object.metadata.uid) return { action: 'update' };
  if (controller && refersToKind(controller, writer.kind) && controller.name === writer.object.metadata.name) {
    return { action: 'adopt', previousOwner: controller.uid };
  }
  return { action: 'refuse', owner: describeSecretOwner(secret) };
}

/** A Secret we must not write: the condition names it and its owner. */
export class SecretOwnershipConflict extends Error {
  constructor(readonly secretName: string, readonly owner: string) {
    super(`Secret ${secretName} already exists and is not ours to write: ${owner}; delete it or give it another name`);
    this.name = 'SecretOwnershipConflict';
  }
}

/** Throws unless `writer` may write over `secret`; returns whether it takes the Secret over. */
export function requireWritable(secret: KubeObject, writer: SecretWriter): SecretWriteDecision & { action: 'update' | 'adopt' } {
  const decision = decideSecretWrite(secret, writer);
  if (decision.action === 'refuse') {
    throw new SecretOwnershipConflict(`${secret.metadata.namespace}/${secret.metadata.name}`, decision.owner);
  }
  return decision;
}
