// What the operator's identity may do, as data: exactly the requests the code makes
// (test/unit/deploy/rbac.test.ts derives that set from src/ and compares), bootstrap and
// control-plane controllers apart so that a reader sees which needs what.
import { V1BETA1 } from '../../src/api/bootstrap/resources';
import { ClusterKind, MachineKind, MachinePoolKind } from '../../src/api/capi/v1beta2/resources';
import { V1ALPHA3 as CONTROLPLANE_V1ALPHA3 } from '../../src/api/controlplane/resources';
import { CoreEventKind, EventsV1Kind, LeaseKind, SecretKind, type ResourceKind } from '../../src/kube/client/resource';

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

/** The TalosControlPlane controller, beyond what the bootstrap rules already grant. */
export function controlPlaneClusterRules(): PolicyRule[] {
  return [
    // Informer; the patch helper patches finalizers and status and re-reads on conflict.
    rule(CONTROLPLANE_V1ALPHA3.talosControlPlane, ['get', 'list', 'watch', 'patch']),
    rule(CONTROLPLANE_V1ALPHA3.talosControlPlane, ['patch'], 'status'),
    // Control-plane Machines and their TalosConfigs are created; Machines deleted with the control plane.
    rule(MachineKind, ['create', 'delete']),
    rule(V1BETA1.talosConfig, ['create']),
    // Infrastructure templates (read) and machines (cloned) belong to whatever infrastructure provider is installed.
    { apiGroups: ['infrastructure.cluster.x-k8s.io'], resources: ['*'], verbs: ['get', 'create'] },
  ];
}

/** In the operator's own namespace: the leader election Lease (read, create, renew by PUT). */
export function leaderElectionRules(): PolicyRule[] {
  return [rule(LeaseKind, ['get', 'create', 'update'])];
}
