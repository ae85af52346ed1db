// A controller: event sources map objects to keys of the primary kind, a work queue deduplicates
// them, and N workers reconcile (one key at a time per key), requeueing on errors with backoff.
import type { Informer } from '../cache/informer';
import { type Logger, silentLogger } from '../log/logger';
import type { RuntimeMetrics, ReconcileResultLabel } from '../http/metrics';
import { type KubeObject, type ObjectKey, keyString, parseKeyString } from '../meta/object';
import { type EventKind, type Predicate, allow } from './predicates';
import { type ReconcileResult, type Reconciler, TerminalError } from './reconciler';
import type { ResourceKind } from '../client/resource';
import { WorkQueue, type WorkQueueMetrics } from '../queue/workqueue';
import type { ItemBackoffOptions } from '../queue/item-backoff';

export interface EventSource {
  informer: Informer;
  /** Keys of primary objects to reconcile when `obj` changes. */
  map(obj: KubeObject): ObjectKey[];
  predicates: Predicate[];
}

export interface ControllerOptions {
  name: string;
  primary: ResourceKind;
  sources: EventSource[];
  reconciler: Reconciler;
  maxConcurrentReconciles?: number;
  logger?: Logger;
  metrics?: RuntimeMetrics;
  backoff?: ItemBackoffOptions;
}

export class Controller {
  readonly name: string;
  private readonly log: Logger;
  private queue?: WorkQueue;
  private unsubscribe: Array<() => void> = [];
  private workers: Promise<void>[] = [];
  private abort = new AbortController();

  constructor(private readonly options: ControllerOptions) {
    this.name = options.name;
    this.log = (options.logger ?? silentLogger()).child({ controller: options.name });
    options.metrics?.registerController(options.name, this.concurrency);
  }

  get concurrency(): number {
    return Math.max(1, this.options.maxConcurrentReconciles ?? 1);
  }

  get informers(): Informer[] {
    return this.options.sources.map((s) => s.informer);
  }

  get isRunning(): boolean {
    return this.queue !== undefined;
  }

  /** Enqueues a key by hand (e.g. from a custom event source). */
  enqueue(key: ObjectKey): void {
    this.queue?.add(keyString(key));
  }

  /** Starts workers and subscribes to sources; synced sources replay their objects as adds. */
  start(): void {
    if (this.queue) return;
    this.abort = new AbortController();
    const queue = (this.queue = new WorkQueue({ backoff: this.options.backoff, metrics: this.queueMetrics() }));
    for (const source of this.options.sources) {
      const enqueue = (event: EventKind, obj: KubeObject, oldObj?: KubeObject) => {
        if (!allow(source.predicates, event, obj, oldObj)) return;
        const keys = source.map(obj);
        if (oldObj && oldObj !== obj) keys.push(...source.map(oldObj));
        for (const key of keys) queue.add(keyString(key));
      };
      this.unsubscribe.push(
        source.informer.addHandlers({
          add: (obj) => enqueue('create', obj),
          update: (oldObj, obj) => enqueue('update', obj, oldObj),
          delete: (obj) => enqueue('delete', obj),
        }),
      );
    }
    this.options.reconciler.started?.();
    this.workers = Array.from({ length: this.concurrency }, () => this.work(queue));
    this.log.info({ workers: this.concurrency }, 'controller started');
  }

  /**
   * Aborts the signal of every in-flight reconcile now, so that their client calls fail instead of
   * landing (leadership lost: another replica may be writing the same objects), and starts no more.
   */
  abortInFlight(): void {
    this.abort.abort();
  }

  /**
   * Stops taking work and waits up to `timeoutMs` for in-flight reconciles; then aborts their signal
   * so that they can wrap up, and waits for them to return. `timeoutMs` 0 aborts at once.
   */
  async stop(timeoutMs = 30_000): Promise<void> {
    const queue = this.queue;
    if (!queue) return;
    this.queue = undefined;
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe();
    queue.shutDown();
    if (timeoutMs <= 0) this.abort.abort();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      queue.drained().then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut && !this.abort.signal.aborted) this.log.warn({ timeoutMs }, 'reconciles still running at shutdown; aborting them');
    this.abort.abort();
    await Promise.all(this.workers);
    this.log.info('controller stopped');
  }

  private async work(queue: WorkQueue): Promise<void> {
    const signal = this.abort.signal;
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        if (signal.aborted) return;
        await this.reconcileKey(queue, key);
      } finally {
        queue.done(key);
      }
    }
  }

  private async reconcileKey(queue: WorkQueue, key: string): Promise<void> {
    const metrics = this.options.metrics;
    const controller = this.name;
    const objectKey = parseKeyString(key);
    const log = this.log.child({ kind: this.options.primary.kind, namespace: objectKey.namespace || undefined, name: objectKey.name });
    const started = performance.now();
    metrics?.activeWorkers.inc({ controller });
    let result: ReconcileResultLabel = 'success';
    try {
      const outcome: ReconcileResult | void = await this.options.reconciler.reconcile(objectKey, { log, signal: this.abort.signal, controller });
      if (outcome?.requeueAfter && outcome.requeueAfter > 0) {
        queue.forget(key);
        queue.addAfter(key, outcome.requeueAfter);
        result = 'requeue_after';
      } else if (outcome?.requeue) {
        queue.addRateLimited(key);
        result = 'requeue';
      } else {
        queue.forget(key);
      }
    } catch (error) {
      result = 'error';
      metrics?.reconcileErrors.inc({ controller });
      if (error instanceof TerminalError) {
        metrics?.terminalReconcileErrors.inc({ controller });
        queue.forget(key);
        log.error({ err: error }, 'reconcile failed permanently');
      } else {
        queue.addRateLimited(key);
        log.error({ err: error, retries: queue.numRequeues(key) }, 'reconcile failed; will retry');
      }
    } finally {
      metrics?.activeWorkers.dec({ controller });
      metrics?.reconcileTime.observe({ controller }, (performance.now() - started) / 1000);
      metrics?.reconcileTotal.inc({ controller, result });
    }
  }

  private queueMetrics(): WorkQueueMetrics | undefined {
    const metrics = this.options.metrics;
    if (!metrics) return undefined;
    const labels = { name: this.name, controller: this.name };
    return {
      depth: (value) => metrics.workqueueDepth.set(labels, value),
      added: () => metrics.workqueueAdds.inc(labels),
      queueLatency: (seconds) => metrics.workqueueQueueDuration.observe(labels, seconds),
      workDuration: (seconds) => metrics.workqueueWorkDuration.observe(labels, seconds),
      retried: () => metrics.workqueueRetries.inc(labels),
      unfinishedWork: (total, longest) => {
        metrics.workqueueUnfinishedWork.set(labels, total);
        metrics.workqueueLongestRunning.set(labels, longest);
      },
    };
  }
}
