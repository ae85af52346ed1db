// Generic, lossless conversion between two versions of one kind.
//
// Each kind supplies two plain field mappings (a→b and b→a). Whatever the
// source holds that the mapping there-and-back does not reproduce is, by
// definition, what the target version cannot express; it travels in an
// annotation on the target object (Cluster API style) and is put back when
// the object is converted back. Computing the leftovers from the mappings,
// instead of listing them by hand, keeps the conversion lossless when a field
// is added to one version and forgotten in the mapping.
import { deepEqual, isObject as isJsonObject } from '../util/json';
import { type ObjectMeta, splitApiVersion, type TypedObject } from './meta';

export type JsonObject = Record<string, unknown>;

// Helpers for field mappings.

/** Sets `key` only when `value` is defined, so absent fields stay absent (not `undefined`). */
export function put(target: JsonObject, key: string, value: unknown): void {
  if (value !== undefined) target[key] = structuredClone(value);
}

/** An object built by `fill`, or undefined when `fill` put nothing in it. */
export function group(fill: (target: JsonObject) => void): JsonObject | undefined {
  const target: JsonObject = {};
  fill(target);
  return Object.keys(target).length > 0 ? target : undefined;
}

export function asObject(value: unknown): JsonObject {
  return isJsonObject(value) ? value : {};
}

/** The parts of `want` that `have` lacks (objects compared key by key, anything else as a whole). */
export function missingFrom(have: unknown, want: unknown): unknown {
  if (want === undefined) return undefined;
  if (!isJsonObject(want) || !isJsonObject(have)) return deepEqual(have, want) ? undefined : want;
  const missing: JsonObject = {};
  for (const [key, value] of Object.entries(want)) {
    const sub = missingFrom(have[key], value);
    if (sub !== undefined) missing[key] = sub;
  }
  return Object.keys(missing).length > 0 ? missing : undefined;
}

/** `target` with every key of `extra` it does not have added (recursively); `target` wins. */
export function fillMissing<T>(target: T, extra: unknown): T {
  if (!isJsonObject(target) || !isJsonObject(extra)) return target;
  const result: JsonObject = { ...target };
  for (const [key, value] of Object.entries(extra)) {
    result[key] = result[key] === undefined ? structuredClone(value) : fillMissing(result[key], value);
  }
  return result as T;
}

/** Key order of objects sorted, so equal data always serialises to the same annotation text. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isJsonObject(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  );
}

/** What the conversion-data annotation holds: fields of `apiVersion` that the other version cannot express. */
interface ConversionData {
  apiVersion: string;
  fields: JsonObject;
}

function readConversionData(meta: ObjectMeta, annotation: string): ConversionData | undefined {
  const text = meta.annotations?.[annotation];
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (!isJsonObject(parsed) || typeof parsed.apiVersion !== 'string') return undefined;
    const { apiVersion, ...fields } = parsed;
    return { apiVersion, fields };
  } catch {
    // A hand-edited annotation that is not JSON carries nothing we can restore.
    return undefined;
  }
}

function withAnnotation(meta: ObjectMeta, annotation: string, value: string | undefined): ObjectMeta {
  const annotations = { ...meta.annotations };
  if (value === undefined) delete annotations[annotation];
  else annotations[annotation] = value;
  const result: ObjectMeta = { ...meta, annotations };
  if (Object.keys(annotations).length === 0) delete result.annotations;
  return result;
}

/** The object minus apiVersion/kind/metadata: the part a field mapping deals with. */
function body(obj: TypedObject): JsonObject {
  const { apiVersion: _apiVersion, kind: _kind, metadata: _metadata, ...rest } = obj as TypedObject & JsonObject;
  return rest;
}

export type FieldMapping = (source: JsonObject) => JsonObject;

export interface VersionPair {
  group: string;
  kind: string;
  /** Name of the annotation that carries fields the other version lacks. */
  annotation: string;
  versions: readonly [string, string];
  /** Maps the body (spec, status, …) of versions[0] to versions[1], and back. */
  forward: FieldMapping;
  backward: FieldMapping;
}

export type Converter = (obj: TypedObject, desiredVersion: string) => TypedObject;

/** A converter for one kind served in two versions, lossless in both directions. */
export function versionPairConverter(pair: VersionPair): Converter {
  const [first, second] = pair.versions;
  return (obj, desiredVersion) => {
    const from = splitApiVersion(obj.apiVersion).version;
    if (from === desiredVersion) return obj;
    const direction =
      from === first && desiredVersion === second
        ? { there: pair.forward, back: pair.backward }
        : from === second && desiredVersion === first
          ? { there: pair.backward, back: pair.forward }
          : undefined;
    if (!direction) {
      throw new Error(`cannot convert ${pair.kind} from ${obj.apiVersion} to ${desiredVersion}: served versions are ${first} and ${second}`);
    }
    const targetApiVersion = `${pair.group}/${desiredVersion}`;
    const stored = readConversionData(obj.metadata, pair.annotation);
    const restoring = stored?.apiVersion === targetApiVersion;
    const metadata = restoring ? withAnnotation(obj.metadata, pair.annotation, undefined) : obj.metadata;

    const sourceBody = body(obj);
    let converted = direction.there(sourceBody);
    const lost = missingFrom(direction.back(converted), sourceBody);
    if (restoring) converted = fillMissing(converted, stored.fields);
    const annotated =
      lost === undefined ? metadata : withAnnotation(metadata, pair.annotation, canonicalJson({ apiVersion: obj.apiVersion, ...(lost as JsonObject) }));
    return { apiVersion: targetApiVersion, kind: obj.kind, metadata: annotated, ...converted } as TypedObject;
  };
}
