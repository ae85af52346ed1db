// Event filters for watches, including the Cluster API conventions (paused, watch-filter label).
import type { KubeObject } from '../meta/object';

export interface Predicate<T extends KubeObject = KubeObject> {
  create?(obj: T): boolean;
  update?(oldObj: T, newObj: T): boolean;
  delete?(obj: T): boolean;
}

export type EventKind = 'create' | 'update' | 'delete';

export const PAUSED_ANNOTATION = 'cluster.x-k8s.io/paused';
export const WATCH_FILTER_LABEL = 'cluster.x-k8s.io/watch-filter';

/** True if every predicate lets the event through (a predicate without a method for the event passes). */
export function allow<T extends KubeObject>(predicates: readonly Predicate<T>[], event: EventKind, obj: T, oldObj?: T): boolean {
  return predicates.every((p) => {
    if (event === 'create') return p.create?.(obj) ?? true;
    if (event === 'delete') return p.delete?.(obj) ?? true;
    return p.update?.(oldObj ?? obj, obj) ?? true;
  });
}

/** Same test for every event type, judged on the newest object. */
export function fromFilter<T extends KubeObject>(test: (obj: T) => boolean): Predicate<T> {
  return { create: test, update: (_old, obj) => test(obj), delete: test };
}

/** True if `value` is empty (no filter) or the object is labelled cluster.x-k8s.io/watch-filter=<value>. */
export function passesWatchFilter(obj: KubeObject, value: string | undefined): boolean {
  return !value || obj.metadata.labels?.[WATCH_FILTER_LABEL] === value;
}

/**
 * CAPI's ResourceHasFilterLabel: with a non-empty --watch-filter value, only objects labelled
 * cluster.x-k8s.io/watch-filter=<value> pass; an empty value lets everything through.
 */
export function hasWatchFilterLabel<T extends KubeObject>(value: string | undefined): Predicate<T> {
  if (!value) return {};
  return fromFilter((obj) => passesWatchFilter(obj, value));
}
