import { PROVIDERS, type ProviderName } from '../../../src/operator-flags';
import { CLUSTERCTL_COMPONENTS } from '../../../scripts/gen-deploy';
import { bootstrapClusterRules, clusterRulesFor, controlPlaneClusterRules, leaderElectionRules, metricsAuthRules, type PolicyRule } from '../../../scripts/deploy/rbac';
import type { ManifestObject } from '../../../scripts/deploy/manifests';
import { filesLoadedBy, permissionKey, scanCodePermissions, type Permission } from './code-permissions';
import { findObject, kustomizeObjects, readManifests } from './deploy-files';

const expand = (rules: readonly PolicyRule[]): Permission[] =>
  rules.flatMap((r) => r.apiGroups.flatMap((group) => r.resources.flatMap((resource) => r.verbs.map((verb) => ({ group, resource, verb })))));
const keys = (permissions: Permission[]) => [...new Set(permissions.map(permissionKey))].sort();
const rulesOf = (object: ManifestObject) => (object as unknown as { rules: PolicyRule[] }).rules;
const PROVIDER_RULES: Record<ProviderName, () => PolicyRule[]> = { bootstrap: bootstrapClusterRules, controlplane: controlPlaneClusterRules };

describe('RBAC', () => {
  it('the scan of src/ resolves every kind argument it meets', () => {
    const scan = scanCodePermissions();
    expect(scan.unresolved).toEqual([]);
    expect(scan.permissions.length).toBeGreaterThan(10);
  });

  it('a provider alone loads its own controller and not the other\'s', () => {
    const bootstrap = filesLoadedBy(['bootstrap']).map((file) => file.replace(/.*\/src\//, ''));
    const controlPlane = filesLoadedBy(['controlplane']).map((file) => file.replace(/.*\/src\//, ''));
    expect(bootstrap).toContain('bootstrap/reconciler.ts');
    expect(bootstrap.filter((file) => file.startsWith('controlplane/'))).toEqual([]);
    expect(controlPlane).toContain('controlplane/reconciler.ts');
    expect(controlPlane.filter((file) => file.startsWith('bootstrap/'))).toEqual([]);
  });

  it.each(PROVIDERS)('%s: grants exactly what the code that provider runs requests (leases only through the namespaced Role)', (provider) => {
    const scan = scanCodePermissions(filesLoadedBy([provider]));
    expect(scan.unresolved).toEqual([]);
    expect(keys(expand([...PROVIDER_RULES[provider](), ...metricsAuthRules(), ...leaderElectionRules()]))).toEqual(keys(scan.permissions));
    expect(keys(expand(leaderElectionRules()))).toEqual(keys(scan.permissions.filter((p) => p.group === 'coordination.k8s.io')));
    expect(expand(PROVIDER_RULES[provider]()).some((p) => p.group === 'coordination.k8s.io')).toBe(false);
  });

  it('both providers in one process: the merged rules grant what all of src/ requests, one rule per resource', () => {
    const merged = clusterRulesFor(PROVIDERS);
    expect(keys(expand([...merged, ...leaderElectionRules()]))).toEqual(keys(scanCodePermissions().permissions));
    const resources = merged.map((r) => JSON.stringify([r.apiGroups, r.resources]));
    expect(new Set(resources).size).toBe(resources.length);
  });

  it('the generated ClusterRoles are those rules: both in the kustomize base, one provider\'s in its clusterctl components', () => {
    expect(rulesOf(findObject(kustomizeObjects(), 'ClusterRole'))).toEqual(clusterRulesFor(PROVIDERS));
    expect(rulesOf(findObject(kustomizeObjects(), 'Role'))).toEqual(leaderElectionRules());
    for (const provider of PROVIDERS) {
      const objects = readManifests(`clusterctl/${CLUSTERCTL_COMPONENTS[provider]}`);
      expect(rulesOf(findObject(objects, 'ClusterRole'))).toEqual(clusterRulesFor([provider]));
      expect(rulesOf(findObject(objects, 'Role'))).toEqual(leaderElectionRules());
    }
  });

  it('never grants a wildcard verb or group, a wildcard resource only in the infrastructure group, nor secrets list/watch/delete or any configmaps access', () => {
    const rules = [...bootstrapClusterRules(), ...controlPlaneClusterRules(), ...leaderElectionRules()];
    expect(rules.filter((r) => r.verbs.includes('*' as never) || r.apiGroups.includes('*'))).toEqual([]);
    const granted = keys(expand(rules));
    expect(granted.filter((key) => key.includes('*') && !key.startsWith('infrastructure.cluster.x-k8s.io/*:'))).toEqual([]);
    expect(granted.filter((key) => /^core\/(secrets:(list|watch|delete)|configmaps)/.test(key))).toEqual([]);
    // The bootstrap provider never touches Machines, TalosControlPlanes or infrastructure objects beyond reading Machines.
    expect(keys(expand(bootstrapClusterRules())).filter((key) => /machines:(create|delete)|taloscontrolplanes|infrastructure/.test(key))).toEqual([]);
  });
});
