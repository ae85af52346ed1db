// Informer logic against a scripted list/watch source (the real-apiserver tests are in test/integration/kube).
import { KubeApiError } from '../../../../src/kube/client/api-error';
import type { ListResult, Query } from '../../../../src/kube/client/client';
import { Informer, type ListWatchSource } from '../../../../src/kube/cache/informer';
import type { KubeObject } from '../../../../src/kube/meta/object';
import { ConfigMapKind } from '../../../../src/kube/client/resource';

const cm = (name: string, rv: string, labels?: Record<string, string>): KubeObject => ({ metadata: { name, namespace: 'ns', resourceVersion: rv, labels } });

/** A watch body the test writes lines into. */
class ScriptedWatch {
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  readonly body = new ReadableStream<Uint8Array>({ start: (c) => void (this.controller = c) });
  send(type: string, object: unknown): void {
    this.controller.enqueue(new TextEncoder().encode(`${JSON.stringify({ type, object })}\n`));
  }
  end(): void {
    this.controller.close();
  }
}

class ScriptedSource implements ListWatchSource {
  lists: Array<() => ListResult<KubeObject>> = [];
  watches: ScriptedWatch[] = [];
  watchQueries: Query[] = [];
  watchFailures: unknown[] = [];

  async list<T extends KubeObject>(): Promise<ListResult<T>> {
    const next = this.lists.shift();
    if (!next) throw new Error('no list scripted');
    return next() as ListResult<T>;
  }

  async stream(_path: string, query: Query, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    this.watchQueries.push(query);
    const failure = this.watchFailures.shift();
    if (failure) throw failure;
    const watch = new ScriptedWatch();
    this.watches.push(watch);
    signal.addEventListener('abort', () => void watch.body.cancel().catch(() => undefined), { once: true });
    return watch.body;
  }
}

