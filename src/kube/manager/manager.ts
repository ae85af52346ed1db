// The manager: shared informers per kind, controllers that run only while this replica leads,
// probes and metrics over HTTP, and a graceful shutdown that releases the lease for fast handover.
// Losing the lease is not graceful: in-flight reconciles are aborted at once and the manager stops
// with 'leadership-lost' (the process exits non-zero), as controller-runtime does.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { ControllerBuilder, type BuilderHost } from '../controller/builder';
import type { KubeClient } from '../client/client';
import type { Controller } from '../controller/controller';
import { type EventRecorder, KubeEventRecorder } from '../patch/events';
import { type EndpointOptions, HttpEndpoints, type RouteHandler, parseListenAddress } from '../http/http-server';
import { MetricsAuthorizer } from '../http/metrics-auth';
import { type ServingCertificate, selfSignedCertificate } from '../http/self-signed';
import { Informer, type InformerOptions } from '../cache/informer';
import { LeaderElector, kubeLeaseStore } from './leader-election';
import { type Logger, silentLogger } from '../log/logger';
import { RuntimeMetrics } from '../http/metrics';
import { type ResourceKind, kindId } from '../client/resource';
import { type GroupVersionKind, RestMapper } from '../client/rest-mapper';
import { UnstructuredClient } from '../client/unstructured';

export interface LeaderElectionOptions {
  id: string;
  namespace: string;
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface ManagerOptions {
  client: KubeClient;
  logger?: Logger;
  metrics?: RuntimeMetrics;
  /** Watch only this namespace (default: all). */
  namespace?: string;
  watchFilter?: string;
  /** Absent: no leader election, controllers run as soon as caches sync. */
  leaderElection?: LeaderElectionOptions;
  /** "host:port"; "" or "0" disables. */
  healthAddr?: string;
  metricsAddr?: string;
  /** Plain HTTP /metrics for anyone; by default HTTPS, and only for callers the apiserver lets `get` /metrics. */
  insecureMetrics?: boolean;
  /** The HTTPS metrics server's certificate; default one made in memory at start. */
  metricsCertificate?: ServingCertificate;
  gracefulShutdownTimeoutMs?: number;
  cacheSyncTimeoutMs?: number;
  /** Periodic resync of every informer (controller-runtime's SyncPeriod). */
  syncPeriodMs?: number;
  /** Per controller name; falls back to defaultConcurrency, then 1. */
  concurrency?: Record<string, number>;
  defaultConcurrency?: number;
  /** Informer tuning (staleness, backoff) for all kinds. */
  informerDefaults?: Pick<InformerOptions, 'staleAfterMs' | 'backoff' | 'minWatchTimeoutSeconds' | 'pageSize'>;
  eventComponent?: string;
}

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

/** Why the manager stopped: asked to (a signal, `stop()`), or the lease was lost. */
export type ManagerExit = 'stopped' | 'leadership-lost';

export class Manager implements BuilderHost {
  readonly client: KubeClient;
  readonly logger: Logger;
  readonly metrics: RuntimeMetrics;
  readonly watchFilter?: string;
  readonly identity: string;
  /** REST mapping by discovery, shared by every reader of run-time kinds. */
  readonly restMapper: RestMapper;
  /** get/create/patch/delete of objects whose kind is known only at run time. */
  readonly unstructured: UnstructuredClient;
  /** Bound addresses once started (undefined when disabled). */
  healthAddress?: string;
  metricsAddress?: string;
  private readonly informers = new Map<string, Informer>();
  private readonly controllers: Controller[] = [];
  private readonly endpoints: HttpEndpoints[] = [];
  private elector?: LeaderElector;
  private eventRecorder?: KubeEventRecorder;
  private state: State = 'new';
  // Leadership changes arrive as callbacks; starting and stopping controllers is serialised here.
  private transitions: Promise<void> = Promise.resolve();
  private controllersRunning = false;
  private stopped?: Promise<void>;
  private exit: ManagerExit = 'stopped';
  private resolveDone!: (exit: ManagerExit) => void;
  /** Resolves once the manager has stopped, with the reason. */
  readonly done = new Promise<ManagerExit>((resolve) => (this.resolveDone = resolve));

