// A work queue of keys with client-go semantics: a key is queued at most once (dirty set), never
// handed to two workers at once (processing set; a key added while processing is queued again when
// done), delayed adds keep the earliest deadline, and failures back off per item.
import { DEFAULT_ITEM_BACKOFF, ItemExponentialBackoff, type ItemBackoffOptions } from './item-backoff';

/** Where the queue reports; RuntimeMetrics-backed in the manager, absent in unit tests. */
export interface WorkQueueMetrics {
  depth(value: number): void;
  added(): void;
  queueLatency(seconds: number): void;
  workDuration(seconds: number): void;
  retried(): void;
  unfinishedWork(totalSeconds: number, longestSeconds: number): void;
}

export interface WorkQueueOptions {
  backoff?: ItemBackoffOptions;
  metrics?: WorkQueueMetrics;
  now?: () => number;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Map<string, number>();
  private readonly queuedAt = new Map<string, number>();
  private readonly delayed = new Map<string, { due: number; timer: NodeJS.Timeout }>();
  private readonly waiters: Array<(key: string | undefined) => void> = [];
  private readonly drainWaiters: Array<() => void> = [];
  private readonly backoff: ItemExponentialBackoff;
  private readonly now: () => number;
  private readonly metricsTimer?: NodeJS.Timeout;
  private shuttingDown = false;

  constructor(private readonly options: WorkQueueOptions = {}) {
    this.backoff = new ItemExponentialBackoff(options.backoff ?? DEFAULT_ITEM_BACKOFF);
    this.now = options.now ?? (() => performance.now());
    if (options.metrics) {
      this.metricsTimer = setInterval(() => this.reportUnfinished(), 1000);
      this.metricsTimer.unref();
    }
  }

  /** Keys waiting (not counting delayed ones or ones being processed). */
  get length(): number {
    return this.queue.length;
  }

  get processingCount(): number {
    return this.processing.size;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.options.metrics?.added();
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.enqueue(key);
  }

  /** Adds after `delayMs`; of several pending delayed adds for one key the earliest wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const due = this.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending && pending.due <= due) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.delayed.set(key, { due, timer });
  }

  /** Adds after the item's current backoff delay (and grows it). */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    this.options.metrics?.retried();
    this.addAfter(key, this.backoff.when(key));
  }

  /** Resets the item's backoff; call after a successful reconcile. */
  forget(key: string): void {
    this.backoff.forget(key);
  }

  numRequeues(key: string): number {
    return this.backoff.numRequeues(key);
  }

  /** Waits for the next key; undefined once the queue shuts down. The caller must call done(key). */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) return Promise.resolve(this.startProcessing(key));
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    const started = this.processing.get(key);
    if (started === undefined) return;
    this.processing.delete(key);
    this.options.metrics?.workDuration((this.now() - started) / 1000);
    if (this.dirty.has(key) && !this.shuttingDown) this.enqueue(key);
    if (this.processing.size === 0) for (const waiter of this.drainWaiters.splice(0)) waiter();
  }

  /** Stops handing out work; pending and delayed keys are dropped. Keys in flight may still call done. */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    this.queue.length = 0;
    this.dirty.clear();
    clearInterval(this.metricsTimer);
    this.options.metrics?.depth(0);
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }

  /** Resolves when no key is being processed. */
  drained(): Promise<void> {
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private enqueue(key: string): void {
    this.queuedAt.set(key, this.now());
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter(this.startProcessing(key));
      return;
    }
    this.queue.push(key);
    this.options.metrics?.depth(this.queue.length);
  }

  private startProcessing(key: string): string {
    const queued = this.queuedAt.get(key);
    this.queuedAt.delete(key);
    if (queued !== undefined) this.options.metrics?.queueLatency((this.now() - queued) / 1000);
    this.dirty.delete(key);
    this.processing.set(key, this.now());
    this.options.metrics?.depth(this.queue.length);
    return key;
  }

  private reportUnfinished(): void {
    const now = this.now();
    let total = 0;
    let longest = 0;
    for (const started of this.processing.values()) {
      const seconds = (now - started) / 1000;
      total += seconds;
      longest = Math.max(longest, seconds);
    }
    this.options.metrics?.unfinishedWork(total, longest);
  }
}
