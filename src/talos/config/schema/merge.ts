// Talos's strategic merge of one document into another, on decoded values (see model.ts):
//   - scalars: the patch wins unless its value is zero ("" / 0); a bool always wins, so a
//     struct touched by a patch gets its plain-bool fields from the patch (false if absent);
//   - pointers: nil in the patch keeps the original, else merge what they point to;
//   - lists: the patch's items are appended, unless the field is tagged merge:"replace";
//   - maps: merged key by key; structs: field by field;
//   - some Talos types merge their own way: network interfaces by name or selector, VLANs by
//     id, admission plugins by name, extra args by key, and a few value types by replacement.

import { deepClone, isYamlMap, type YamlMap, type YamlValue } from '../yaml/values';
import { goType, structLayout } from './model';
import type { GoTypeSpec } from './types';

export class MergeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MergeError';
  }
}

type Value = YamlValue | undefined;

/** Go's dynamic type name of a value held in an `any`, for mismatch messages. */
function dynamicType(value: YamlValue): string {
  if (Array.isArray(value)) return '[]interface {}';
  if (isYamlMap(value)) return 'map[string]interface {}';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float64';
  return typeof value;
}

function isZeroScalar(value: Value, spec: GoTypeSpec): boolean {
  if (value === undefined || value === null) return true;
  if (spec.k === 'duration') return value === '0s';
  return value === '' || value === 0 || value === false;
}

/** Go's reflect.Value.IsZero on a decoded struct: every field zero, nil slices/maps only. */
function isZeroStruct(value: Value, typeName: string): boolean {
  if (!isYamlMap(value)) return true;
  const layout = structLayout(typeName);
  return Object.entries(value).every(([key, v]) => {
    const field = layout.byName.get(key);
    if (!field) return false;
    const spec = goType(field.type);
    if (spec.k === 'struct' && !spec.c) return isZeroStruct(v, field.type);
    if (spec.k === 'ptr' || spec.k === 'slice' || spec.k === 'map' || spec.k === 'any' || spec.k === 'bytes' || spec.c) {
      return v === undefined || v === null;
    }
    return isZeroScalar(v, spec);
  });
}

/** Merge of two values held in Go `any`s (inside unstructured maps and lists). */
function mergeDynamic(left: YamlValue, right: YamlValue, overwrite: boolean): YamlValue {
  if (left === null) return deepClone(right);
  if (right === null) return left;
  if (dynamicType(left) !== dynamicType(right)) {
    throw new MergeError(`merge type mismatch left ${dynamicType(left)} right ${dynamicType(right)}`);
  }
  if (Array.isArray(left)) return [...left, ...deepClone(right as YamlValue[])];
  if (isYamlMap(left)) return mergeDynamicMap(left, right as YamlMap);
  if (typeof right === 'boolean' || overwrite) return right;
  return right === '' || right === 0 ? left : right;
}

function mergeDynamicMap(left: YamlMap, right: YamlMap): YamlMap {
  const out: YamlMap = { ...left };
  for (const [key, value] of Object.entries(right)) {
    const existing = out[key];
    out[key] = existing === undefined || existing === null ? deepClone(value) : mergeDynamic(existing, value, false);
  }
  return out;
}

/** Lists merged by an identifying field: matching items merge, others are appended. */
function mergeKeyedList(
  left: Value,
  right: YamlValue[],
  elemType: string,
  matches: (a: YamlMap, b: YamlMap) => boolean,
  replaceMatched = false,
): YamlValue[] {
  const out = Array.isArray(left) ? [...left] : [];
  for (const item of right) {
    const index = out.findIndex((existing) => isYamlMap(existing) && isYamlMap(item) && matches(existing, item));
    if (index < 0) out.push(deepClone(item));
    else out[index] = replaceMatched ? deepClone(item) : (mergeValue(out[index], item, elemType, false, false) ?? null);
  }
  return out;
}

/** Equality of two device selectors as Go compares the structs (a pointer field never matches). */
function sameDeviceSelector(a: Value, b: Value): boolean {
  if (!isYamlMap(a) || !isYamlMap(b) || 'physical' in a || 'physical' in b) return false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => (a[key] ?? '') === (b[key] ?? ''));
}

