// Identity of configuration documents (which Go type, which kind/name) and their canonical form.

import { isYamlMap, type YamlMap, type YamlValue } from '../yaml/values';
import { ConfigShapeError, decodeValue, encodeValue } from './model';
import { DOCUMENT_KINDS } from './talos-types.generated';
import type { KindSpec } from './types';

/** The legacy single document (`version: v1alpha1`, `machine:`, `cluster:`) has this kind. */
export const LEGACY_KIND = 'v1alpha1';

const LEGACY_KEYS = ['machine', 'cluster', 'debug', 'persist'];

export interface DocumentIdentity {
  /** Kind of the document; LEGACY_KIND for the v1alpha1 machine configuration. */
  kind: string;
  apiVersion: string;
  /** Name of a named document ('' if the kind is named but no name was given). */
  name?: string;
  spec: KindSpec;
}

/** Error that names the document it is about, e.g. `v1alpha1/HostnameConfig/`. */
export class DocumentError extends Error {
  constructor(
    readonly documentId: string,
    detail: string,
  ) {
    super(`document ${documentId}: ${detail}`);
    this.name = 'DocumentError';
  }
}

function stringField(doc: YamlMap, key: string): string {
  const value = doc[key];
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
}

/** Works out what a document is the way Talos's loader does; throws for unknown kinds. */
export function identifyDocument(doc: YamlValue): DocumentIdentity {
  if (!isYamlMap(doc)) throw new DocumentError('?', 'expected a YAML mapping');
  let apiVersion = stringField(doc, 'apiVersion');
  const kind = stringField(doc, 'kind');
  if (LEGACY_KEYS.some((key) => key in doc)) apiVersion = 'v1alpha1';
  const label = `${apiVersion}/${kind || LEGACY_KIND}/${stringField(doc, 'name')}`;
  if (apiVersion === 'v1alpha1' && kind === '') {
    return { kind: LEGACY_KIND, apiVersion: '', spec: DOCUMENT_KINDS[LEGACY_KIND] as KindSpec };
  }
  if (kind === '') throw new DocumentError(label, 'missing kind');
  if (apiVersion === '') throw new DocumentError(label, 'missing apiVersion');
  const spec = DOCUMENT_KINDS[kind];
  if (!spec || kind === LEGACY_KIND || spec.apiVersion !== apiVersion) {
    throw new DocumentError(label, `"${kind}" "${apiVersion}": not registered`);
  }
  return { kind, apiVersion, spec, ...(spec.named ? { name: stringField(doc, 'name') } : {}) };
}

/** `apiVersion/kind[/name]`, the key Talos matches patch documents by. */
export function documentKey(identity: DocumentIdentity): string {
  const base = `${identity.apiVersion}/${identity.kind}`;
  return identity.name === undefined ? base : `${base}/${identity.name}`;
}

/** Human-readable id used in messages: `v1alpha1` or `HostnameConfig` / `LinkConfig/eth0`. */
export function documentLabel(identity: DocumentIdentity): string {
  return identity.name ? `${identity.kind}/${identity.name}` : identity.kind;
}

export function decodeDocument(doc: YamlMap, identity = identifyDocument(doc)): YamlMap {
  try {
    return (decodeValue(doc, identity.spec.type) ?? {}) as YamlMap;
  } catch (err) {
    if (err instanceof ConfigShapeError) throw new DocumentError(documentLabel(identity), err.message);
    throw err;
  }
}

export function encodeDocument(decoded: YamlMap, identity: DocumentIdentity): YamlMap {
  return encodeValue(decoded, identity.spec.type) as YamlMap;
}

/**
 * The document as Talos would write it after loading it: strict about unknown keys and types,
 * fields in Talos's order, empty optional fields dropped.
 */
export function canonicalDocument(doc: YamlMap): YamlMap {
  const identity = identifyDocument(doc);
  return encodeDocument(decodeDocument(doc, identity), identity);
}