const until = async (test: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

function recorder(informer: Informer) {
  const events: string[] = [];
  informer.addHandlers({
    add: (o) => events.push(`add ${o.metadata.name}`),
    update: (old, o) => events.push(old === o ? `resync ${o.metadata.name}` : `update ${o.metadata.name}`),
    delete: (o) => events.push(`delete ${o.metadata.name}`),
  });
  return events;
}

const fastBackoff = { initialMs: 1, maxMs: 5, jitter: 0 };

describe('Informer', () => {
  let informer: Informer | undefined;
  afterEach(async () => informer?.stop());

  it('watches from the list resourceVersion with bookmarks, and follows the latest version', async () => {
    const source = new ScriptedSource();
    source.lists.push(() => ({ items: [cm('a', '5')], resourceVersion: '10' }));
    informer = new Informer(source, { kind: ConfigMapKind, backoff: fastBackoff });
    const events = recorder(informer);
    informer.start();
    await until(() => source.watches.length === 1);
    expect(source.watchQueries[0]).toMatchObject({ watch: true, allowWatchBookmarks: true, resourceVersion: '10' });
    source.watches[0]!.send('MODIFIED', cm('a', '11'));
    source.watches[0]!.send('MODIFIED', cm('a', '11')); // same version again: no update
    source.watches[0]!.send('BOOKMARK', { metadata: { resourceVersion: '15' } });
    source.watches[0]!.end(); // server-side timeout: reconnect from the bookmark
    await until(() => source.watches.length === 2);
    expect(source.watchQueries[1]!.resourceVersion).toBe('15');
    expect(events).toEqual(['add a', 'update a']);
  });

  it('hands out deep-frozen objects (get, list, handlers): a view that writes to one throws instead of changing the cache', async () => {
    const source = new ScriptedSource();
    source.lists.push(() => ({ items: [cm('a', '5', { role: 'cp' })], resourceVersion: '10' }));
    informer = new Informer(source, { kind: ConfigMapKind, backoff: fastBackoff });
    const delivered: KubeObject[] = [];
    informer.addHandlers({ add: (o) => delivered.push(o), update: (_old, o) => delivered.push(o) });
    informer.start();
    await until(() => source.watches.length === 1);
    source.watches[0]!.send('MODIFIED', cm('b', '11', { role: 'worker' }));
    await until(() => delivered.length === 2);
    const cached = informer.get('ns', 'a')!;
    expect(() => {
      cached.metadata.labels!.role = 'changed';
    }).toThrow(TypeError);
    expect(() => informer!.list({ namespace: 'ns' })[1]!.metadata.labels!.role = 'changed').toThrow(TypeError);
    expect(() => delivered[1]!.metadata.labels = {}).toThrow(TypeError);
    expect(informer.list({ labels: { role: 'cp' } }).map((o) => o.metadata.name)).toEqual(['a']);
    const copy = structuredClone(cached);
    copy.metadata.labels!.role = 'mine';
    expect(informer.get('ns', 'a')!.metadata.labels).toEqual({ role: 'cp' });
  });

  it('caches objects without their managedFields, from the list and from the watch', async () => {
    const withFields = (name: string, rv: string): KubeObject => ({ metadata: { ...cm(name, rv).metadata, managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:data': {} } }] } });
    const source = new ScriptedSource();
    source.lists.push(() => ({ items: [withFields('a', '5')], resourceVersion: '10' }));
    informer = new Informer(source, { kind: ConfigMapKind, backoff: fastBackoff });
    informer.start();
    await until(() => source.watches.length === 1);
    source.watches[0]!.send('ADDED', withFields('b', '11'));
    await until(() => informer!.get('ns', 'b') !== undefined);
    expect(informer.list().map((o) => o.metadata)).toEqual([cm('a', '5').metadata, cm('b', '11').metadata]);
  });

  it('relists on a 410 ERROR event and emits deletes for objects that vanished meanwhile', async () => {
    const source = new ScriptedSource();
    source.lists.push(() => ({ items: [cm('a', '1'), cm('b', '1')], resourceVersion: '2' }));
    source.lists.push(() => ({ items: [cm('a', '7'), cm('c', '6')], resourceVersion: '8' }));
    informer = new Informer(source, { kind: ConfigMapKind, backoff: fastBackoff });
    const events = recorder(informer);
    informer.start();
    await until(() => source.watches.length === 1);
    source.watches[0]!.send('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
    await until(() => source.watches.length === 2);
    expect(events).toEqual(['add a', 'add b', 'update a', 'add c', 'delete b']);
    expect(informer.stats).toMatchObject({ lists: 2, goneRelists: 1 });
    expect(source.watchQueries[1]!.resourceVersion).toBe('8');
  });

  it('relists when the watch request itself answers 410, and retries other failures from the same version', async () => {
    const source = new ScriptedSource();
    source.lists.push(() => ({ items: [], resourceVersion: '3' }));
    source.lists.push(() => ({ items: [], resourceVersion: '9' }));
    source.watchFailures.push(new Error('ECONNREFUSED'), new KubeApiError(410, 'GET', '/', 'Gone', ''));
    informer = new Informer(source, { kind: ConfigMapKind, backoff: fastBackoff });
    informer.start();
    await until(() => source.watches.length === 1);
    expect(source.watchQueries.map((q) => q.resourceVersion)).toEqual(['3', '3', '9']);
    expect(informer.stats).toMatchObject({ errors: 1, goneRelists: 1, lists: 2 });
  });

  it('restarts a watch that went silent', async () => {
    const source = new ScriptedSource();
    source.lists.push(() => ({ items: [], resourceVersion: '1' }));
    informer = new Informer(source, { kind: ConfigMapKind, staleAfterMs: 100, backoff: fastBackoff });
    informer.start();
    await until(() => source.watches.length >= 2, 3000);
    expect(informer.stats.staleRestarts).toBeGreaterThanOrEqual(1);
    expect(informer.stats.errors).toBe(0);
  });

  it('resyncs by re-delivering cached objects, replays objects to late handlers, and reports sync', async () => {
    const source = new ScriptedSource();
    source.lists.push(() => ({ items: [cm('a', '1')], resourceVersion: '1' }));
    informer = new Informer(source, { kind: ConfigMapKind, resyncPeriodMs: 30, backoff: fastBackoff });
    expect(informer.hasSynced()).toBe(false);
    informer.start();
    expect(await informer.waitForSync(1000)).toBe(true);
    const events = recorder(informer);
    await until(() => events.includes('resync a'));
    expect(events[0]).toBe('add a');
  });

  it('keeps serving other handlers when one throws', async () => {
    const source = new ScriptedSource();
    source.lists.push(() => ({ items: [cm('a', '1')], resourceVersion: '1' }));
    informer = new Informer(source, { kind: ConfigMapKind, backoff: fastBackoff });
    informer.addHandlers({ add: () => { throw new Error('bad handler'); } });
    const events = recorder(informer);
    informer.start();
    await informer.waitForSync(1000);
    expect(events).toEqual(['add a']);
  });

  it('gives up waiting for sync on timeout', async () => {
    const source = new ScriptedSource(); // no list scripted: every list fails
    informer = new Informer(source, { kind: ConfigMapKind, backoff: fastBackoff });
    informer.start();
    expect(await informer.waitForSync(50)).toBe(false);
  });
});
