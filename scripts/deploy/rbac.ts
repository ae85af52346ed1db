// What the operator's identity may do, as data. The bootstrap rules are exactly the requests the
// code makes (test/unit/deploy/rbac.test.ts derives that set from src/ and compares); the
// control-plane rules are what the TalosControlPlane controller will need once it lands.
import { V1BETA1 } from '../../src/api/bootstrap/resources';
import { ClusterKind, MachineKind, MachinePoolKind } from '../../src/api/capi/v1beta2/resources';
import { CoreEventKind, EventsV1Kind, LeaseKind, SecretKind, type ResourceKind } from '../../src/kube/resource';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: Verb[];
}

/** One rule per kind (and subresource) so that a reader sees at a glance why each verb is there. */
function rule(kind: ResourceKind, verbs: Verb[], subresource?: string): PolicyRule {
  return { apiGroups: [kind.group], resources: [subresource ? `${kind.plural}/${subresource}` : kind.plural], verbs };
}

/** Cluster-wide: the bootstrap controller works on objects in every namespace. */
export function bootstrapClusterRules(): PolicyRule[] {
  return [
    // Bootstrap data, cluster secrets bundle, CA and talosconfig Secrets: read one, create, replace.
    rule(SecretKind, ['get', 'create', 'update']),
    // Informer (list/watch); the patch helper patches finalizers and re-reads on conflict (get).
    rule(V1BETA1.talosConfig, ['get', 'list', 'watch', 'patch']),
    rule(V1BETA1.talosConfig, ['patch'], 'status'),
    // Read through informers only.
    rule(ClusterKind, ['list', 'watch']),
    rule(MachineKind, ['list', 'watch']),
    rule(MachinePoolKind, ['list', 'watch']),
    // Events go to events.k8s.io/v1, falling back to core/v1; a repeated event is patched into a series.
    rule(EventsV1Kind, ['create', 'patch']),
    rule(CoreEventKind, ['create', 'patch']),
  ];
}

/** Not used by any code yet: what the TalosControlPlane controller (CACPPT's job) will need. */
export function controlPlaneClusterRules(): PolicyRule[] {
  return [
    { apiGroups: [MachineKind.group], resources: [MachineKind.plural], verbs: ['create', 'delete', 'patch'] },
    // Infrastructure machines and their templates belong to whatever infrastructure provider is installed.
    { apiGroups: ['infrastructure.cluster.x-k8s.io'], resources: ['*'], verbs: ['get', 'list', 'watch', 'create', 'delete', 'patch'] },
  ];
}

/** In the operator's own namespace: the leader election Lease (read, create, renew by PUT). */
export function leaderElectionRules(): PolicyRule[] {
  return [rule(LeaseKind, ['get', 'create', 'update'])];
}
