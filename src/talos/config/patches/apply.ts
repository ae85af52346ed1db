// The patch pipeline CABPT runs, with Talos's semantics: first the RFC 6902 `configPatches`
// (one JSON patch), then each strategic merge patch in order. Unlike Talos, RFC 6902 patches
// on multi-document configurations (contract ≥ 1.12) go to the v1alpha1 machine document
// instead of failing. Results are canonical documents, as Talos would re-encode them.

import {
  decodeDocument,
  documentKey,
  encodeDocument,
  identifyDocument,
  LEGACY_KIND,
  type DocumentIdentity,
} from '../schema/documents';
import { mergeDocument } from '../schema/merge';
import type { YamlMap } from '../yaml/values';
import { applyDeleteSelector } from './delete';
import { applyJsonPatch, JsonPatchError, type JsonPatchOperation } from './json6902';
import { loadPatch, type DeleteSelector } from './strategic';

export interface ConfigPatches {
  /** RFC 6902 operations (CABPT's `configPatches`), applied as one patch to the v1alpha1 document. */
  jsonPatches?: readonly JsonPatchOperation[];
  /** Talos strategic merge patches (CABPT's `strategicPatches`), YAML texts applied in order. */
  strategicPatches?: readonly string[];
}

export interface ApplyPatchesOptions {
  /**
   * Let RFC 6902 `add` create missing parent mappings (default true), so patches such as
   * `add /machine/kernel/args` work on generated configs, which have no kernel section.
   * False gives strict RFC 6902, exactly like Talos's JSON6902.
   */
  createMissingParents?: boolean;
  /**
   * Sees each v1alpha1 document the patches produce, in its YAML form, before it is loaded strictly
   * (the RFC 6902 result; the v1alpha1 document of a strategic patch) and may return a corrected
   * copy, e.g. with a setting moved from where Talos lacks it to where Talos reads it. It must not
   * change the document it is given. `source` is `configPatches` or `strategicPatches[i]`.
   */
  repairV1Alpha1?: (document: YamlMap, source: string) => YamlMap;
}

/** A patch could not be applied; the message starts with `configPatches[i]` or `strategicPatches[i]`. */
export class ConfigPatchError extends Error {
  constructor(
    readonly source: 'configPatches' | 'strategicPatches',
    /** Position of the patch (of the operation for configPatches); -1 when it concerns them all. */
    readonly index: number,
    /** "(op /path): reason" for RFC 6902 operations, else the reason. */
    readonly detail: string,
    /** For RFC 6902 operations inside a strategic patch: the operation's position. */
    readonly operationIndex?: number,
  ) {
    const position = index < 0 ? '' : `[${index}]`;
    const operation = operationIndex === undefined ? '' : ` operation ${operationIndex}`;
    super(`${source}${position}${operation}${detail.startsWith('(') ? ' ' : ': '}${detail}`);
    this.name = 'ConfigPatchError';
  }
}

interface WorkingDocument {
  identity: DocumentIdentity;
  key: string;
  decoded: YamlMap;
}

function working(doc: YamlMap): WorkingDocument {
  const identity = identifyDocument(doc);
  return { identity, key: documentKey(identity), decoded: decodeDocument(doc, identity) };
}

const detailOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Applies RFC 6902 operations to the v1alpha1 document among `documents`. */
function applyJsonOperations(
  documents: WorkingDocument[],
  operations: readonly JsonPatchOperation[],
  options: ApplyPatchesOptions,
  source: 'configPatches' | 'strategicPatches',
  patchIndex?: number,
): WorkingDocument[] {
  const position = documents.findIndex((doc) => doc.identity.kind === LEGACY_KIND);
  const legacy = documents[position];
  if (!legacy) {
    throw new ConfigPatchError(source, patchIndex ?? -1, 'RFC 6902 patches need a v1alpha1 document and the config has none');
  }
  let patched: WorkingDocument;
  try {
    const encoded = encodeDocument(legacy.decoded, legacy.identity);
    const result = applyJsonPatch(encoded, operations, { createMissingParents: options.createMissingParents ?? true });
    if (result === null || typeof result !== 'object' || Array.isArray(result)) throw new Error('the result is not a mapping');
    const repair = options.repairV1Alpha1;
    patched = working(repair ? repair(result, patchIndex === undefined ? source : `${source}[${patchIndex}]`) : result);
  } catch (err) {
    if (err instanceof JsonPatchError) {
      // configPatches are addressed per operation; a JSON patch among the strategic ones per patch.
      if (patchIndex === undefined) throw new ConfigPatchError(source, err.index, err.message);
      throw new ConfigPatchError(source, patchIndex, err.message, err.index);
    }
    throw new ConfigPatchError(source, patchIndex ?? -1, `the patched v1alpha1 document is invalid: ${detailOf(err)}`);
  }
  return documents.map((doc, i) => (i === position ? patched : doc));
}

