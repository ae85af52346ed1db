// List+watch cache for one kind that never gives up: it relists on 410 Gone, reconnects with
// jittered backoff on any error, restarts watches that went silent, and can resync periodically.
import { KubeApiError, isGone } from '../client/api-error';
import { Backoff, type BackoffOptions, sleep } from '../queue/backoff';
import type { ListOptions, ListResult, Query } from '../client/client';
import { type Logger, silentLogger } from '../log/logger';
import { type KubeObject, cacheKeyOf, keyString } from '../meta/object';
import { type ResourceKind, kindId, resourcePath } from '../client/resource';
import { type IndexFunc, IndexedStore, type StoreQuery, builtInIndexes } from './store';
import { readWatchEvents, statusCodeOf } from './watch-events';

/** What the informer needs from the API client (KubeClient satisfies it; tests may fake it). */
export interface ListWatchSource {
  list<T extends KubeObject>(kind: ResourceKind, options?: ListOptions): Promise<ListResult<T>>;
  stream(path: string, query: Query, signal: AbortSignal): Promise<ReadableStream<Uint8Array>>;
}

export interface InformerHandlers<T extends KubeObject = KubeObject> {
  add?(obj: T): void;
  /** On a periodic resync `oldObj === newObj`. */
  update?(oldObj: T, newObj: T): void;
  /** Receives the last state the informer knew. */
  delete?(obj: T): void;
}

export interface InformerOptions {
  kind: ResourceKind;
  /** Restrict to one namespace; default all namespaces. */
  namespace?: string;
  labelSelector?: string;
  /** Re-deliver every cached object as an update this often; 0/undefined disables. */
  resyncPeriodMs?: number;
  /** Restart a watch that delivered no event or bookmark for this long. */
  staleAfterMs?: number;
  /** Server-side watch timeout; drawn from [min, 2·min) like client-go to spread reconnects. */
  minWatchTimeoutSeconds?: number;
  backoff?: BackoffOptions;
  pageSize?: number;
  indexes?: Record<string, IndexFunc>;
  logger?: Logger;
}

export interface InformerStats {
  lists: number;
  watches: number;
  /** Relists caused by 410 Gone. */
  goneRelists: number;
  errors: number;
  staleRestarts: number;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 };

export class Informer<T extends KubeObject = KubeObject> {
  readonly store: IndexedStore<T>;
  readonly stats: InformerStats = { lists: 0, watches: 0, goneRelists: 0, errors: 0, staleRestarts: 0 };
  private readonly handlers = new Set<InformerHandlers<T>>();
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private resourceVersion = '';
  private synced = false;
  private syncWaiters: Array<() => void> = [];
  private running?: { stop: AbortController; loop: Promise<void>; resync?: NodeJS.Timeout };

  constructor(private readonly source: ListWatchSource, readonly options: InformerOptions) {
    this.store = new IndexedStore<T>({ ...builtInIndexes, ...options.indexes });
    this.log = (options.logger ?? silentLogger()).child({ informer: kindId(options.kind), namespace: options.namespace });
    this.backoff = new Backoff(options.backoff ?? DEFAULT_BACKOFF);
  }

  get kind(): ResourceKind {
    return this.options.kind;
  }

  /** Registers handlers; if the cache is already synced, replays current objects as adds. */
  addHandlers(handlers: InformerHandlers<T>): () => void {
    this.handlers.add(handlers);
    if (this.synced) for (const obj of this.store.all()) this.deliver(handlers, 'add', obj);
    return () => this.handlers.delete(handlers);
  }

  get(namespace: string, name: string): T | undefined {
    return this.store.get(keyString({ namespace, name }));
  }

  list(query?: StoreQuery): T[] {
    return this.store.query(query);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true once synced, false if the timeout or signal comes first. */
  waitForSync(timeoutMs = 120_000, signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const finish = (value: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.syncWaiters = this.syncWaiters.filter((w) => w !== onSynced);
        resolve(value);
      };
      const onSynced = () => finish(true);
      const onAbort = () => finish(false);
      const timer = setTimeout(onAbort, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.syncWaiters.push(onSynced);
    });
  }

  get isRunning(): boolean {
    return this.running !== undefined;
  }

  /** Starts (or resumes: a stopped informer keeps its cache and continues from its resourceVersion). */
  start(): void {
    if (this.running) return;
    const stop = new AbortController();
    const loop = this.run(stop.signal);
    const resyncMs = this.options.resyncPeriodMs ?? 0;
    const resync = resyncMs > 0 ? setInterval(() => this.resync(), resyncMs) : undefined;
    resync?.unref();
    this.running = { stop, loop, resync };
  }

  async stop(): Promise<void> {
    const running = this.running;
    if (!running) return;
    this.running = undefined;
    clearInterval(running.resync);
    running.stop.abort();
    await running.loop;
  }

