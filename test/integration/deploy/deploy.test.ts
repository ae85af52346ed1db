// The kustomize base against the real apiserver of the test bed, retargeted to a fresh namespace
// the way `clusterctl init --target-namespace` does it: every object passes a server-side apply
// dry run, the RBAC objects are applied for real, and the operator's ServiceAccount is checked with
// SubjectAccessReviews (and one real request made as that identity).
import { randomBytes } from 'node:crypto';
import { KubeApiError } from '../../../src/kube/client/api-error';
import { KubeClient, PatchType } from '../../../src/kube/client/client';
import { resourcePath, SecretKind, ConfigMapKind, type ResourceKind } from '../../../src/kube/client/resource';
import type { ManifestObject } from '../../../scripts/deploy/manifests';
import { createUserKubeconfig } from '../../testbed/testbed';
import { permissionKey, scanCodePermissions, type Permission } from '../../unit/deploy/code-permissions';
import { kustomizeObjects } from '../../unit/deploy/deploy-files';

const FIELD_MANAGER = 'talos-capi-deploy-test';
/** cert-manager's CRDs are not installed in the test bed, so its objects cannot be checked here. */
const CERT_MANAGER_KINDS = new Set(['Issuer', 'Certificate']);

const PLURALS: Record<string, string> = {
  Namespace: 'namespaces', CustomResourceDefinition: 'customresourcedefinitions', ServiceAccount: 'serviceaccounts',
  ClusterRole: 'clusterroles', ClusterRoleBinding: 'clusterrolebindings', Role: 'roles', RoleBinding: 'rolebindings',
  Deployment: 'deployments', Service: 'services', ValidatingWebhookConfiguration: 'validatingwebhookconfigurations',
};
const CLUSTER_SCOPED = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'ValidatingWebhookConfiguration']);

function kindOf(object: ManifestObject): ResourceKind {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
  const plural = PLURALS[object.kind];
  if (!plural) throw new Error(`no REST mapping for ${object.kind} in this test`);
  return { group: group!, version: version!, kind: object.kind, plural, namespaced: !CLUSTER_SCOPED.has(object.kind) };
}

function apply(client: KubeClient, object: ManifestObject, dryRun: boolean): Promise<ManifestObject> {
  const kind = kindOf(object);
  const path = resourcePath(kind, (object.metadata.namespace as string | undefined) ?? '', object.metadata.name as string);
  return client.request('PATCH', path, {
    body: object, contentType: PatchType.apply, query: { fieldManager: FIELD_MANAGER, force: true, dryRun: dryRun ? 'All' : undefined },
  });
}

const suffix = randomBytes(3).toString('hex');
const namespace = `talos-capi-deploy-${suffix}`;
/**
 * The base retargeted: our namespace everywhere; cluster-wide names made unique to this run, and
 * the CRDs moved to a test group, because the test bed already holds our CRDs and webhook
 * configuration registered by URL (an apply would merge that url with our service reference).
 */
const testGroup = `t${suffix}.deploy.talos-capi.test`;
const objects = (JSON.parse(JSON.stringify(kustomizeObjects()).replaceAll('talos-capi-system', namespace)) as ManifestObject[]).map(
  (object): ManifestObject => {
    if (object.kind === 'CustomResourceDefinition') {
      const spec = object.spec as { group: string };
      const name = (object.metadata.name as string).replace(spec.group, testGroup);
      return { ...object, metadata: { ...object.metadata, name }, spec: { ...spec, group: testGroup } };
    }
    if (!CLUSTER_SCOPED.has(object.kind) || object.kind === 'Namespace') return object;
    const renamed = { ...object, metadata: { ...object.metadata, name: `${object.metadata.name}-${suffix}` } };
    const roleRef = object.roleRef as { name: string } | undefined;
    return roleRef ? { ...renamed, roleRef: { ...roleRef, name: `${roleRef.name}-${suffix}` } } : renamed;
  },
);
const serviceAccount = objects.find((o) => o.kind === 'ServiceAccount')!.metadata.name as string;
const user = `system:serviceaccount:${namespace}:${serviceAccount}`;
const groups = ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'];

let client: KubeClient;

beforeAll(async () => {
  if (!process.env.KUBECONFIG) throw new Error('KUBECONFIG is not set: run through the jest integration project');
  client = KubeClient.load(process.env.KUBECONFIG, { qps: 200, burst: 200 });
  await apply(client, objects.find((o) => o.kind === 'Namespace')!, false);
});

afterAll(async () => {
  // Only these were created for real; the rest went through dry runs.
  for (const object of objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding' || o.kind === 'Namespace')) {
    await client?.delete(kindOf(object), '', object.metadata.name as string).catch(() => undefined);
  }
});

interface Access {
  namespace?: string;
  group: string;
  resource: string;
  verb: string;
}

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

describe('kustomize base on a real apiserver', () => {
  it('every object except cert-manager kinds passes a server-side apply dry run', async () => {
    const checked: string[] = [];
    for (const object of objects.filter((o) => !CERT_MANAGER_KINDS.has(o.kind))) {
      const result = await apply(client, object, true);
      expect([result.kind, result.metadata.name]).toEqual([object.kind, object.metadata.name]);
      checked.push(object.kind);
    }
    expect(checked).toHaveLength(13);
    expect(objects.filter((o) => CERT_MANAGER_KINDS.has(o.kind)).map((o) => o.kind)).toEqual(['Issuer', 'Certificate']);
  });

  describe('the operator ServiceAccount, bound by the applied ClusterRole and Role', () => {
    beforeAll(async () => {
      for (const kind of ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']) {
        await apply(client, objects.find((o) => o.kind === kind)!, false);
      }
    });

    it('may make every request the code makes: cluster-wide kinds in any namespace, leases in its own', async () => {
      const { permissions } = scanCodePermissions();
      const unique = [...new Map(permissions.map((p) => [permissionKey(p), p])).values()];
      const denied: string[] = [];
      for (const p of unique) {
        const where = p.group === 'coordination.k8s.io' ? namespace : 'some-workload-namespace';
        if (!(await allowed({ ...p, namespace: where }))) denied.push(permissionKey(p));
      }
      expect(denied).toEqual([]);
      expect(unique.length).toBeGreaterThan(10);
    });

    it('may not delete namespaces, read configmaps or list secrets cluster-wide, touch RBAC, or use leases outside its namespace', async () => {
      const forbidden: Access[] = [
        { group: '', resource: 'namespaces', verb: 'delete' },
        { group: '', resource: 'configmaps', verb: 'get', namespace: 'kube-system' },
        { group: '', resource: 'configmaps', verb: 'list' },
        { group: '', resource: 'secrets', verb: 'list' },
        { group: '', resource: 'secrets', verb: 'delete', namespace: 'default' },
        { group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings', verb: 'create' },
        { group: 'coordination.k8s.io', resource: 'leases', verb: 'update', namespace: 'kube-system' },
        { group: 'bootstrap.cluster.x-k8s.io', resource: 'talosconfigs', verb: 'delete', namespace: 'default' },
        { group: 'cluster.x-k8s.io', resource: 'clusters', verb: 'patch', namespace: 'default' },
      ];
      const granted: string[] = [];
      for (const access of forbidden) if (await allowed(access)) granted.push(permissionKey(access as Permission));
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
