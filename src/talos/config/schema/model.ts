// Typed view of configuration documents, driven by the table of Talos's Go types.
//
// Two forms of the same data:
//   - a *decoded* value mirrors the Go value after Talos's strict decoding: absent keys stand
//     for nil (pointers, slices, maps, interfaces) or the zero value (everything else), and
//     only known fields are allowed. Merging works on this form, like Talos merges Go values.
//   - an *encoded* value is what go-yaml writes for that Go value: fields in declaration order,
//     `omitempty` fields left out when empty, other nil fields written as null / [] / {},
//     map keys in go-yaml's order. This is our canonical document form.

import { compareGoKeys } from '../yaml/key-order';
import { deepClone, describeType, isYamlMap, type YamlMap, type YamlValue } from '../yaml/values';
import { CUSTOM_CODECS } from './custom-values';
import { formatGoDuration, parseGoDuration } from './duration';
import { GO_TYPES } from './talos-types.generated';
import { parseField, type FieldInfo, type GoTypeSpec } from './types';

/** A document does not fit its Go type (unknown key, wrong type); `path` is dotted YAML path. */
export class ConfigShapeError extends Error {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(path === '' ? detail : `${path}: ${detail}`);
    this.name = 'ConfigShapeError';
  }
}

export function goType(name: string): GoTypeSpec {
  const spec = GO_TYPES[name];
  if (!spec) throw new Error(`internal: Go type ${name} is missing from the generated table`);
  return spec;
}

export interface StructLayout {
  /** Fields with inline structs flattened, in encoding order. */
  fields: FieldInfo[];
  byName: Map<string, FieldInfo>;
  /** Element type of an inline map that takes every other key (meta.Unstructured). */
  inlineMapElem?: string;
}

const layouts = new Map<string, StructLayout>();

export function structLayout(typeName: string): StructLayout {
  const cached = layouts.get(typeName);
  if (cached) return cached;
  const layout: StructLayout = { fields: [], byName: new Map() };
  for (const field of (goType(typeName).f ?? []).map(parseField)) {
    if (!field.inline) {
      layout.fields.push(field);
      layout.byName.set(field.name, field);
      continue;
    }
    const inner = goType(field.type);
    if (inner.k === 'map') {
      layout.inlineMapElem = inner.e;
    } else {
      const nested = structLayout(field.type);
      for (const f of nested.fields) {
        layout.fields.push(f);
        layout.byName.set(f.name, f);
      }
      if (nested.inlineMapElem) layout.inlineMapElem = nested.inlineMapElem;
    }
  }
  layouts.set(typeName, layout);
  return layout;
}

const PEM_TYPES = new Set(['x509.PEMEncodedCertificateAndKey', 'x509.PEMEncodedCertificate', 'x509.PEMEncodedKey']);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const OLD_BOOL_WORDS: Record<string, boolean> = {
  y: true, Y: true, yes: true, Yes: true, YES: true, on: true, On: true, ON: true,
  n: false, N: false, no: false, No: false, NO: false, off: false, Off: false, OFF: false,
};

const join = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);

function fail(path: string, value: YamlValue | undefined, target: string): never {
  throw new ConfigShapeError(path, `cannot use ${describeType(value)} ${preview(value)}as ${target}`);
}

function preview(value: YamlValue | undefined): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? `${JSON.stringify(value)} `
    : '';
}

/** The value of a Go `any` after go-yaml decoding; maps inside are Go maps. */
function decodeAny(value: YamlValue): YamlValue {
  return deepClone(value);
}

function decodeScalar(value: YamlValue | undefined, spec: GoTypeSpec, path: string, typeName: string): YamlValue {
  switch (spec.k) {
    case 'string':
      if (value === undefined || value === null) return '';
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      return fail(path, value, 'a string');
    case 'bool':
      if (value === undefined || value === null) return false;
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string' && value in OLD_BOOL_WORDS) return OLD_BOOL_WORDS[value] ?? false;
      return fail(path, value, 'a bool');
    case 'int':
    case 'uint':
      if (value === undefined || value === null) return 0;
      if (typeof value === 'number' && Number.isInteger(value) && (spec.k === 'int' || value >= 0)) return value;
      return fail(path, value, spec.k === 'int' ? 'an integer' : 'an unsigned integer');
    case 'float':
      if (value === undefined || value === null) return 0;
      if (typeof value === 'number') return value;
      return fail(path, value, 'a number');
    case 'duration':
      if (value === undefined || value === null) return '0s';
      if (typeof value === 'number' && Number.isInteger(value)) return formatGoDuration(BigInt(value));
      if (typeof value === 'string') {
        try {
          return formatGoDuration(parseGoDuration(value));
        } catch {
          return fail(path, value, 'a duration');
        }
      }
      return fail(path, value, 'a duration');
    default:
      throw new Error(`internal: ${typeName} is not a scalar`);
  }
}

