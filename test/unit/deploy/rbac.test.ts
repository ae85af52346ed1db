import { bootstrapClusterRules, controlPlaneClusterRules, leaderElectionRules, type PolicyRule } from '../../../scripts/deploy/rbac';
import type { ManifestObject } from '../../../scripts/deploy/manifests';
import { permissionKey, scanCodePermissions, type Permission } from './code-permissions';
import { findObject, kustomizeObjects } from './deploy-files';

const expand = (rules: readonly PolicyRule[]): Permission[] =>
  rules.flatMap((r) => r.apiGroups.flatMap((group) => r.resources.flatMap((resource) => r.verbs.map((verb) => ({ group, resource, verb })))));
const keys = (permissions: Permission[]) => [...new Set(permissions.map(permissionKey))].sort();
const rulesOf = (object: ManifestObject) => (object as unknown as { rules: PolicyRule[] }).rules;

describe('RBAC', () => {
  const scan = scanCodePermissions();

  it('the scan of src/ resolves every kind argument it meets', () => {
    expect(scan.unresolved).toEqual([]);
    expect(scan.permissions.length).toBeGreaterThan(10);
  });

  it('grants exactly what the code requests, no verb more or less (leases only through the namespaced Role)', () => {
    expect(keys(expand([...bootstrapClusterRules(), ...controlPlaneClusterRules(), ...leaderElectionRules()]))).toEqual(keys(scan.permissions));
    expect(keys(expand(leaderElectionRules()))).toEqual(keys(scan.permissions.filter((p) => p.group === 'coordination.k8s.io')));
    expect(expand(bootstrapClusterRules()).some((p) => p.group === 'coordination.k8s.io')).toBe(false);
  });

  it('the generated ClusterRole is the bootstrap rules plus the separate control-plane rules, and nothing else', () => {
    const objects = kustomizeObjects();
    expect(rulesOf(findObject(objects, 'ClusterRole'))).toEqual([...bootstrapClusterRules(), ...controlPlaneClusterRules()]);
    expect(rulesOf(findObject(objects, 'Role'))).toEqual(leaderElectionRules());
    expect(keys(expand(controlPlaneClusterRules()))).toEqual([
      'bootstrap.cluster.x-k8s.io/talosconfigs:create', 'cluster.x-k8s.io/machines:create', 'cluster.x-k8s.io/machines:delete',
      'controlplane.cluster.x-k8s.io/taloscontrolplanes/status:patch',
      ...['get', 'list', 'patch', 'watch'].map((verb) => `controlplane.cluster.x-k8s.io/taloscontrolplanes:${verb}`),
      'infrastructure.cluster.x-k8s.io/*:create', 'infrastructure.cluster.x-k8s.io/*:get',
    ]);
  });

  it('never grants wildcards outside infrastructure kinds, nor secrets list/watch/delete or any configmaps access', () => {
    const granted = keys(expand([...bootstrapClusterRules(), ...controlPlaneClusterRules(), ...leaderElectionRules()]));
    expect(granted.filter((key) => key.includes('*') && !key.startsWith('infrastructure.cluster.x-k8s.io/*:'))).toEqual([]);
    expect(granted.filter((key) => /^core\/(secrets:(list|watch|delete)|configmaps)/.test(key))).toEqual([]);
  });
});
