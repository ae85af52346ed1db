// Kinds the operator cannot know in advance, against the real apiserver: a CRD installed by the
// test (a namespaced kind served at two versions, and a cluster-scoped one whose plural is not
// guessable) is mapped by discovery, read and written as unstructured objects, and watched by an
// informer the manager makes per GroupVersionKind.
import { randomBytes } from 'node:crypto';
import { isNotFound } from '../../../src/kube/client/api-error';
import { Manager } from '../../../src/kube/manager/manager';
import type { ResourceKind } from '../../../src/kube/client/resource';
import { NoKindMatchError, RestMapper } from '../../../src/kube/client/rest-mapper';
import type { Unstructured } from '../../../src/kube/client/unstructured';
import { createNamespace, eventually, testClient } from './helpers';

const client = testClient();
const group = `dyn-${randomBytes(3).toString('hex')}.example.dev`;
const CrdKind: ResourceKind = {
  group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', namespaced: false,
};
const anyObject = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
const crd = (kind: string, plural: string, scope: 'Namespaced' | 'Cluster', versions: string[]) => ({
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.${group}` },
  spec: {
    group, scope, names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
    versions: versions.map((name, i) => ({
      name, served: true, storage: i === versions.length - 1, schema: { openAPIV3Schema: { type: 'object', properties: { spec: anyObject } } },
    })),
  },
});
let manager: Manager | undefined;

afterAll(async () => {
  await manager?.stop();
  for (const name of [`widgets.${group}`, `gadgetries.${group}`]) await client.delete(CrdKind, '', name).catch(() => undefined);
});

it('maps kinds by discovery (also ones installed after the first look), and gets, patches, deletes and watches them unstructured', async () => {
  const namespace = await createNamespace(client, 'dynamic-kinds');
  const mapper = new RestMapper(client);
  await expect(mapper.kindFor({ group, version: 'v1', kind: 'Widget' })).rejects.toBeInstanceOf(NoKindMatchError);

  await client.create(CrdKind, crd('Widget', 'widgets', 'Namespaced', ['v1alpha1', 'v1']));
  await client.create(CrdKind, crd('Gadget', 'gadgetries', 'Cluster', ['v1']));
  // The same mapper reads discovery afresh for a kind it has not seen, once the CRD is served.
  const widget = await eventually(() => mapper.kindFor({ group, version: 'v1', kind: 'Widget' }), 30_000, 200);
  expect(widget).toEqual({ group, version: 'v1', kind: 'Widget', plural: 'widgets', namespaced: true });
  expect(await mapper.kindFor({ group, kind: 'Widget' })).toMatchObject({ version: 'v1' }); // preferred version
  expect(await mapper.kindFor({ group, version: 'v1alpha1', kind: 'Widget' })).toMatchObject({ plural: 'widgets', version: 'v1alpha1' });
  expect(await eventually(() => mapper.kindForApiVersion(`${group}/v1`, 'Gadget'), 30_000, 200)).toMatchObject({ plural: 'gadgetries', namespaced: false });
  expect(await mapper.kindForApiVersion('v1', 'ConfigMap')).toMatchObject({ group: '', plural: 'configmaps', namespaced: true });
  await expect(mapper.kindFor({ group, version: 'v1', kind: 'Sprocket' })).rejects.toThrow(`no resource serves Sprocket in ${group}/v1`);

  manager = new Manager({ client, namespace, healthAddr: '', metricsAddr: '' });
  const widgets = await manager.informerFor({ group, kind: 'Widget' });
  await manager.start();
  const dynamic = manager.unstructured;
  const ref = { apiVersion: `${group}/v1`, kind: 'Widget', namespace, name: 'w1' };
  const created = await dynamic.create({ ...ref, metadata: { name: 'w1', namespace }, spec: { size: 1 } } as Unstructured);
  expect(created.metadata.uid).toBeTruthy();
  await eventually(() => widgets.get(namespace, 'w1'));

  const patched = await dynamic.patch(ref, { spec: { size: 2, colour: 'blue' } }, 'merge');
  expect(patched.spec).toEqual({ size: 2, colour: 'blue' });
  expect((await dynamic.get(ref)).spec).toEqual({ size: 2, colour: 'blue' });
  await eventually(() => (widgets.get(namespace, 'w1') as Unstructured | undefined)?.spec?.['colour' as never] === 'blue');
  // Read through the older served version: same object, converted by the apiserver.
  expect((await dynamic.get({ ...ref, apiVersion: `${group}/v1alpha1` })).metadata.uid).toBe(created.metadata.uid);
  expect((await dynamic.list({ group, version: 'v1', kind: 'Widget' }, { namespace })).items.map((w) => w.metadata.name)).toEqual(['w1']);

  await dynamic.delete(ref);
  await eventually(() => widgets.get(namespace, 'w1') === undefined);
  expect(await dynamic.get(ref).then(() => 'found', (error: unknown) => (isNotFound(error) ? 'not found' : error))).toBe('not found');

  const gadget = { apiVersion: `${group}/v1`, kind: 'Gadget', name: `g-${namespace}` };
  await dynamic.create({ ...gadget, metadata: { name: gadget.name } } as Unstructured);
  expect((await dynamic.get(gadget)).metadata.namespace).toBeUndefined();
  await dynamic.delete(gadget);
}, 90_000);