function applyDelete(documents: WorkingDocument[], selector: DeleteSelector): WorkingDocument[] {
  const target = documents.find((doc) => doc.key === selector.documentKey);
  if (!target) return documents; // deleting from a document that is not there is a no-op
  if (selector.path.length === 0) {
    if (target.identity.kind === LEGACY_KIND) throw new Error("can't delete the root of the legacy document");
    return documents.filter((doc) => doc !== target);
  }
  applyDeleteSelector(target.decoded, target.identity.spec.type, selector);
  return documents;
}

/** Talos's container rules: one document per kind/name, no conflicting kinds together. */
function checkContainer(documents: WorkingDocument[]): void {
  const seen = new Map<string, string>();
  const conflicting = new Map<string, string>();
  let legacy = 0;
  for (const { identity } of documents) {
    if (identity.kind === LEGACY_KIND) {
      if (++legacy > 1) throw new Error('duplicate v1alpha1.Config');
      continue;
    }
    const id = `${identity.kind}/${identity.name ?? ''}`;
    if (seen.has(id)) throw new Error(`duplicate document: ${id}`);
    seen.set(id, id);
    const conflictWith = conflicting.get(id);
    if (conflictWith) throw new Error(`conflicting documents: ${conflictWith} and ${id}`);
    for (const kind of identity.spec.conflictsWith ?? []) {
      const other = `${kind}/${identity.name ?? ''}`;
      if (seen.has(other)) throw new Error(`conflicting documents: ${other} and ${id}`);
      conflicting.set(other, id);
    }
  }
}

function applyStrategic(
  documents: WorkingDocument[],
  text: string,
  index: number,
  options: ApplyPatchesOptions,
): WorkingDocument[] {
  let patch;
  try {
    patch = loadPatch(text);
  } catch (err) {
    throw new ConfigPatchError('strategicPatches', index, detailOf(err));
  }
  if (patch.type === 'json') return applyJsonOperations(documents, patch.operations, options, 'strategicPatches', index);
  try {
    let result = documents;
    for (const step of patch.steps) {
      if (step.type === 'delete') {
        result = applyDelete(result, step.selector);
        continue;
      }
      const repair = options.repairV1Alpha1;
      const right = working(repair && identifyDocument(step.document).kind === LEGACY_KIND ? repair(step.document, `strategicPatches[${index}]`) : step.document);
      const left = result.find((doc) => doc.key === right.key);
      if (left) left.decoded = mergeDocument(left.decoded, right.decoded, left.identity.spec.type);
      else result = [...result, right];
    }
    checkContainer(result);
    return result;
  } catch (err) {
    throw new ConfigPatchError('strategicPatches', index, detailOf(err));
  }
}

/**
 * Applies `patches` to configuration documents and returns the patched documents in canonical
 * form. Throws ConfigPatchError naming the failing patch (and, for RFC 6902, the path).
 * The documents stay decoded from the first patch to the last, as Talos keeps its config in
 * memory between patches.
 */
export function applyPatches(docs: readonly YamlMap[], patches: ConfigPatches, options: ApplyPatchesOptions = {}): YamlMap[] {
  let documents = docs.map(working);
  if (patches.jsonPatches && patches.jsonPatches.length > 0) {
    documents = applyJsonOperations(documents, patches.jsonPatches, options, 'configPatches');
  }
  (patches.strategicPatches ?? []).forEach((text, index) => {
    documents = applyStrategic(documents, text, index, options);
  });
  // The v1alpha1 document always comes first, as Talos encodes it.
  const ordered = [...documents].sort((a, b) => Number(b.identity.kind === LEGACY_KIND) - Number(a.identity.kind === LEGACY_KIND));
  return ordered.map((doc) => encodeDocument(doc.decoded, doc.identity));
}
