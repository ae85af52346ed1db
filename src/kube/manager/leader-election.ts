// Lease-based leader election (coordination.k8s.io/v1) with controller-runtime's timings:
// 15 s lease, 10 s renew deadline, 2 s retry. Writes use the Lease's resourceVersion, so two
// candidates can never both win. Leadership ends when renewals fail for the renew deadline, or at
// once when the Lease names another holder (someone took it: every write we make now races theirs).
import { isAlreadyExists, isConflict, isNotFound } from '../client/api-error';
import { sleep } from '../queue/backoff';
import type { KubeClient } from '../client/client';
import { microTime } from '../patch/events';
import { type ObservedLease, type LeaseSpec, decide, nextSpec, observe, releasedSpec } from './lease-decision';
import { type Logger, silentLogger } from '../log/logger';
import type { KubeObject } from '../meta/object';
import { LeaseKind, resourcePath } from '../client/resource';

export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

/** Lease I/O; the Kube-backed one bypasses the client rate limit so renewals never queue. */
export interface LeaseStore {
  get(signal?: AbortSignal): Promise<Lease | undefined>;
  create(lease: Lease, signal?: AbortSignal): Promise<Lease>;
  update(lease: Lease, signal?: AbortSignal): Promise<Lease>;
}

export function kubeLeaseStore(client: KubeClient, namespace: string, name: string, timeoutMs = 5_000): LeaseStore {
  const options = (signal?: AbortSignal) => ({ bypassRateLimit: true, timeoutMs, signal });
  return {
    async get(signal) {
      try {
        return await client.request<Lease>('GET', resourcePath(LeaseKind, namespace, name), options(signal));
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    create: (lease, signal) =>
      client.request<Lease>('POST', resourcePath(LeaseKind, namespace), { ...options(signal), body: lease }),
    update: (lease, signal) =>
      client.request<Lease>('PUT', resourcePath(LeaseKind, namespace, name), { ...options(signal), body: lease }),
  };
}

export interface LeaderElectionConfig {
  store: LeaseStore;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger?: Logger;
  onStartedLeading(): void;
  onStoppedLeading(): void;
  /** Reports leadership changes (leader_election_master_status). */
  onStatus?(leading: boolean): void;
  now?: () => number;
}

/** One acquire/renew attempt: we hold the Lease, another holder does, or the request failed. */
type AttemptOutcome = 'held' | 'held-by-other' | 'failed';

export class LeaderElector {
  private leading = false;
  private observed?: ObservedLease;
  private current?: Lease;
  private loop?: Promise<void>;
  private readonly stopController = new AbortController();
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;

  constructor(private readonly config: LeaderElectionConfig) {
    this.leaseDurationMs = config.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = config.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = config.retryPeriodMs ?? 2_000;
    if (this.leaseDurationMs <= this.renewDeadlineMs) throw new Error('lease duration must exceed the renew deadline');
    if (this.renewDeadlineMs <= this.retryPeriodMs) throw new Error('renew deadline must exceed the retry period');
    this.log = (config.logger ?? silentLogger()).child({ lease: `${config.namespace}/${config.name}`, identity: config.identity });
    this.now = config.now ?? (() => performance.now());
  }

  get isLeader(): boolean {
    return this.leading;
  }

  run(): void {
    this.loop ??= this.campaign();
  }

  /** Stops campaigning; a leader steps down and, with `release`, clears the holder for fast handover. */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.stopController.abort();
    await this.loop;
    if (this.leading) {
      this.setLeading(false);
      if (options.release) await this.release();
    }
  }

  private async campaign(): Promise<void> {
    const signal = this.stopController.signal;
    while (!signal.aborted) {
      // Acquire: retry every period until we hold the lease.
      while (!signal.aborted && (await this.tryAcquireOrRenew(signal)) !== 'held') await sleep(this.retryPeriodMs, signal);
      if (signal.aborted) return;
      this.setLeading(true);
      this.log.info('became leader');
      // Renew: every period; leadership ends if no renewal succeeds within the renew deadline.
      let lastRenewed = this.now();
      let outcome: AttemptOutcome = 'held';
      while (!signal.aborted) {
        await sleep(this.retryPeriodMs, signal);
        if (signal.aborted) return;
        outcome = await this.tryAcquireOrRenew(signal);
        if (outcome === 'held') lastRenewed = this.now();
        else if (outcome === 'held-by-other' || this.now() - lastRenewed >= this.renewDeadlineMs) break;
      }
      if (signal.aborted) return;
      if (outcome === 'held-by-other') this.log.error({ holder: this.observed?.spec.holderIdentity ?? null }, 'the lease names another holder; leadership lost');
      else this.log.error({ renewDeadlineMs: this.renewDeadlineMs }, 'could not renew the lease in time; leadership lost');
      this.setLeading(false);
    }
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    this.config.onStatus?.(leading);
    if (leading) this.config.onStartedLeading();
    else this.config.onStoppedLeading();
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<AttemptOutcome> {
    const { store, identity, namespace, name } = this.config;
    try {
      const lease = await store.get(signal);
      const nowIso = microTime();
      if (!lease) {
        this.current = await store.create(
          { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: nextSpec(undefined, identity, this.leaseDurationMs, nowIso) },
          signal,
        );
        return 'held';
      }
      this.observed = observe(this.observed, lease.spec ?? {}, this.now());
      const verdict = decide(this.observed, identity, this.now(), this.leaseDurationMs);
      if (verdict === 'held-by-other') return 'held-by-other';
      const updated = { ...lease, spec: nextSpec(lease.spec, identity, this.leaseDurationMs, nowIso) };
      this.current = await store.update(updated, signal);
      if (verdict === 'acquire') this.log.info({ previousHolder: lease.spec?.holderIdentity ?? null }, 'acquired lease');
      return 'held';
    } catch (error) {
      if (!signal.aborted && !isConflict(error) && !isAlreadyExists(error)) this.log.warn({ err: error }, 'lease request failed');
      return 'failed';
    }
  }

  private async release(): Promise<void> {
    const lease = this.current;
    if (!lease?.spec) return;
    try {
      await this.config.store.update({ ...lease, spec: releasedSpec(lease.spec, microTime()) });
      this.log.info('released lease');
    } catch (error) {
      this.log.warn({ err: error }, 'could not release lease; the next leader waits for it to expire');
    }
  }
}