function decodePem(value: YamlValue, typeName: string, path: string): YamlMap {
  if (!isYamlMap(value)) return fail(path, value, 'a certificate/key mapping');
  const keys = typeName === 'x509.PEMEncodedCertificate' ? ['crt'] : typeName === 'x509.PEMEncodedKey' ? ['key'] : ['crt', 'key'];
  const out: YamlMap = {};
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) throw new ConfigShapeError(join(path, key), 'unknown key');
  }
  for (const key of keys) {
    const text = value[key] ?? '';
    if (typeof text !== 'string') return fail(join(path, key), text, 'a base64 string');
    // The Talos key redaction marker is kept as it is; anything else must be base64.
    if (text !== '******' && !BASE64.test(text)) throw new ConfigShapeError(join(path, key), 'illegal base64 data');
    out[key] = text;
  }
  return out;
}

/**
 * Strictly decodes `value` as Go type `typeName`. Returns undefined for nil. Unknown keys and
 * values of the wrong type throw ConfigShapeError, as Talos's loader refuses them.
 */
export function decodeValue(value: YamlValue | undefined, typeName: string, path = ''): YamlValue | undefined {
  const spec = goType(typeName);
  if (PEM_TYPES.has(typeName)) return value === undefined || value === null ? undefined : decodePem(value, typeName, path);
  if (spec.c) return value === undefined || value === null ? undefined : decodeCustom(value, typeName, path);
  switch (spec.k) {
    case 'ptr':
      return value === undefined || value === null ? undefined : decodeValue(value, spec.e ?? '', path) ?? null;
    case 'any':
      return value === undefined || value === null ? undefined : decodeAny(value);
    case 'bytes':
      if (value === undefined || value === null) return undefined;
      return typeof value === 'string' ? value : fail(path, value, 'a string');
    case 'slice': {
      if (value === undefined || value === null) return undefined;
      if (!Array.isArray(value)) return fail(path, value, 'a sequence');
      const elem = spec.e ?? '';
      return value.map((item, i) => decodeElement(item, elem, `${path}[${i}]`));
    }
    case 'map': {
      if (value === undefined || value === null) return undefined;
      if (!isYamlMap(value)) return fail(path, value, 'a mapping');
      const elem = spec.e ?? '';
      const out: YamlMap = {};
      for (const [key, item] of Object.entries(value)) out[key] = decodeElement(item, elem, join(path, key));
      return out;
    }
    case 'struct':
      return decodeStruct(value, typeName, path);
    default:
      return decodeScalar(value, spec, path, typeName);
  }
}

function decodeCustom(value: YamlValue, typeName: string, path: string): YamlValue {
  const codec = CUSTOM_CODECS[typeName];
  if (!codec) return deepClone(value);
  try {
    return codec.decode(value);
  } catch (err) {
    throw new ConfigShapeError(path, (err as Error).message);
  }
}

/** Elements of lists and maps: a null element of pointers is refused (Talos does too). */
function decodeElement(item: YamlValue, elemType: string, path: string): YamlValue {
  const elem = goType(elemType);
  if (item === null) {
    if (elem.k === 'ptr') throw new ConfigShapeError(path, 'null element is not allowed');
    if (elem.k === 'any') return null;
  }
  const decoded = decodeValue(item, elemType, path);
  return decoded === undefined ? encodeNil(elemType) : decoded;
}

function decodeStruct(value: YamlValue | undefined, typeName: string, path: string): YamlMap {
  if (value === undefined || value === null) return {};
  if (!isYamlMap(value)) return fail(path, value, 'a mapping');
  const layout = structLayout(typeName);
  const out: YamlMap = {};
  const unknown: string[] = [];
  for (const [key, item] of Object.entries(value)) {
    const field = layout.byName.get(key);
    if (field) {
      const decoded = decodeValue(item, field.type, join(path, key));
      if (decoded !== undefined) out[key] = decoded;
    } else if (layout.inlineMapElem !== undefined) {
      out[key] = decodeElement(item, layout.inlineMapElem, join(path, key));
    } else {
      unknown.push(join(path, key));
    }
  }
  if (unknown.length > 0) {
    throw new ConfigShapeError('', `unknown keys found during decoding: ${unknown.join(', ')}`);
  }
  return out;
}

