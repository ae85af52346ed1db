// Controller wiring and worker semantics with scripted informers (no API server).
import type { ListResult, Query } from '../../../../src/kube/client/client';
import { ControllerBuilder, type BuilderHost } from '../../../../src/kube/controller/builder';
import type { Controller } from '../../../../src/kube/controller/controller';
import { Informer, type ListWatchSource } from '../../../../src/kube/cache/informer';
import { RuntimeMetrics } from '../../../../src/kube/http/metrics';
import type { KubeObject, ObjectKey } from '../../../../src/kube/meta/object';
import { PAUSED_ANNOTATION, WATCH_FILTER_LABEL, fromFilter } from '../../../../src/kube/controller/predicates';
import { TerminalError } from '../../../../src/kube/controller/reconciler';
import type { ResourceKind } from '../../../../src/kube/client/resource';
import { silentLogger } from '../../../../src/kube/log/logger';

const Parent: ResourceKind = { group: 'example.dev', version: 'v1', kind: 'Parent', plural: 'parents', namespaced: true };
const Child: ResourceKind = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };
const Other: ResourceKind = { group: 'example.dev', version: 'v1', kind: 'Other', plural: 'others', namespaced: true };

/** Lists the given objects once, then keeps an idle watch open. */
function staticSource(objects: Record<string, KubeObject[]>): ListWatchSource {
  return {
    async list<T extends KubeObject>(kind: ResourceKind): Promise<ListResult<T>> {
      return { items: (objects[kind.plural] ?? []) as T[], resourceVersion: '1' };
    },
    async stream(_path: string, _query: Query, signal: AbortSignal) {
      return new ReadableStream<Uint8Array>({ start: (c) => signal.addEventListener('abort', () => c.close()) });
    },
  };
}

function host(objects: Record<string, KubeObject[]>, options: { watchFilter?: string; metrics?: RuntimeMetrics } = {}) {
  const informers = new Map<string, Informer>();
  const source = staticSource(objects);
  const controllers: Controller[] = [];
  const h: BuilderHost = {
    informer(kind) {
      let informer = informers.get(kind.plural);
      if (!informer) informers.set(kind.plural, (informer = new Informer(source, { kind })));
      return informer;
    },
    register: (c) => controllers.push(c),
    logger: silentLogger(),
    metrics: options.metrics,
    watchFilter: options.watchFilter,
    concurrencyFor: () => 1,
  };
  return {
    h, controllers, informers,
    async start() {
      for (const informer of informers.values()) informer.start();
      for (const informer of informers.values()) await informer.waitForSync(1000);
      for (const controller of controllers) controller.start();
    },
    async stop() {
      for (const controller of controllers) await controller.stop(1000);
      for (const informer of informers.values()) await informer.stop();
    },
  };
}

const obj = (name: string, meta: Partial<KubeObject['metadata']> = {}): KubeObject => ({ metadata: { name, namespace: 'ns', uid: `uid-${name}`, ...meta } });
const until = async (test: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};
const keyOf = (k: ObjectKey) => `${k.namespace}/${k.name}`;

