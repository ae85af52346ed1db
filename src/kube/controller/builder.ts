// controller-runtime style builder: for(primary), owns(child), watches(other, map, predicates).
import { Controller, type EventSource } from './controller';
import type { Informer } from '../cache/informer';
import type { ItemBackoffOptions } from '../queue/item-backoff';
import type { Logger } from '../log/logger';
import type { RuntimeMetrics } from '../http/metrics';
import { type KubeObject, type ObjectKey, objectKey } from '../meta/object';
import { ownerKeys } from '../meta/owners';
import { type Predicate, hasWatchFilterLabel, passesWatchFilter } from './predicates';
import type { Reconciler } from './reconciler';
import type { ResourceKind } from '../client/resource';

/** What a builder needs from the manager. */
export interface BuilderHost {
  informer(kind: ResourceKind): Informer;
  register(controller: Controller): void;
  logger: Logger;
  metrics?: RuntimeMetrics;
  /** --watch-filter value; applied to every source like CAPI's ResourceHasFilterLabel event filter. */
  watchFilter?: string;
  concurrencyFor(controllerName: string): number;
}

/**
 * With a watch filter, a key that another kind maps to is kept only if the primary it names is not
 * cached with another (or no) filter label: a labelled Machine or Cluster does not make this
 * instance reconcile a primary that belongs to another shard.
 */
function primaryInShard(primaries: Pick<Informer, 'get'>, watchFilter: string | undefined): (key: ObjectKey) => boolean {
  return (key) => {
    const primary = primaries.get(key.namespace, key.name);
    return !primary || passesWatchFilter(primary, watchFilter);
  };
}

export interface WatchOptions<T extends KubeObject = KubeObject> {
  predicates?: Predicate<T>[];
}

export class ControllerBuilder {
  private primary?: ResourceKind;
  private readonly sources: Array<{ kind: ResourceKind; map: (obj: KubeObject) => ObjectKey[]; predicates: Predicate[]; primary?: true }> = [];
  private readonly eventFilters: Predicate[] = [];
  private concurrency?: number;
  private backoff?: ItemBackoffOptions;

  constructor(private readonly host: BuilderHost, private readonly name: string) {}

  for<T extends KubeObject>(kind: ResourceKind, options: WatchOptions<T> = {}): this {
    if (this.primary) throw new Error(`controller ${this.name}: for() called twice`);
    this.primary = kind;
    this.sources.push({ kind, map: (obj) => [objectKey(obj)], predicates: (options.predicates ?? []) as Predicate[], primary: true });
    return this;
  }

  /** Reconcile the controlling owner (of the primary kind) when a child changes. */
  owns<T extends KubeObject>(kind: ResourceKind, options: WatchOptions<T> & { onlyController?: boolean } = {}): this {
    const primary = this.requirePrimary('owns');
    const onlyController = options.onlyController ?? true;
    this.sources.push({ kind, map: (obj) => ownerKeys(obj, primary, onlyController), predicates: (options.predicates ?? []) as Predicate[] });
    return this;
  }

  watches<T extends KubeObject>(kind: ResourceKind, map: (obj: T) => ObjectKey[], options: WatchOptions<T> = {}): this {
    this.sources.push({ kind, map: map as (obj: KubeObject) => ObjectKey[], predicates: (options.predicates ?? []) as Predicate[] });
    return this;
  }

  /** Predicates applied to every source (controller-runtime's WithEventFilter). */
  withEventFilter<T extends KubeObject>(...predicates: Predicate<T>[]): this {
    this.eventFilters.push(...(predicates as Predicate[]));
    return this;
  }

  withConcurrency(maxConcurrentReconciles: number): this {
    this.concurrency = maxConcurrentReconciles;
    return this;
  }

  withBackoff(backoff: ItemBackoffOptions): this {
    this.backoff = backoff;
    return this;
  }

  complete(reconciler: Reconciler): Controller {
    const primary = this.requirePrimary('complete');
    const filters = [hasWatchFilterLabel(this.host.watchFilter), ...this.eventFilters];
    const informers = this.sources.map((source) => this.host.informer(source.kind));
    const inShard = primaryInShard(informers[this.sources.findIndex((source) => source.primary)]!, this.host.watchFilter);
    const sources: EventSource[] = this.sources.map((source, i) => ({
      informer: informers[i]!,
      map: source.primary ? source.map : (obj) => source.map(obj).filter(inShard),
      predicates: [...filters, ...source.predicates],
    }));
    const controller = new Controller({
      name: this.name, primary, sources, reconciler, backoff: this.backoff,
      maxConcurrentReconciles: this.concurrency ?? this.host.concurrencyFor(this.name),
      logger: this.host.logger, metrics: this.host.metrics,
    });
    this.host.register(controller);
    return controller;
  }

  private requirePrimary(step: string): ResourceKind {
    if (!this.primary) throw new Error(`controller ${this.name}: call for() before ${step}()`);
    return this.primary;
  }
}
