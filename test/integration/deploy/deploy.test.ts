// The kustomize base and the two clusterctl providers against the real apiserver of the test bed,
// each retargeted to a fresh namespace the way `clusterctl init --target-namespace` does it
// (server-apply.ts): every object passes a server-side apply dry run, the RBAC objects are applied
// for real, and the install's ServiceAccount is checked with SubjectAccessReviews (and one real
// request made as that identity): all the code it runs may do, nothing the other provider needs.
import { randomBytes } from 'node:crypto';
import { KubeApiError } from '../../../src/kube/client/api-error';
import { KubeClient } from '../../../src/kube/client/client';
import { SecretKind, ConfigMapKind } from '../../../src/kube/client/resource';
import { PROVIDERS, type ProviderName } from '../../../src/operator-flags';
import { clusterctlInstall, COMBINED_INSTALL, type ManifestObject } from '../../../scripts/deploy/manifests';
import { createUserKubeconfig } from '../../testbed/testbed';
import { filesLoadedBy, permissionKey, scanCodePermissions, type Permission } from '../../unit/deploy/code-permissions';
import { clusterctlObjects, kustomizeObjects } from '../../unit/deploy/deploy-files';
import { FOREIGN_KINDS, deleteClusterScoped, retarget, serverApply, testbedClient } from './server-apply';

interface Access {
  namespace?: string;
  group: string;
  resource: string;
  verb: string;
}

const uniquePermissions = (providers: readonly ProviderName[]) =>
  [...new Map(scanCodePermissions(filesLoadedBy(providers)).permissions.map((p) => [permissionKey(p), p])).values()];

/** Never granted to any install. */
const FORBIDDEN: Access[] = [
  { group: '', resource: 'namespaces', verb: 'delete' },
  { group: '', resource: 'configmaps', verb: 'get', namespace: 'kube-system' },
  { group: '', resource: 'configmaps', verb: 'list' },
  { group: '', resource: 'secrets', verb: 'list' },
  { group: '', resource: 'secrets', verb: 'delete', namespace: 'default' },
  { group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings', verb: 'create' },
  { group: 'coordination.k8s.io', resource: 'leases', verb: 'update', namespace: 'kube-system' },
  { group: 'bootstrap.cluster.x-k8s.io', resource: 'talosconfigtemplates', verb: 'delete', namespace: 'default' },
  { group: 'cluster.x-k8s.io', resource: 'clusters', verb: 'patch', namespace: 'default' },
];

describe.each<[string, () => ManifestObject[], string, readonly ProviderName[]]>([
  ['kustomize base', kustomizeObjects, COMBINED_INSTALL.namespace, PROVIDERS],
  ['clusterctl bootstrap-talos', () => clusterctlObjects('bootstrap'), clusterctlInstall('bootstrap').namespace, ['bootstrap']],
  ['clusterctl control-plane-talos', () => clusterctlObjects('controlplane'), clusterctlInstall('controlplane').namespace, ['controlplane']],
])('%s on a real apiserver', (_name, load, renderedNamespace, providers) => {
  const suffix = randomBytes(3).toString('hex');
  const namespace = `talos-capi-deploy-${suffix}`;
  const objects = retarget(load(), renderedNamespace, namespace, suffix);
  const serviceAccount = objects.find((o) => o.kind === 'ServiceAccount')!.metadata.name as string;
  const user = `system:serviceaccount:${namespace}:${serviceAccount}`;
  const groups = ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'];
  let client: KubeClient;

  async function allowed(access: Access): Promise<boolean> {
    const [resource, subresource] = access.resource.split('/');
    const review = await client.request<{ status: { allowed: boolean } }>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user, groups, resourceAttributes: { group: access.group, resource, subresource, verb: access.verb, namespace: access.namespace } },
      },
    });
    return review.status.allowed;
  }

  beforeAll(async () => {
    client = testbedClient();
    await serverApply(client, objects.find((o) => o.kind === 'Namespace')!, false);
  });

  afterAll(async () => {
    if (client) await deleteClusterScoped(client, objects, ['ClusterRole', 'ClusterRoleBinding', 'Namespace']);
  });

  it('every object except those of cert-manager passes a server-side apply dry run', async () => {
    const checked: string[] = [];
    for (const object of objects.filter((o) => !FOREIGN_KINDS.has(o.kind))) {
      const result = await serverApply(client, object, true);
      expect([result.kind, result.metadata.name]).toEqual([object.kind, object.metadata.name]);
      checked.push(object.kind);
    }
    expect(checked.length).toBe(objects.length - objects.filter((o) => o.kind === 'Issuer' || o.kind === 'Certificate').length);
  });

  describe('its ServiceAccount, bound by the applied ClusterRole and Role', () => {
    beforeAll(async () => {
      for (const kind of ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']) {
        await serverApply(client, objects.find((o) => o.kind === kind)!, false);
      }
    });

    it('may make every request the code it runs makes: cluster-wide kinds in any namespace, leases in its own', async () => {
      const permissions = uniquePermissions(providers);
      const denied: string[] = [];
      for (const p of permissions) {
        const where = p.group === 'coordination.k8s.io' ? namespace : 'some-workload-namespace';
        if (!(await allowed({ ...p, namespace: where }))) denied.push(permissionKey(p));
      }
      expect(denied).toEqual([]);
      expect(permissions.length).toBeGreaterThan(10);
    });

    it('may not do what only the other provider needs, delete namespaces, read configmaps, list secrets, touch RBAC, or use leases elsewhere', async () => {
      const own = new Set(uniquePermissions(providers).map(permissionKey));
      const others = PROVIDERS.filter((provider) => !providers.includes(provider));
      const othersOnly = uniquePermissions(others).filter((p) => !own.has(permissionKey(p)));
      if (others.length) expect(othersOnly.length).toBeGreaterThan(0);
      const granted: string[] = [];
      for (const access of [...FORBIDDEN, ...othersOnly.map((p) => ({ ...p, namespace: 'default' }))]) {
        if (await allowed(access)) granted.push(permissionKey(access as Permission));
      }
      expect(granted).toEqual([]);
    });

    it('as that identity, a real request: creating a Secret works, reading a ConfigMap is forbidden', async () => {
      const kubeconfig = await createUserKubeconfig(process.env.TESTBED_DIR!, user, groups.filter((g) => g !== 'system:authenticated'));
      const operator = KubeClient.load(kubeconfig, { qps: 50, burst: 50 });
      const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bootstrap-data', namespace }, type: 'Opaque', data: {} };
      await expect(operator.create(SecretKind, secret)).resolves.toMatchObject({ metadata: { name: 'bootstrap-data' } });
      const error = await operator.get(ConfigMapKind, namespace, 'anything').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KubeApiError);
      expect((error as KubeApiError).code).toBe(403);
    });
  });
});