function mergeCustom(typeName: string, spec: GoTypeSpec, left: Value, right: Value): Value {
  const elem = spec.e ?? '';
  const items = Array.isArray(right) ? right : [];
  switch (typeName) {
    case 'meta.Args':
      if (!isYamlMap(right) || Object.keys(right).length === 0) return left;
      return { ...(isYamlMap(left) ? left : {}), ...deepClone(right) };
    case 'v1alpha1.NetworkDeviceList':
      return right === undefined ? left : mergeKeyedList(left, items, elem, (a, b) =>
        b.interface ? a.interface === b.interface : b.deviceSelector !== undefined && sameDeviceSelector(a.deviceSelector, b.deviceSelector),
      );
    case 'v1alpha1.VlanList':
      return right === undefined ? left : mergeKeyedList(left, items, elem, (a, b) => (a.vlanId ?? 0) === (b.vlanId ?? 0));
    case 'v1alpha1.AdmissionPluginConfigList':
      return right === undefined ? left : mergeKeyedList(left, items, elem, (a, b) => (a.name ?? '') === (b.name ?? ''));
    case 'extensions.ConfigFileList':
      return right === undefined ? left : mergeKeyedList(left, items, elem, (a, b) => (a.mountPath ?? '') === (b.mountPath ?? ''));
    case 'security.ImageVerificationRules':
      return right === undefined
        ? left
        : mergeKeyedList(left, items, elem, (a, b) => (a.imagePattern ?? '') === (b.imagePattern ?? ''), true);
    default:
      // Value types (sizes, prefixes, addresses, expressions) are replaced unless the patch's is empty.
      return right === undefined || right === null || right === '' ? left : deepClone(right);
  }
}

function mergeStruct(left: Value, right: Value, typeName: string): YamlMap {
  const layout = structLayout(typeName);
  const out: YamlMap = isYamlMap(left) ? { ...left } : {};
  const patch = isYamlMap(right) ? right : {};
  for (const field of layout.fields) {
    const merged = mergeValue(out[field.name], patch[field.name], field.type, field.replace, false);
    if (merged === undefined) delete out[field.name];
    else out[field.name] = merged;
  }
  if (layout.inlineMapElem !== undefined) {
    const extraRight: YamlMap = {};
    for (const [key, value] of Object.entries(patch)) if (!layout.byName.has(key)) extraRight[key] = value;
    Object.assign(out, mergeDynamicMap(out, extraRight));
  }
  return out;
}

function mergeMap(left: Value, right: YamlMap, elemType: string): YamlMap {
  const out: YamlMap = isYamlMap(left) ? { ...left } : {};
  const elem = goType(elemType);
  for (const [key, value] of Object.entries(right)) {
    const existing = out[key];
    const present = existing !== undefined && (existing !== null || !['ptr', 'any', 'slice', 'map'].includes(elem.k));
    if (!present) out[key] = deepClone(value);
    else if (elem.k === 'any') out[key] = mergeDynamic(existing, value, false);
    else out[key] = mergeValue(existing, value, elemType, false, false) ?? null;
  }
  return out;
}

/**
 * Merges decoded `right` into decoded `left` (both of Go type `typeName`) and returns the result.
 * `replace` is the field's merge:"replace" tag; `overwrite` is set under a pointer, where even
 * a zero scalar from the patch wins.
 */
export function mergeValue(left: Value, right: Value, typeName: string, replace: boolean, overwrite: boolean): Value {
  const spec = goType(typeName);
  if (spec.m || spec.c) return mergeCustom(typeName, spec, left, right);
  switch (spec.k) {
    case 'ptr':
      if (right === undefined || right === null) return left;
      if (left === undefined || left === null) return deepClone(right);
      return mergeValue(left, right, spec.e ?? '', replace, true);
    case 'any':
      if (right === undefined || right === null) return left;
      if (left === undefined || left === null) return deepClone(right);
      return mergeDynamic(left, right, true);
    case 'slice':
      if (right === undefined || right === null) return left;
      if (replace) return deepClone(right);
      return [...(Array.isArray(left) ? left : []), ...deepClone(right as YamlValue[])];
    case 'bytes':
      return right === undefined || right === null ? left : right;
    case 'map':
      if (right === undefined || right === null) return left;
      if (replace) return deepClone(right);
      return mergeMap(left, right as YamlMap, spec.e ?? '');
    case 'struct':
      if (replace) return right === undefined || isZeroStruct(right, typeName) ? left : deepClone(right);
      return mergeStruct(left, right, typeName);
    case 'bool':
      return right ?? false;
    default:
      return isZeroScalar(right, spec) && !overwrite ? left : (right ?? left);
  }
}

/** Merges a decoded patch document into a decoded document of the same kind. */
export function mergeDocument(left: YamlMap, right: YamlMap, typeName: string): YamlMap {
  return mergeValue(left, right, typeName, false, false) as YamlMap;
}