/** How go-yaml writes a nil/zero value of this type when the field has no omitempty. */
export function encodeNil(typeName: string): YamlValue {
  const spec = goType(typeName);
  if (PEM_TYPES.has(typeName)) return encodeValue(decodePem({}, typeName, ''), typeName);
  if (spec.c) return '';
  switch (spec.k) {
    case 'ptr':
    case 'any':
      return null;
    case 'slice':
      return [];
    case 'map':
      return {};
    case 'bytes':
      return '';
    case 'struct':
      return encodeValue({}, typeName);
    default:
      return decodeScalar(undefined, spec, '', typeName);
  }
}

/** Go-yaml's omitempty test. */
export function isEmptyValue(decoded: YamlValue | undefined, typeName: string): boolean {
  if (decoded === undefined || decoded === null) return true;
  const spec = goType(typeName);
  if (PEM_TYPES.has(typeName)) return Object.values(decoded as YamlMap).every((v) => v === '');
  if (spec.c) return decoded === '' || decoded === 0;
  switch (spec.k) {
    case 'ptr':
    case 'any':
      return false;
    case 'slice':
      return Array.isArray(decoded) && decoded.length === 0;
    case 'map':
    case 'bytes':
      return isYamlMap(decoded) ? Object.keys(decoded).length === 0 : decoded === '';
    case 'struct': {
      if (!isYamlMap(decoded)) return true;
      const layout = structLayout(typeName);
      return Object.entries(decoded).every(([key, v]) => {
        const field = layout.byName.get(key);
        return field ? isEmptyValue(v, field.type) : false;
      });
    }
    case 'duration':
      return decoded === '0s';
    default:
      return decoded === '' || decoded === 0 || decoded === false;
  }
}

/** Go map iteration as go-yaml writes it. */
function encodeMap(decoded: YamlMap, encodeItem: (v: YamlValue) => YamlValue): YamlMap {
  const out: YamlMap = {};
  for (const key of Object.keys(decoded).sort(compareGoKeys)) out[key] = encodeItem(decoded[key] ?? null);
  return out;
}

function encodeAny(value: YamlValue): YamlValue {
  if (Array.isArray(value)) return value.map(encodeAny);
  if (isYamlMap(value)) return encodeMap(value, encodeAny);
  return value;
}

/** Encodes a decoded value as go-yaml would write the Go value. */
export function encodeValue(decoded: YamlValue | undefined, typeName: string): YamlValue {
  if (decoded === undefined) return encodeNil(typeName);
  const spec = goType(typeName);
  if (PEM_TYPES.has(typeName)) return deepClone(decoded);
  if (spec.c) return CUSTOM_CODECS[typeName]?.encode(decoded) ?? deepClone(decoded);
  switch (spec.k) {
    case 'ptr':
      return encodeValue(decoded, spec.e ?? '');
    case 'any':
      return encodeAny(decoded);
    case 'slice':
      return (decoded as YamlValue[]).map((item) => encodeValue(item, spec.e ?? ''));
    case 'map':
      return encodeMap(decoded as YamlMap, (item) => encodeValue(item, spec.e ?? ''));
    case 'struct':
      return encodeStruct(decoded as YamlMap, typeName);
    default:
      return decoded;
  }
}

function encodeStruct(decoded: YamlMap, typeName: string): YamlMap {
  const layout = structLayout(typeName);
  const out: YamlMap = {};
  for (const field of layout.fields) {
    const value = decoded[field.name];
    if (field.omitEmpty && isEmptyValue(value, field.type)) continue;
    out[field.name] = encodeValue(value, field.type);
  }
  if (layout.inlineMapElem !== undefined) {
    const elem = layout.inlineMapElem;
    const extra = Object.keys(decoded).filter((key) => !layout.byName.has(key)).sort(compareGoKeys);
    for (const key of extra) out[key] = encodeValue(decoded[key] ?? null, elem);
  }
  return out;
}
