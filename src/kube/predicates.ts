// Event filters for watches, including the Cluster API conventions (paused, watch-filter label).
import type { KubeObject } from './object';

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

export function and<T extends KubeObject>(...predicates: Predicate<T>[]): Predicate<T> {
  return {
    create: (obj) => allow(predicates, 'create', obj),
    update: (oldObj, obj) => allow(predicates, 'update', obj, oldObj),
    delete: (obj) => allow(predicates, 'delete', obj),
  };
}

export function or<T extends KubeObject>(...predicates: Predicate<T>[]): Predicate<T> {
  return {
    create: (obj) => predicates.some((p) => allow([p], 'create', obj)),
    update: (oldObj, obj) => predicates.some((p) => allow([p], 'update', obj, oldObj)),
    delete: (obj) => predicates.some((p) => allow([p], 'delete', obj)),
  };
}

export function isPaused(obj: KubeObject): boolean {
  return obj.metadata.annotations?.[PAUSED_ANNOTATION] !== undefined;
}

/** CAPI's ResourceNotPaused: drop events of objects carrying the paused annotation. */
export function resourceNotPaused<T extends KubeObject>(): Predicate<T> {
  return fromFilter((obj) => !isPaused(obj));
}

/**
 * CAPI's ResourceHasFilterLabel: with a non-empty --watch-filter value, only objects labelled
 * cluster.x-k8s.io/watch-filter=<value> pass; an empty value lets everything through.
 */
export function hasWatchFilterLabel<T extends KubeObject>(value: string | undefined): Predicate<T> {
  if (!value) return {};
  return fromFilter((obj) => obj.metadata.labels?.[WATCH_FILTER_LABEL] === value);
}

/** Updates pass only when metadata.generation changed (i.e. spec, not status/metadata-only). */
export function generationChanged<T extends KubeObject>(): Predicate<T> {
  return { update: (oldObj, obj) => oldObj.metadata.generation !== obj.metadata.generation };
}

export function labelsChanged<T extends KubeObject>(): Predicate<T> {
  return { update: (oldObj, obj) => !sameRecord(oldObj.metadata.labels, obj.metadata.labels) };
}

export function annotationsChanged<T extends KubeObject>(): Predicate<T> {
  return { update: (oldObj, obj) => !sameRecord(oldObj.metadata.annotations, obj.metadata.annotations) };
}

/** Drops the no-op updates that periodic resyncs deliver. */
export function resourceVersionChanged<T extends KubeObject>(): Predicate<T> {
  return { update: (oldObj, obj) => oldObj.metadata.resourceVersion !== obj.metadata.resourceVersion };
}

function clusterSpecPaused(obj: KubeObject): boolean {
  const spec = (obj as { spec?: { paused?: unknown } }).spec;
  return spec?.paused === true;
}

/** For Cluster watches: creates of unpaused Clusters, and updates where spec.paused flipped. */
export function clusterPausedTransitions<T extends KubeObject>(): Predicate<T> {
  return {
    create: (obj) => !clusterSpecPaused(obj),
    update: (oldObj, obj) => clusterSpecPaused(oldObj) !== clusterSpecPaused(obj),
    delete: () => false,
  };
}

/** For Cluster watches: only Clusters whose spec.paused is not true. */
export function clusterUnpaused<T extends KubeObject>(): Predicate<T> {
  return fromFilter((obj) => !clusterSpecPaused(obj));
}

function sameRecord(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const aKeys = Object.keys(a ?? {});
  return aKeys.length === Object.keys(b ?? {}).length && aKeys.every((k) => a?.[k] === b?.[k]);
}
