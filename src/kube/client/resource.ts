// Describes an API resource (a "kind") well enough to build REST paths without discovery.

export interface ResourceKind {
  /** '' for the core group. */
  group: string;
  version: string;
  kind: string;
  /** Lower-case plural used in URLs, e.g. "configmaps". */
  plural: string;
  namespaced: boolean;
}

export function apiVersionOf(kind: ResourceKind): string {
  return kind.group ? `${kind.group}/${kind.version}` : kind.version;
}

/** A stable identifier for a kind, used to share informers and to label logs. */
export function kindId(kind: ResourceKind): string {
  return `${kind.plural}.${kind.version}.${kind.group || 'core'}`;
}

function groupVersionPrefix(kind: ResourceKind): string {
  return kind.group ? `/apis/${kind.group}/${kind.version}` : `/api/${kind.version}`;
}

/**
 * REST path of a collection (name omitted) or object. For namespaced kinds an empty namespace
 * means "all namespaces" (only meaningful for collections).
 */
export function resourcePath(kind: ResourceKind, namespace = '', name?: string, subresource?: string): string {
  let path = groupVersionPrefix(kind);
  if (kind.namespaced && namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${kind.plural}`;
  if (name !== undefined) {
    if (!name) throw new Error(`empty object name for ${kindId(kind)}`);
    if (kind.namespaced && !namespace) throw new Error(`namespace required for ${kindId(kind)} ${name}`);
    path += `/${encodeURIComponent(name)}`;
    if (subresource) path += `/${subresource}`;
  }
  return path;
}

// Kinds the runtime itself needs.
export const LeaseKind: ResourceKind = {
  group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', namespaced: true,
};
export const EventsV1Kind: ResourceKind = {
  group: 'events.k8s.io', version: 'v1', kind: 'Event', plural: 'events', namespaced: true,
};
export const CoreEventKind: ResourceKind = {
  group: '', version: 'v1', kind: 'Event', plural: 'events', namespaced: true,
};
export const ConfigMapKind: ResourceKind = {
  group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true,
};
export const NodeKind: ResourceKind = {
  group: '', version: 'v1', kind: 'Node', plural: 'nodes', namespaced: false,
};
export const SecretKind: ResourceKind = {
  group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true,
};