describe('controller builder and controller', () => {
  it('maps primaries, owned children (controller owner refs of the primary kind) and watched objects to keys', async () => {
    const objects = {
      parents: [obj('p1'), obj('p2', { annotations: { [PAUSED_ANNOTATION]: 'true' } })],
      configmaps: [
        obj('c1', { ownerReferences: [{ apiVersion: 'example.dev/v1', kind: 'Parent', name: 'p3', uid: 'u', controller: true }] }),
        obj('c2', { ownerReferences: [{ apiVersion: 'example.dev/v1', kind: 'Parent', name: 'p4', uid: 'u' }] }), // not the controller
        obj('c3', { ownerReferences: [{ apiVersion: 'other.dev/v1', kind: 'Parent', name: 'p5', uid: 'u', controller: true }] }),
      ],
      others: [obj('o1', { labels: { parent: 'p6' } })],
    };
    const bed = host(objects);
    const seen = new Set<string>();
    new ControllerBuilder(bed.h, 'test')
      .for(Parent, { predicates: [fromFilter((o) => o.metadata.annotations?.[PAUSED_ANNOTATION] === undefined)] })
      .owns(Child)
      .watches(Other, (o) => [{ namespace: o.metadata.namespace!, name: o.metadata.labels!.parent! }])
      .complete({ reconcile: async (key) => void seen.add(keyOf(key)) });
    await bed.start();
    await until(() => seen.size >= 3);
    await new Promise((r) => setTimeout(r, 50));
    expect([...seen].sort()).toEqual(['ns/p1', 'ns/p3', 'ns/p6']);
    await bed.stop();
  });

  it('applies the watch filter to every source', async () => {
    const labelled = { labels: { [WATCH_FILTER_LABEL]: 'mine' } };
    const bed = host({ parents: [obj('p1', labelled), obj('p2')] }, { watchFilter: 'mine' });
    const seen: string[] = [];
    new ControllerBuilder(bed.h, 'test').for(Parent).complete({ reconcile: async (key) => void seen.push(key.name) });
    await bed.start();
    await until(() => seen.length >= 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual(['p1']);
    await bed.stop();
  });

  it('with a watch filter, keeps no key another kind maps to a primary cached with another shard\'s label', async () => {
    const shard = (value: string) => ({ labels: { [WATCH_FILTER_LABEL]: value } });
    const pointingAt = (name: string, parent: string) => obj(name, { labels: { [WATCH_FILTER_LABEL]: 'mine', parent } });
    const bed = host({
      parents: [obj('p1', shard('mine')), obj('p2', shard('theirs')), obj('p3')],
      others: [pointingAt('o1', 'p1'), pointingAt('o2', 'p2'), pointingAt('o3', 'p3'), pointingAt('o4', 'p4')],
    }, { watchFilter: 'mine' });
    const seen = new Set<string>();
    new ControllerBuilder(bed.h, 'test')
      .for(Parent)
      .watches(Other, (o) => [{ namespace: o.metadata.namespace!, name: o.metadata.labels!.parent! }])
      .complete({ reconcile: async (key) => void seen.add(key.name) });
    await bed.start();
    await until(() => seen.size >= 2);
    await new Promise((r) => setTimeout(r, 50));
    // p4 is not cached (yet): the reconcile finds out, as it would for a deleted primary.
    expect([...seen].sort()).toEqual(['p1', 'p4']);
    await bed.stop();
  });

  it('requeues errors with growing backoff, honours requeueAfter, and drops terminal errors', async () => {
    const metrics = new RuntimeMetrics();
    const bed = host({ parents: [obj('flaky'), obj('later'), obj('broken')] }, { metrics });
    const calls: Record<string, number[]> = { flaky: [], later: [], broken: [] };
    new ControllerBuilder(bed.h, 'test')
      .for(Parent)
      .withConcurrency(3)
      .withBackoff({ baseDelayMs: 20, maxDelayMs: 1000 })
      .complete({
        async reconcile(key) {
          calls[key.name]!.push(Date.now());
          if (key.name === 'flaky' && calls.flaky!.length < 3) throw new Error('transient');
          if (key.name === 'later' && calls.later!.length < 2) return { requeueAfter: 100 };
          if (key.name === 'broken') throw new TerminalError('bad spec');
        },
      });
    await bed.start();
    await until(() => calls.flaky!.length === 3 && calls.later!.length === 2);
    await new Promise((r) => setTimeout(r, 150));
    expect(calls.broken).toHaveLength(1);
    const [f0, f1, f2] = calls.flaky!;
    expect(f1! - f0!).toBeGreaterThanOrEqual(18); // 20 ms, then 40 ms
    expect(f2! - f1!).toBeGreaterThanOrEqual(38);
    expect(calls.later![1]! - calls.later![0]!).toBeGreaterThanOrEqual(95);
    const totals = Object.fromEntries((await metrics.reconcileTotal.get()).values.map((v) => [v.labels.result, v.value]));
    expect(totals).toEqual({ success: 2, error: 3, requeue: 0, requeue_after: 1 });
    expect((await metrics.terminalReconcileErrors.get()).values[0]!.value).toBe(1);
    expect((await metrics.workqueueRetries.get()).values[0]!.value).toBe(2);
    await bed.stop();
  });

  it('waits for in-flight reconciles on stop, then aborts their signal after the timeout', async () => {
    const bed = host({ parents: [obj('slow')] });
    let aborted = false;
    let started = false;
    const controller = new ControllerBuilder(bed.h, 'test').for(Parent).complete({
      async reconcile(_key, ctx) {
        started = true;
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
        aborted = ctx.signal.aborted;
      },
    });
    await bed.start();
    await until(() => started);
    const stopping = Date.now();
    await controller.stop(100);
    expect(Date.now() - stopping).toBeGreaterThanOrEqual(95);
    expect(aborted).toBe(true);
    expect(controller.isRunning).toBe(false);
    for (const informer of bed.informers.values()) await informer.stop();
  });

  it('refuses owns() before for()', () => {
    const bed = host({});
    expect(() => new ControllerBuilder(bed.h, 'x').owns(Child)).toThrow('call for() before owns()');
  });
});
