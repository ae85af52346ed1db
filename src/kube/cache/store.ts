// An object store keyed by "ns/name" with secondary indexes (namespace, owner UID, label pairs,
// and any custom index function). Objects are deep-frozen on the way in: every reader shares them,
// so a write throws (TypeError) instead of corrupting the cache. Copy (deepCopy) to change one.
// Freezing costs about what JSON.parse of the object did (~50 µs for a 1.6 KB Machine).
import { deepFreeze } from '../../util/json';
import { type KubeObject, cacheKeyOf } from '../meta/object';

export type IndexFunc = (obj: KubeObject) => string[];

export const NAMESPACE_INDEX = 'namespace';
export const OWNER_UID_INDEX = 'ownerUid';
export const LABEL_INDEX = 'label';

export const builtInIndexes: Record<string, IndexFunc> = {
  [NAMESPACE_INDEX]: (obj) => [obj.metadata.namespace ?? ''],
  [OWNER_UID_INDEX]: (obj) => (obj.metadata.ownerReferences ?? []).map((ref) => ref.uid),
  [LABEL_INDEX]: (obj) => Object.entries(obj.metadata.labels ?? {}).map(([k, v]) => labelIndexValue(k, v)),
};

export function labelIndexValue(key: string, value: string): string {
  return `${key}=${value}`;
}

export interface StoreQuery {
  namespace?: string;
  /** All pairs must match (equality selector). */
  labels?: Record<string, string>;
  ownerUid?: string;
}

export class IndexedStore<T extends KubeObject = KubeObject> {
  private readonly objects = new Map<string, T>();
  // index name → index value → object keys
  private readonly indexes = new Map<string, Map<string, Set<string>>>();
  private readonly indexFuncs = new Map<string, IndexFunc>();

  constructor(indexFuncs: Record<string, IndexFunc> = builtInIndexes) {
    for (const [name, fn] of Object.entries(indexFuncs)) this.addIndex(name, fn);
  }

  addIndex(name: string, fn: IndexFunc): void {
    if (this.indexFuncs.has(name)) throw new Error(`index ${name} already exists`);
    this.indexFuncs.set(name, fn);
    const index = new Map<string, Set<string>>();
    this.indexes.set(name, index);
    for (const [key, obj] of this.objects) this.indexObject(index, fn, key, obj);
  }

  get size(): number {
    return this.objects.size;
  }

  get(key: string): T | undefined {
    return this.objects.get(key);
  }

  keys(): string[] {
    return [...this.objects.keys()];
  }

  all(): T[] {
    return [...this.objects.values()];
  }

  /** Inserts or replaces; returns the previous object. */
  upsert(obj: T): T | undefined {
    const key = cacheKeyOf(obj);
    const previous = this.objects.get(key);
    if (previous) this.unindex(key, previous);
    this.objects.set(key, deepFreeze(obj));
    for (const [name, fn] of this.indexFuncs) this.indexObject(this.indexes.get(name)!, fn, key, obj);
    return previous;
  }

  remove(key: string): T | undefined {
    const previous = this.objects.get(key);
    if (!previous) return undefined;
    this.unindex(key, previous);
    this.objects.delete(key);
    return previous;
  }

  byIndex(indexName: string, value: string): T[] {
    const index = this.indexes.get(indexName);
    if (!index) throw new Error(`no index ${indexName}`);
    return [...(index.get(value) ?? [])].map((key) => this.objects.get(key)!);
  }

  /** Uses the narrowest index available, then filters by the rest of the query. */
  query(query: StoreQuery = {}): T[] {
    let candidates: T[];
    const labelPairs = Object.entries(query.labels ?? {});
    if (query.ownerUid !== undefined) candidates = this.byIndex(OWNER_UID_INDEX, query.ownerUid);
    else if (labelPairs.length) candidates = this.byIndex(LABEL_INDEX, labelIndexValue(...labelPairs[0]!));
    else if (query.namespace !== undefined) candidates = this.byIndex(NAMESPACE_INDEX, query.namespace);
    else candidates = this.all();
    return candidates.filter(
      (obj) =>
        (query.namespace === undefined || (obj.metadata.namespace ?? '') === query.namespace) &&
        labelPairs.every(([k, v]) => obj.metadata.labels?.[k] === v) &&
        (query.ownerUid === undefined || (obj.metadata.ownerReferences ?? []).some((r) => r.uid === query.ownerUid)),
    );
  }

  private indexObject(index: Map<string, Set<string>>, fn: IndexFunc, key: string, obj: T): void {
    for (const value of fn(obj)) {
      let keys = index.get(value);
      if (!keys) index.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  private unindex(key: string, obj: T): void {
    for (const [name, fn] of this.indexFuncs) {
      const index = this.indexes.get(name)!;
      for (const value of fn(obj)) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys && keys.size === 0) index.delete(value);
      }
    }
  }
}
