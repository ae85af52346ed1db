// What the operator's identity may do, as data: exactly the requests the code makes
// (test/unit/deploy/rbac.test.ts derives that set from src/ and compares), per provider, because
// clusterctl installs the bootstrap and the control-plane provider apart, each with its own identity.
import { V1BETA1 } from '../../src/api/bootstrap/resources';
import { ClusterKind, MachineKind, MachinePoolKind } from '../../src/api/capi/v1beta2/resources';
import { V1BETA1 as CONTROLPLANE_V1BETA1 } from '../../src/api/controlplane/resources';
import type { ProviderName } from '../../src/operator-flags';
import { CoreEventKind, EventsV1Kind, LeaseKind, SecretKind, type ResourceKind } from '../../src/kube/client/resource';
import { SubjectAccessReviewKind, TokenReviewKind } from '../../src/kube/http/metrics-auth';

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

/** Cluster-wide: everything the TalosControlPlane controller does, on its own (clusterctl installs it alone). */
export function controlPlaneClusterRules(): PolicyRule[] {
  return [
    // The cluster CA is read; the workload kubeconfig Secret is created once and its client certificate renewed (patch).
    rule(SecretKind, ['get', 'create', 'patch']),
    // Informer; the patch helper patches finalizers and status and re-reads on conflict.
    rule(CONTROLPLANE_V1BETA1.talosControlPlane, ['get', 'list', 'watch', 'patch']),
    rule(CONTROLPLANE_V1BETA1.talosControlPlane, ['patch'], 'status'),
    rule(ClusterKind, ['list', 'watch']),
    // Control-plane Machines are created, and deleted on scale-down and with the control plane; their UpToDate
    // condition is patched (the patch helper re-reads on conflict); their pre-terminate hook annotation is added and
    // released, and an orphaned one is adopted (its owner references patched).
    rule(MachineKind, ['get', 'list', 'watch', 'create', 'patch', 'delete']),
    rule(MachineKind, ['patch'], 'status'),
    // Its Machines' TalosConfigs are watched (informer) and created; taken back when a later create of the Machine fails;
    // their labels and annotations follow machineTemplate.metadata (patch).
    rule(V1BETA1.talosConfig, ['list', 'watch', 'create', 'patch', 'delete']),
    // Infrastructure templates (read) and machines (cloned, watched, metadata patched, taken back like TalosConfigs)
    // belong to whatever infrastructure provider is installed.
    { apiGroups: ['infrastructure.cluster.x-k8s.io'], resources: ['*'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
    rule(EventsV1Kind, ['create', 'patch']),
    rule(CoreEventKind, ['create', 'patch']),
  ];
}

/** Every process: /metrics lets a caller in only once the apiserver has reviewed its token and its access. */
export function metricsAuthRules(): PolicyRule[] {
  return [rule(TokenReviewKind, ['create']), rule(SubjectAccessReviewKind, ['create'])];
}

/** What a scraper's identity is bound to (the install ships the ClusterRole; the monitoring stack binds it). */
export const METRICS_READER_RULES = [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }];

const VERB_ORDER: readonly Verb[] = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

/** One rule per group and resource, with the verbs of every rule that names them (for one process running both providers). */
function mergeRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const merged = new Map<string, PolicyRule>();
  for (const r of rules) {
    const key = JSON.stringify([r.apiGroups, r.resources]);
    const existing = merged.get(key);
    const verbs = new Set([...(existing?.verbs ?? []), ...r.verbs]);
    merged.set(key, { ...r, verbs: VERB_ORDER.filter((verb) => verbs.has(verb)) });
  }
  return [...merged.values()];
}

const PROVIDER_RULES: Record<ProviderName, () => PolicyRule[]> = { bootstrap: bootstrapClusterRules, controlplane: controlPlaneClusterRules };

/** The ClusterRole rules of a process running these providers. */
export function clusterRulesFor(providers: readonly ProviderName[]): PolicyRule[] {
  return mergeRules([...providers.flatMap((provider) => PROVIDER_RULES[provider]()), ...metricsAuthRules()]);
}

/** In the operator's own namespace: the leader election Lease (read, create, renew by PUT). */
export function leaderElectionRules(): PolicyRule[] {
  return [rule(LeaseKind, ['get', 'create', 'update'])];
}
