// A small controller on the runtime (copies each labelled ConfigMap's data into an owned child
// ConfigMap) must converge after an apiserver restart and repair tampering with its children.
import { restartApiserver } from '../../../testbed/testbed';
import { isNotFound } from '../../../../src/kube/client/api-error';
import { Manager } from '../../../../src/kube/manager/manager';
import { RuntimeMetrics } from '../../../../src/kube/http/metrics';
import type { ObjectKey } from '../../../../src/kube/meta/object';
import { controllerOwnerReference } from '../../../../src/kube/meta/owners';
import { fromFilter } from '../../../../src/kube/controller/predicates';
import { ConfigMapKind } from '../../../../src/kube/client/resource';
import { type ConfigMap, configMap, createConfigMap, createNamespace, eventually, testClient, testbedDir } from '../helpers';

const SOURCE_LABEL = 'example.talos-capi.dev/copy';
const metrics = new RuntimeMetrics();
const client = testClient(metrics);
let namespace: string;
let manager: Manager;

const copyName = (name: string) => `${name}-copy`;

async function readCopy(name: string): Promise<ConfigMap | undefined> {
  try {
    return await client.get<ConfigMap>(ConfigMapKind, namespace, copyName(name));
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

beforeAll(async () => {
  namespace = await createNamespace(client, 'kube-controller');
  manager = new Manager({
    client, metrics, namespace, informerDefaults: { backoff: { initialMs: 200, maxMs: 2000, jitter: 0.5 } },
  });
  const sources = manager.informer(ConfigMapKind);
  manager
    .controller('configmap-copier')
    .for(ConfigMapKind, { predicates: [fromFilter((cm) => cm.metadata.labels?.[SOURCE_LABEL] === 'true')] })
    .owns(ConfigMapKind)
    .withConcurrency(2)
    .complete({
      async reconcile(key: ObjectKey) {
        const source = sources.get(key.namespace, key.name) as ConfigMap | undefined;
        if (!source) {
          await client.delete(ConfigMapKind, key.namespace, copyName(key.name)).catch((error: unknown) => {
            if (!isNotFound(error)) throw error;
          });
          return;
        }
        const desired: ConfigMap = {
          apiVersion: 'v1', kind: 'ConfigMap', data: source.data ?? {},
          metadata: { name: copyName(key.name), namespace: key.namespace, ownerReferences: [controllerOwnerReference(source, ConfigMapKind)] },
        };
        const existing = sources.get(key.namespace, copyName(key.name)) as ConfigMap | undefined;
        if (!existing) await client.create(ConfigMapKind, desired);
        else if (JSON.stringify(existing.data ?? {}) !== JSON.stringify(desired.data)) {
          await client.replace(ConfigMapKind, { ...desired, metadata: { ...desired.metadata, resourceVersion: existing.metadata.resourceVersion } });
        }
      },
    });
  await manager.start();
});

afterAll(async () => {
  await manager?.stop();
});

it('copies sources, repairs tampered copies, and removes copies of deleted sources', async () => {
  await createConfigMap(client, configMap(namespace, 'one', { a: '1' }, { [SOURCE_LABEL]: 'true' }));
  await createConfigMap(client, configMap(namespace, 'unlabelled', { a: '1' }));
  await eventually(async () => (await readCopy('one'))?.data?.a === '1');

  await client.patch(ConfigMapKind, namespace, copyName('one'), { data: { a: 'tampered' } }, 'merge');
  await eventually(async () => (await readCopy('one'))?.data?.a === '1');

  await client.delete(ConfigMapKind, namespace, 'one');
  await eventually(async () => (await readCopy('one')) === undefined);
  expect(await readCopy('unlabelled')).toBeUndefined();
});

it('converges after a kube-apiserver restart, including changes made right after it', async () => {
  for (const name of ['keep', 'change', 'remove']) {
    await createConfigMap(client, configMap(namespace, name, { v: '1' }, { [SOURCE_LABEL]: 'true' }));
  }
  await eventually(async () => (await readCopy('remove'))?.data?.v === '1' && (await readCopy('change'))?.data?.v === '1');

  await restartApiserver(testbedDir());
  // The manager's watches are still reconnecting (backoff) while these land.
  await client.patch(ConfigMapKind, namespace, 'change', { data: { v: '2' } }, 'merge');
  await client.delete(ConfigMapKind, namespace, 'remove');
  await createConfigMap(client, configMap(namespace, 'new', { v: '1' }, { [SOURCE_LABEL]: 'true' }));

  await eventually(async () => {
    const [change, remove, added, keep] = await Promise.all(['change', 'remove', 'new', 'keep'].map(readCopy));
    return change?.data?.v === '2' && remove === undefined && added?.data?.v === '1' && keep?.data?.v === '1';
  }, 40_000);
  expect(manager.isReady()).toBe(true);
}, 90_000);

it('exposes controller-runtime metrics for the controller, its queue and API requests', async () => {
  const text = await metrics.registry.metrics();
  expect(text).toMatch(/controller_runtime_reconcile_total\{controller="configmap-copier",result="success"\} [1-9]/);
  expect(text).toContain('controller_runtime_max_concurrent_reconciles{controller="configmap-copier"} 2');
  expect(text).toMatch(/workqueue_adds_total\{name="configmap-copier",controller="configmap-copier"\} [1-9]/);
  expect(text).toMatch(/rest_client_requests_total\{code="201",method="POST"\} [1-9]/);
  expect(text).toContain('controller_runtime_reconcile_time_seconds_bucket');
});
