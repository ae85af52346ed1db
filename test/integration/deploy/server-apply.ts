// Installing rendered objects into the test bed beside what it already holds: server-side apply
// (optionally as a dry run) of any object our installs contain, and a retargeting that gives a
// rendering a namespace, cluster-wide names and a CRD group of its own for one test run.
import { KubeClient, PatchType } from '../../../src/kube/client/client';
import { resourcePath, type ResourceKind } from '../../../src/kube/client/resource';
import type { ManifestObject } from '../../../scripts/deploy/manifests';

const FIELD_MANAGER = 'talos-capi-deploy-test';
/** Kinds whose CRDs (cert-manager, Prometheus Operator) the test bed does not install: they cannot be applied here. */
export const FOREIGN_KINDS = new Set(['Issuer', 'Certificate', 'ServiceMonitor']);

const PLURALS: Record<string, string> = {
  Namespace: 'namespaces', CustomResourceDefinition: 'customresourcedefinitions', ServiceAccount: 'serviceaccounts',
  ClusterRole: 'clusterroles', ClusterRoleBinding: 'clusterrolebindings', Role: 'roles', RoleBinding: 'rolebindings',
  Deployment: 'deployments', Service: 'services', Secret: 'secrets', ValidatingWebhookConfiguration: 'validatingwebhookconfigurations',
};
export const CLUSTER_SCOPED = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'ValidatingWebhookConfiguration']);

export function kindOf(object: ManifestObject): ResourceKind {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
  const plural = PLURALS[object.kind];
  if (!plural) throw new Error(`no REST mapping for ${object.kind} in this test`);
  return { group: group!, version: version!, kind: object.kind, plural, namespaced: !CLUSTER_SCOPED.has(object.kind) };
}

export function serverApply(client: KubeClient, object: ManifestObject, dryRun: boolean): Promise<ManifestObject> {
  const kind = kindOf(object);
  const path = resourcePath(kind, (object.metadata.namespace as string | undefined) ?? '', object.metadata.name as string);
  return client.request('PATCH', path, {
    body: object, contentType: PatchType.apply, query: { fieldManager: FIELD_MANAGER, force: true, dryRun: dryRun ? 'All' : undefined },
  });
}

/**
 * The objects moved into `namespace`, with cluster-wide names suffixed and the CRDs moved to a
 * group of their own, because the test bed already holds our CRDs and webhook configuration
 * registered by URL (an apply would merge that url with the rendering's service reference).
 */
export function retarget(objects: readonly ManifestObject[], fromNamespace: string, namespace: string, suffix: string): ManifestObject[] {
  const testGroup = `t${suffix}.deploy.talos-capi.test`;
  return (JSON.parse(JSON.stringify(objects).replaceAll(fromNamespace, namespace)) as ManifestObject[]).map((object): ManifestObject => {
    if (object.kind === 'CustomResourceDefinition') {
      const spec = object.spec as { group: string };
      const name = (object.metadata.name as string).replace(spec.group, testGroup);
      return { ...object, metadata: { ...object.metadata, name }, spec: { ...spec, group: testGroup } };
    }
    if (!CLUSTER_SCOPED.has(object.kind) || object.kind === 'Namespace') return object;
    const renamed = { ...object, metadata: { ...object.metadata, name: `${object.metadata.name}-${suffix}` } };
    const roleRef = object.roleRef as { name: string } | undefined;
    return roleRef ? { ...renamed, roleRef: { ...roleRef, name: `${roleRef.name}-${suffix}` } } : renamed;
  });
}

export function testbedClient(): KubeClient {
  if (!process.env.KUBECONFIG) throw new Error('KUBECONFIG is not set: run through the jest integration project');
  return KubeClient.load(process.env.KUBECONFIG, { qps: 200, burst: 200 });
}

/** Deletes the cluster-scoped objects of `objects` that a test created for real (the rest went through dry runs). */
export async function deleteClusterScoped(client: KubeClient, objects: readonly ManifestObject[], kinds: readonly string[]): Promise<void> {
  for (const object of objects.filter((o) => kinds.includes(o.kind))) {
    await client.delete(kindOf(object), '', object.metadata.name as string).catch(() => undefined);
  }
}
