// Owner-reference mapping used by `owns()`: child object → keys of its owners of the primary kind.
import type { KubeObject, ObjectKey, OwnerReference } from './object';
import { type ResourceKind, apiVersionOf } from '../client/resource';

function groupOfApiVersion(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** True if the reference points at `kind` (any version of its group: versions convert). */
export function refersToKind(ref: OwnerReference, kind: ResourceKind): boolean {
  return ref.kind === kind.kind && groupOfApiVersion(ref.apiVersion) === kind.group;
}

export function ownerKeys(child: KubeObject, ownerKind: ResourceKind, onlyController = true): ObjectKey[] {
  const namespace = ownerKind.namespaced ? (child.metadata.namespace ?? '') : '';
  return (child.metadata.ownerReferences ?? [])
    .filter((ref) => refersToKind(ref, ownerKind) && (!onlyController || ref.controller === true))
    .map((ref) => ({ namespace, name: ref.name }));
}

export function controllerOwnerReference(owner: KubeObject, kind: ResourceKind): OwnerReference {
  const { name, uid } = owner.metadata;
  if (!name || !uid) throw new Error(`owner ${kind.kind} lacks name or uid`);
  return {
    apiVersion: apiVersionOf(kind),
    kind: kind.kind, name, uid, controller: true, blockOwnerDeletion: true,
  };
}