  constructor(private readonly options: ManagerOptions) {
    this.client = options.client;
    this.logger = options.logger ?? silentLogger();
    this.metrics = options.metrics ?? new RuntimeMetrics();
    this.watchFilter = options.watchFilter;
    this.identity = options.leaderElection?.identity ?? `${hostname()}_${randomUUID()}`;
    this.restMapper = new RestMapper(this.client);
    this.unstructured = new UnstructuredClient(this.client, this.restMapper);
  }

  controller(name: string): ControllerBuilder {
    if (this.controllers.some((c) => c.name === name)) throw new Error(`controller ${name} already registered`);
    return new ControllerBuilder(this, name);
  }

  register(controller: Controller): void {
    this.controllers.push(controller);
    if (this.controllersRunning) controller.start();
  }

  concurrencyFor(controllerName: string): number {
    return this.options.concurrency?.[controllerName] ?? this.options.defaultConcurrency ?? 1;
  }

  /** The shared informer for a kind, created on first use (and started if the manager runs). */
  informer(kind: ResourceKind): Informer {
    const id = kindId(kind);
    let informer = this.informers.get(id);
    if (!informer) {
      informer = new Informer(this.client, {
        ...this.options.informerDefaults, kind, namespace: kind.namespaced ? this.options.namespace : undefined,
        resyncPeriodMs: this.options.syncPeriodMs, logger: this.logger,
      });
      this.informers.set(id, informer);
      if (this.state === 'starting' || this.state === 'running') informer.start();
    }
    return informer;
  }

  /** The shared informer for a kind known only at run time, mapped by discovery. */
  async informerFor(gvk: GroupVersionKind, signal?: AbortSignal): Promise<Informer> {
    const kind = await this.restMapper.kindFor(gvk, signal);
    return this.informer(kind);
  }

  recorder(): EventRecorder {
    this.eventRecorder ??= new KubeEventRecorder(this.client, this.options.eventComponent ?? 'talos-capi', {
      logger: this.logger, instance: this.identity,
    });
    return this.eventRecorder;
  }

  get isLeader(): boolean {
    return this.elector ? this.elector.isLeader : this.controllersRunning;
  }

  isReady(): boolean {
    return this.state === 'running' && [...this.informers.values()].every((i) => i.hasSynced());
  }

