import { aggregationKey, microTime, truncateNote } from '../../../src/kube/patch/events';
import { controllerOwnerReference, ownerKeys } from '../../../src/kube/meta/owners';
import { IndexedStore } from '../../../src/kube/cache/store';
import { TokenBucket } from '../../../src/kube/client/token-bucket';
import { Backoff, exponentialDelay } from '../../../src/kube/queue/backoff';
import { parseWatchLine } from '../../../src/kube/cache/watch-events';
import { resourcePath } from '../../../src/kube/client/resource';
import type { KubeObject } from '../../../src/kube/meta/object';

const obj = (name: string, meta: Partial<KubeObject['metadata']> = {}): KubeObject => ({ metadata: { name, namespace: 'ns', ...meta } });

describe('IndexedStore', () => {
  it('answers namespace, label and owner queries and keeps indexes right across updates and removals', () => {
    const store = new IndexedStore();
    store.upsert(obj('a', { labels: { app: 'x', tier: 'db' }, ownerReferences: [{ apiVersion: 'v1', kind: 'K', name: 'o', uid: 'u1' }] }));
    store.upsert(obj('b', { labels: { app: 'x' } }));
    store.upsert({ metadata: { name: 'c', namespace: 'other', labels: { app: 'x' } } });
    expect(store.query({ labels: { app: 'x' }, namespace: 'ns' }).map((o) => o.metadata.name).sort()).toEqual(['a', 'b']);
    expect(store.query({ labels: { app: 'x', tier: 'db' } }).map((o) => o.metadata.name)).toEqual(['a']);
    expect(store.query({ ownerUid: 'u1' }).map((o) => o.metadata.name)).toEqual(['a']);
    store.upsert(obj('a', { labels: { app: 'y' } }));
    expect(store.query({ ownerUid: 'u1' })).toEqual([]);
    expect(store.query({ labels: { app: 'x' } }).map((o) => o.metadata.name).sort()).toEqual(['b', 'c']);
    store.remove('ns/b');
    expect(store.query({ namespace: 'ns' }).map((o) => o.metadata.name)).toEqual(['a']);
    store.addIndex('byName', (o) => [o.metadata.name ?? '']);
    expect(store.byIndex('byName', 'c')).toHaveLength(1);
    expect(() => store.byIndex('missing', 'x')).toThrow('no index missing');
  });
});

describe('TokenBucket', () => {
  it('allows a burst, then refills at qps', () => {
    let now = 0;
    const bucket = new TokenBucket({ qps: 10, burst: 3, now: () => now });
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, true, false]);
    expect(bucket.delayUntilToken()).toBeCloseTo(100);
    now = 100;
    expect(bucket.tryTake()).toBe(true);
    now = 10_000;
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, true, false]);
  });

  it('serves waiters in order and is a no-op when qps is 0', async () => {
    const bucket = new TokenBucket({ qps: 200, burst: 1 });
    const order: number[] = [];
    await Promise.all([1, 2, 3].map((i) => bucket.take().then(() => order.push(i))));
    expect(order).toEqual([1, 2, 3]);
    const off = new TokenBucket({ qps: 0, burst: 1 });
    expect([off.tryTake(), off.tryTake()]).toEqual([true, true]);
  });
});

describe('backoff', () => {
  it('grows, caps and jitters downwards only', () => {
    expect([1, 2, 3, 10].map((n) => exponentialDelay(n, { initialMs: 100, maxMs: 1000 }))).toEqual([100, 200, 400, 1000]);
    const backoff = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0.5 }, () => 1);
    expect(backoff.next()).toBe(50);
    expect(backoff.next()).toBe(100);
    backoff.reset();
    expect(backoff.consecutiveFailures).toBe(0);
  });
});

describe('owner references', () => {
  it('builds a controller reference and maps children back to owners of that kind', () => {
    const kind = { group: 'bootstrap.cluster.x-k8s.io', version: 'v1beta1', kind: 'TalosConfig', plural: 'talosconfigs', namespaced: true };
    const ref = controllerOwnerReference(obj('tc', { uid: 'u' }), kind);
    expect(ref).toEqual({ apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1', kind: 'TalosConfig', name: 'tc', uid: 'u', controller: true, blockOwnerDeletion: true });
    // Another version of the same group still maps (versions convert).
    const child = obj('secret', { ownerReferences: [{ ...ref, apiVersion: 'bootstrap.cluster.x-k8s.io/v1alpha3' }] });
    expect(ownerKeys(child, kind)).toEqual([{ namespace: 'ns', name: 'tc' }]);
    expect(() => controllerOwnerReference(obj('no-uid'), kind)).toThrow('lacks name or uid');
  });
});

describe('events helpers', () => {
  it('formats MicroTime with six fractional digits and truncates long notes to 1 kB', () => {
    expect(microTime(new Date('2026-01-02T03:04:05.678Z'))).toBe('2026-01-02T03:04:05.678000Z');
    const note = truncateNote('é'.repeat(2000));
    expect(Buffer.byteLength(note)).toBeLessThanOrEqual(1024);
    expect(note.endsWith('...')).toBe(true);
    expect(truncateNote('short')).toBe('short');
  });

  it('aggregates only identical events on the same object', () => {
    const a = obj('a', { uid: '1' });
    expect(aggregationKey(a, 'Normal', 'R', 'R', 'm')).toBe(aggregationKey(a, 'Normal', 'R', 'R', 'm'));
    expect(aggregationKey(a, 'Normal', 'R', 'R', 'm')).not.toBe(aggregationKey(a, 'Normal', 'R', 'R', 'other'));
  });
});

describe('watch lines and paths', () => {
  it('parses events and skips junk', () => {
    expect(parseWatchLine('{"type":"ADDED","object":{"metadata":{}}}')).toEqual({ type: 'ADDED', object: { metadata: {} } });
    expect(parseWatchLine('not json')).toBeUndefined();
    expect(parseWatchLine('{"type":"WEIRD","object":{}}')).toBeUndefined();
    expect(parseWatchLine('   ')).toBeUndefined();
  });

  it('builds REST paths for core and group kinds', () => {
    const cm = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };
    const cluster = { group: 'cluster.x-k8s.io', version: 'v1beta2', kind: 'Cluster', plural: 'clusters', namespaced: true };
    expect(resourcePath(cm)).toBe('/api/v1/configmaps');
    expect(resourcePath(cm, 'ns', 'a')).toBe('/api/v1/namespaces/ns/configmaps/a');
    expect(resourcePath(cluster, 'ns', 'c', 'status')).toBe('/apis/cluster.x-k8s.io/v1beta2/namespaces/ns/clusters/c/status');
    expect(() => resourcePath(cm, '', 'a')).toThrow('namespace required');
  });
});