  private async run(stopSignal: AbortSignal): Promise<void> {
    while (!stopSignal.aborted) {
      try {
        if (!this.synced || !this.resourceVersion) await this.relist(stopSignal);
        const events = await this.watchOnce(stopSignal);
        // A server that keeps closing watches at once must not turn this loop into a busy spin.
        if (events === 0 && !stopSignal.aborted) await sleep(this.backoff.next(), stopSignal);
      } catch (error) {
        if (stopSignal.aborted) break;
        if (isGone(error)) {
          this.stats.goneRelists += 1;
          this.log.info({ resourceVersion: this.resourceVersion }, 'resourceVersion too old (410 Gone): relisting');
          this.resourceVersion = '';
        } else {
          this.stats.errors += 1;
        }
        const delayMs = this.backoff.next();
        this.log.warn({ err: error, delayMs: Math.round(delayMs) }, 'list/watch failed; retrying');
        await sleep(delayMs, stopSignal);
      }
    }
  }

  /** Lists everything and reconciles the cache with it, emitting add/update/delete for differences. */
  private async relist(signal: AbortSignal): Promise<void> {
    const { kind, namespace, labelSelector, pageSize } = this.options;
    const result = await this.source.list<T>(kind, { namespace, labelSelector, limit: pageSize, signal });
    if (signal.aborted) return;
    this.stats.lists += 1;
    const seen = new Set<string>();
    for (const obj of result.items) {
      seen.add(cacheKeyOf(obj));
      this.apply(obj);
    }
    for (const key of this.store.keys()) {
      if (!seen.has(key)) this.emit('delete', this.store.remove(key)!);
    }
    this.resourceVersion = result.resourceVersion;
    this.log.debug({ objects: result.items.length, resourceVersion: this.resourceVersion }, 'listed');
    if (!this.synced) {
      this.synced = true;
      for (const waiter of this.syncWaiters.splice(0)) waiter();
    }
  }

  /** Watches until the server ends the stream or it goes stale; returns the number of events seen. */
  private async watchOnce(stopSignal: AbortSignal): Promise<number> {
    // The stop signal may already have fired (stop() right after sync): combine rather than listen.
    const staleAbort = new AbortController();
    const watchSignal = AbortSignal.any([stopSignal, staleAbort.signal]);
    if (watchSignal.aborted) return 0;
    const staleAfterMs = this.options.staleAfterMs ?? 180_000;
    let lastActivity = Date.now();
    let stale = false;
    let events = 0;
    const staleCheck = setInterval(() => {
      if (Date.now() - lastActivity > staleAfterMs) {
        stale = true;
        staleAbort.abort();
      }
    }, Math.max(50, Math.min(staleAfterMs / 4, 10_000)));
    try {
      const minTimeout = this.options.minWatchTimeoutSeconds ?? 300;
      const query: Query = {
        watch: true, allowWatchBookmarks: true, resourceVersion: this.resourceVersion,
        labelSelector: this.options.labelSelector,
        timeoutSeconds: Math.floor(minTimeout * (1 + Math.random())),
      };
      const path = resourcePath(this.options.kind, this.options.namespace ?? '');
      const body = await this.source.stream(path, query, watchSignal);
      this.stats.watches += 1;
      for await (const event of readWatchEvents(body, watchSignal)) {
        lastActivity = Date.now();
        events += 1;
        if (event.type === 'ERROR') {
          const code = statusCodeOf(event.object);
          const reason = typeof event.object.reason === 'string' ? event.object.reason : '';
          const message = typeof event.object.message === 'string' ? event.object.message : '';
          throw new KubeApiError(code, 'WATCH', path, reason, message);
        }
        this.backoff.reset();
        const obj = event.object as T;
        const version = obj.metadata?.resourceVersion;
        if (event.type === 'DELETED') {
          const previous = this.store.remove(cacheKeyOf(obj));
          this.emit('delete', previous ?? obj);
        } else if (event.type !== 'BOOKMARK') {
          this.apply(obj);
        }
        if (version) this.resourceVersion = version;
      }
    } catch (error) {
      if (!(stale || stopSignal.aborted)) throw error;
    } finally {
      clearInterval(staleCheck);
      // Ends the HTTP stream if we are leaving for another reason (server ERROR event, bad data).
      staleAbort.abort();
    }
    if (stale) {
      this.stats.staleRestarts += 1;
      this.log.info({ staleAfterMs }, 'watch went silent; restarting it');
    }
    return events;
  }

  private apply(obj: T): void {
    // Nothing here reads managedFields, and they are often a third of an object: not cached
    // (controller-runtime's default cache transform does the same).
    delete obj.metadata.managedFields;
    const previous = this.store.upsert(obj);
    if (!previous) this.emit('add', obj);
    else if (previous.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit('update', obj, previous);
  }

  private resync(): void {
    for (const obj of this.store.all()) this.emit('update', obj, obj);
  }

  private emit(type: 'add' | 'update' | 'delete', obj: T, previous?: T): void {
    for (const handlers of this.handlers) this.deliver(handlers, type, obj, previous);
  }

  private deliver(handlers: InformerHandlers<T>, type: 'add' | 'update' | 'delete', obj: T, previous?: T): void {
    try {
      if (type === 'add') handlers.add?.(obj);
      else if (type === 'update') handlers.update?.(previous ?? obj, obj);
      else handlers.delete?.(obj);
    } catch (error) {
      this.log.error({ err: error, event: type }, 'informer handler threw');
    }
  }
}