  /** Serves probes/metrics, syncs caches, then runs controllers (under leader election if configured). */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`manager already ${this.state}`);
    this.state = 'starting';
    // A replica is a backup (0) from its first /metrics answer, not only once its caches synced.
    if (this.options.leaderElection) this.metrics.leaderElectionMasterStatus.set({ name: this.options.leaderElection.id }, 0);
    await this.serveEndpoints();
    for (const informer of this.informers.values()) informer.start();
    const timeoutMs = this.options.cacheSyncTimeoutMs ?? 120_000;
    const unsynced = [];
    for (const informer of this.informers.values()) {
      if (!(await informer.waitForSync(timeoutMs))) unsynced.push(kindId(informer.kind));
    }
    if (unsynced.length) {
      await this.stop();
      throw new Error(`caches did not sync within ${timeoutMs} ms: ${unsynced.join(', ')}`);
    }
    this.state = 'running';
    this.logger.info({ informers: [...this.informers.keys()], controllers: this.controllers.map((c) => c.name) }, 'caches synced');
    const election = this.options.leaderElection;
    if (!election) {
      this.transition(true);
      return;
    }
    this.elector = new LeaderElector({
      store: kubeLeaseStore(this.client, election.namespace, election.id),
      namespace: election.namespace, name: election.id, identity: this.identity,
      leaseDurationMs: election.leaseDurationMs, renewDeadlineMs: election.renewDeadlineMs, retryPeriodMs: election.retryPeriodMs,
      logger: this.logger,
      onStartedLeading: () => this.transition(true),
      onStoppedLeading: () => this.loseLeadership(),
      onStatus: (leading) => this.metrics.leaderElectionMasterStatus.set({ name: election.id }, leading ? 1 : 0),
    });
    this.elector.run();
  }

  /** Graceful: stop taking work, let in-flight reconciles finish (bounded), release the lease, stop watching. */
  stop(): Promise<void> {
    this.stopped ??= this.shutdown(this.options.gracefulShutdownTimeoutMs ?? 30_000);
    return this.stopped;
  }

  /** The elector saw the lease go: abort every reconcile now (synchronously), then stop. */
  private loseLeadership(): void {
    if (this.stopped) return; // our own shutdown stepping down
    this.logger.error('leadership lost: aborting in-flight reconciles and stopping');
    for (const controller of this.controllers) controller.abortInFlight();
    this.exit = 'leadership-lost';
    this.stopped = this.shutdown(0);
  }

  /**
   * Stops on SIGTERM/SIGINT; a second signal exits at once. A lost lease exits 1 once the manager has
   * stopped, so that the replica restarts as a follower instead of running on without controllers.
   */
  handleSignals(exit: (code: number) => void = (code) => process.exit(code)): void {
    void this.done.then((reason) => {
      if (reason === 'leadership-lost') exit(1);
    });
    let received = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (received) return exit(1);
      received = true;
      this.logger.info({ signal }, 'shutting down');
      this.stop().then(() => exit(0), (error: unknown) => {
        this.logger.error({ err: error }, 'shutdown failed');
        exit(1);
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    this.state = 'stopping';
    this.transition(false, timeoutMs);
    await this.transitions;
    await this.elector?.stop({ release: true });
    await this.eventRecorder?.flush();
    await Promise.all([...this.informers.values()].map((informer) => informer.stop()));
    await Promise.all(this.endpoints.map((endpoint) => endpoint.close()));
    this.state = 'stopped';
    this.logger.info({ exit: this.exit }, 'manager stopped');
    this.resolveDone(this.exit);
  }

  private transition(run: boolean, timeoutMs = this.options.gracefulShutdownTimeoutMs ?? 30_000): void {
    this.transitions = this.transitions.then(async () => {
      if (run === this.controllersRunning) return;
      if (run && this.state !== 'running') return;
      this.controllersRunning = run;
      if (run) {
        for (const controller of this.controllers) controller.start();
      } else {
        await Promise.all(this.controllers.map((controller) => controller.stop(timeoutMs)));
      }
      this.logger.info({ controllers: this.controllers.length }, run ? 'controllers running' : 'controllers stopped');
    });
  }

  private async serveEndpoints(): Promise<void> {
    const health: Record<string, RouteHandler> = {
      '/healthz': async () => ({ status: 200, body: 'ok\n' }),
      '/readyz': async () => (this.isReady() ? { status: 200, body: 'ok\n' } : { status: 503, body: 'caches not synced\n' }),
    };
    const metrics: Record<string, RouteHandler> = {
      '/metrics': async () => ({ status: 200, body: await this.metrics.registry.metrics(), contentType: this.metrics.registry.contentType }),
    };
    const healthAddr = parseListenAddress(this.options.healthAddr ?? '');
    const metricsAddr = parseListenAddress(this.options.metricsAddr ?? '');
    const secure = !this.options.insecureMetrics;
    // One plain HTTP listener may serve both; HTTPS metrics never share the probes' port.
    const same = !secure && healthAddr && metricsAddr && healthAddr.port !== 0 && healthAddr.port === metricsAddr.port && healthAddr.host === metricsAddr.host;
    if (healthAddr) {
      const endpoint = new HttpEndpoints(same ? { ...health, ...metrics } : health);
      this.endpoints.push(endpoint);
      this.healthAddress = await endpoint.listen(healthAddr);
      if (same) this.metricsAddress = this.healthAddress;
      this.logger.info({ healthProbeAddress: this.healthAddress }, 'serving health probes');
    }
    if (metricsAddr && !same) {
      const endpoint = new HttpEndpoints(metrics, secure ? await this.secureMetrics() : {});
      this.endpoints.push(endpoint);
      this.metricsAddress = await endpoint.listen(metricsAddr);
    }
    if (this.metricsAddress) this.logger.info({ metricsAddress: this.metricsAddress, secure }, 'serving metrics');
  }

  private async secureMetrics(): Promise<EndpointOptions> {
    const authorizer = new MetricsAuthorizer(this.client);
    const tls = this.options.metricsCertificate ?? (await selfSignedCertificate('talos-capi-metrics'));
    return { tls, guard: (request) => authorizer.check(request) };
  }
}
