// RFC 6902 JSON Patch (CABPT's `configPatches`) on plain data. Own implementation so every
// failure can say which operation and which path it was about.

import { deepClone, deepEqual, isYamlMap, type YamlMap, type YamlValue } from '../yaml/values';

export type JsonPatchOp = 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';

/** One RFC 6902 operation, as CABPT's configPatches hold them. */
export interface JsonPatchOperation {
  op: JsonPatchOp;
  path: string;
  value?: unknown;
  from?: string;
}

const OPS: readonly string[] = ['add', 'remove', 'replace', 'move', 'copy', 'test'];

/** A failed operation; `reason` is short ("path not found"), the message names op and path. */
export class JsonPatchError extends Error {
  constructor(
    readonly operation: JsonPatchOperation,
    readonly reason: string,
    /** Position of the operation in the list applied. */
    readonly index = 0,
  ) {
    super(`(${operation.op} ${operation.path}): ${reason}`);
    this.name = 'JsonPatchError';
  }
}

class Failure extends Error {}

/** JSON Pointer (RFC 6901) tokens. */
function pointerTokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Failure('path must start with "/"');
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function arrayIndex(token: string, length: number, allowEnd: boolean): number {
  if (allowEnd && token === '-') return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new Failure(`"${token}" is not an array index`);
  const index = Number(token);
  if (index > length || (!allowEnd && index === length)) throw new Failure('array index out of range');
  return index;
}

function child(container: YamlValue, token: string): YamlValue | undefined {
  if (Array.isArray(container)) {
    if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
    return container[Number(token)];
  }
  return isYamlMap(container) && Object.hasOwn(container, token) ? container[token] : undefined;
}

interface Location {
  parent: YamlValue[] | YamlMap;
  token: string;
}

/**
 * The container holding the value `pointer` designates (which need not exist). With
 * `createParents`, missing mappings on the way are created (for `add`).
 */
function locate(doc: YamlValue, pointer: string, createParents = false): Location {
  const tokens = pointerTokens(pointer);
  const last = tokens.pop();
  if (last === undefined) throw new Failure('the root cannot be used here');
  let node: YamlValue | undefined = doc;
  for (const [depth, token] of tokens.entries()) {
    let next: YamlValue | undefined = node === undefined ? undefined : child(node, token);
    if (next === undefined && createParents && isYamlMap(node)) {
      // `…/list/-` appends, so the missing parent it names is a sequence.
      next = (tokens[depth + 1] ?? last) === '-' ? [] : {};
      node[token] = next;
    }
    node = next;
    if (node === undefined) throw new Failure('path not found');
  }
  if (!Array.isArray(node) && !isYamlMap(node)) throw new Failure('path not found');
  return { parent: node, token: last };
}

function get(doc: YamlValue, pointer: string): YamlValue {
  let node: YamlValue | undefined = doc;
  for (const token of pointerTokens(pointer)) {
    node = node === undefined ? undefined : child(node, token);
  }
  if (node === undefined) throw new Failure('path not found');
  return node;
}

function add(doc: YamlValue, pointer: string, value: YamlValue, createParents: boolean): YamlValue {
  if (pointer === '') return value;
  const { parent, token } = locate(doc, pointer, createParents);
  if (Array.isArray(parent)) parent.splice(arrayIndex(token, parent.length, true), 0, value);
  else parent[token] = value;
  return doc;
}

function remove(doc: YamlValue, pointer: string): YamlValue {
  const { parent, token } = locate(doc, pointer);
  if (Array.isArray(parent)) {
    parent.splice(arrayIndex(token, parent.length, false), 1);
  } else {
    if (!Object.hasOwn(parent, token)) throw new Failure('path not found');
    delete parent[token];
  }
  return doc;
}

/**
 * Like the json-patch library Talos uses, `replace` of a missing key in an existing mapping
 * sets it; only a missing parent (or list item) fails.
 */
function replace(doc: YamlValue, pointer: string, value: YamlValue): YamlValue {
  if (pointer === '') return value;
  const { parent, token } = locate(doc, pointer);
  if (Array.isArray(parent)) parent[arrayIndex(token, parent.length, false)] = value;
  else parent[token] = value;
  return doc;
}

/**
 * Plain-data copy of the operation's value (JSON values only). A missing value is null, as
 * CABPT sends it (its configPatches marshal an empty value as `"value": null`).
 */
function operationValue(operation: JsonPatchOperation): YamlValue {
  const value = operation.value === undefined ? null : operation.value;
  try {
    return JSON.parse(JSON.stringify(value)) as YamlValue;
  } catch {
    throw new Failure('value is not JSON data');
  }
}

function fromPath(operation: JsonPatchOperation): string {
  if (typeof operation.from !== 'string') throw new Failure('"from" is required');
  return operation.from;
}

function applyOperation(doc: YamlValue, operation: JsonPatchOperation, options: JsonPatchOptions): YamlValue {
  const createParents = options.createMissingParents ?? false;
  switch (operation.op) {
    case 'add':
      return add(doc, operation.path, operationValue(operation), createParents);
    case 'remove':
      return remove(doc, operation.path);
    case 'replace':
      return replace(doc, operation.path, operationValue(operation));
    case 'move': {
      const from = fromPath(operation);
      if (operation.path.startsWith(`${from}/`)) throw new Failure('cannot move a value into itself');
      const value = get(doc, from);
      return add(remove(doc, from), operation.path, value, createParents);
    }
    case 'copy':
      return add(doc, operation.path, deepClone(get(doc, fromPath(operation))), createParents);
    case 'test':
      if (!deepEqual(get(doc, operation.path), operationValue(operation))) throw new Failure('test failed');
      return doc;
  }
}

/** Checks the shape of an operation coming from user data. */
export function checkOperation(operation: unknown): JsonPatchOperation {
  const op = operation as Partial<JsonPatchOperation> | null;
  if (typeof op !== 'object' || op === null || Array.isArray(op)) {
    throw new JsonPatchError({ op: 'add', path: '?' } as JsonPatchOperation, 'an operation must be an object');
  }
  const shown = { op: String(op.op ?? '?'), path: String(op.path ?? '?') } as JsonPatchOperation;
  if (typeof op.op !== 'string' || !OPS.includes(op.op)) throw new JsonPatchError(shown, `unknown op "${String(op.op)}"`);
  if (typeof op.path !== 'string') throw new JsonPatchError(shown, 'path is required');
  return op as JsonPatchOperation;
}

export interface JsonPatchOptions {
  /**
   * `add` creates missing parent mappings (like json-patch's EnsurePathExistsOnAdd) instead of
   * failing, so `add /machine/kernel/args` works on a config without a kernel section.
   * RFC 6902 and Talos's own JSON6902 fail there; default false.
   */
  createMissingParents?: boolean;
}

/**
 * Applies operations in order to a copy of `doc`. The first failing operation throws a
 * JsonPatchError carrying its index in `operations`.
 */
export function applyJsonPatch(
  doc: YamlValue,
  operations: readonly JsonPatchOperation[],
  options: JsonPatchOptions = {},
): YamlValue {
  let result = deepClone(doc);
  operations.forEach((raw, index) => {
    let operation: JsonPatchOperation;
    try {
      operation = checkOperation(raw);
    } catch (err) {
      if (err instanceof JsonPatchError) throw new JsonPatchError(err.operation, err.reason, index);
      throw err;
    }
    try {
      result = applyOperation(result, operation, options);
    } catch (err) {
      if (err instanceof Failure) throw new JsonPatchError(operation, err.message, index);
      throw err;
    }
  });
  return result;
}
