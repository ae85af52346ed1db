// The informer against a real kube-apiserver: events, indexes, and recovery from an apiserver
// restart that makes its resourceVersion too old (410 Gone → relist without losing changes).
import { restartApiserver } from '../../../testbed/testbed';
import { Informer } from '../../../../src/kube/cache/informer';
import type { KubeObject } from '../../../../src/kube/meta/object';
import { ConfigMapKind } from '../../../../src/kube/client/resource';
import { type ConfigMap, configMap, createConfigMap, createNamespace, eventually, testClient, testbedDir } from '../helpers';

const client = testClient();
let namespace: string;

beforeAll(async () => {
  namespace = await createNamespace(client, 'kube-informer');
});

function recordEvents(informer: Informer) {
  const events: string[] = [];
  informer.addHandlers({
    add: (obj) => events.push(`add ${obj.metadata.name}`),
    update: (oldObj, obj) => events.push(`update ${obj.metadata.name} ${(oldObj as ConfigMap).data?.v}->${(obj as ConfigMap).data?.v}`),
    delete: (obj) => events.push(`delete ${obj.metadata.name}`),
  });
  return events;
}

it('lists existing objects, then sees creates, updates and deletes, and indexes them', async () => {
  await createConfigMap(client, configMap(namespace, 'pre-existing', { v: '0' }, { app: 'demo' }));
  const informer = new Informer<ConfigMap>(client, { kind: ConfigMapKind, namespace });
  const events = recordEvents(informer as unknown as Informer);
  informer.start();
  try {
    expect(await informer.waitForSync(10_000)).toBe(true);
    expect(events).toEqual(['add pre-existing']);

    await createConfigMap(client, configMap(namespace, 'a', { v: '1' }, { app: 'demo' }));
    await client.patch(ConfigMapKind, namespace, 'a', { data: { v: '2' } }, 'merge');
    await client.delete(ConfigMapKind, namespace, 'pre-existing');
    await eventually(() => events.includes('delete pre-existing'));
    expect(events).toEqual(['add pre-existing', 'add a', 'update a 1->2', 'delete pre-existing']);

    expect(informer.get(namespace, 'a')?.data).toEqual({ v: '2' });
    expect(informer.list({ labels: { app: 'demo' } }).map((o) => o.metadata.name)).toEqual(['a']);
    expect(informer.list({ namespace }).map((o) => o.metadata.name).sort()).toEqual(['a', 'kube-root-ca.crt'].filter((n) => informer.get(namespace, n)).sort());
    expect(informer.stats.lists).toBe(1);
  } finally {
    await informer.stop();
  }
});

it('indexes by owner UID', async () => {
  const owner = await createConfigMap(client, configMap(namespace, 'owner', {}));
  const ownerRef = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid!, controller: true };
  await createConfigMap(client, { ...configMap(namespace, 'child', {}), metadata: { name: 'child', namespace, ownerReferences: [ownerRef] } });
  const informer = new Informer(client, { kind: ConfigMapKind, namespace });
  informer.start();
  try {
    await informer.waitForSync(10_000);
    expect(informer.list({ ownerUid: owner.metadata.uid }).map((o: KubeObject) => o.metadata.name)).toEqual(['child']);
  } finally {
    await informer.stop();
  }
});

it('recovers from a kube-apiserver restart with a 410 relist and misses no change', async () => {
  const ns = await createNamespace(client, 'kube-gone');
  for (const name of ['keep', 'change', 'remove']) await createConfigMap(client, configMap(ns, name, { v: '1' }));
  const informer = new Informer<ConfigMap>(client, { kind: ConfigMapKind, namespace: ns, backoff: { initialMs: 200, maxMs: 2000, jitter: 0.5 } });
  const events = recordEvents(informer as unknown as Informer);
  informer.start();
  try {
    await informer.waitForSync(10_000);
    // Stop watching (cache and resourceVersion are kept), change things behind the informer's back,
    // and restart the apiserver so that its watch cache no longer reaches back to our resourceVersion.
    await informer.stop();
    await client.patch(ConfigMapKind, ns, 'change', { data: { v: '2' } }, 'merge');
    await client.delete(ConfigMapKind, ns, 'remove');
    await createConfigMap(client, configMap(ns, 'added', { v: '1' }));
    await restartApiserver(testbedDir());
    informer.start();
    await eventually(() => informer.get(ns, 'added') && !informer.get(ns, 'remove'), 30_000);
    expect(informer.stats.goneRelists).toBeGreaterThanOrEqual(1);
    expect(informer.get(ns, 'change')?.data).toEqual({ v: '2' });
    expect(events).toEqual(expect.arrayContaining(['update change 1->2', 'delete remove', 'add added']));
    expect(events.filter((e) => e.includes('keep'))).toEqual(['add keep']);

    // And the watch works again after the relist.
    await client.patch(ConfigMapKind, ns, 'keep', { data: { v: '3' } }, 'merge');
    await eventually(() => informer.get(ns, 'keep')?.data?.v === '3');
  } finally {
    await informer.stop();
  }
});

it('keeps following while the apiserver restarts under a running watch', async () => {
  const ns = await createNamespace(client, 'kube-restart');
  const informer = new Informer<ConfigMap>(client, { kind: ConfigMapKind, namespace: ns, backoff: { initialMs: 200, maxMs: 2000, jitter: 0.5 } });
  informer.start();
  try {
    await informer.waitForSync(10_000);
    await createConfigMap(client, configMap(ns, 'before', { v: '1' }));
    await eventually(() => informer.get(ns, 'before'));
    await restartApiserver(testbedDir());
    await createConfigMap(client, configMap(ns, 'after', { v: '1' }));
    await client.delete(ConfigMapKind, ns, 'before');
    await eventually(() => informer.get(ns, 'after') && !informer.get(ns, 'before'), 30_000);
    expect(informer.stats.errors + informer.stats.goneRelists).toBeGreaterThanOrEqual(1);
  } finally {
    await informer.stop();
  }
});
