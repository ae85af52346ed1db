// Loading Talos strategic merge patches: YAML (possibly several documents) whose documents
// merge into the configuration's documents of the same apiVersion/kind/name, plus `$patch:
// delete` markers that remove a document, a key, or list items. Like Talos's LoadPatch, a
// patch that is a list of RFC 6902 operations (JSON or YAML) is accepted too.

import { LEGACY_KIND } from '../schema/documents';
import { parseYamlDocuments } from '../yaml/parse';
import { isYamlMap, type YamlMap, type YamlValue } from '../yaml/values';
import { checkOperation, type JsonPatchOperation } from './json6902';

/** Removal requested by `$patch: delete`. */
export interface DeleteSelector {
  /** Document the selector applies to: `apiVersion/kind[/name]` as Talos matches it. */
  documentKey: string;
  apiVersion: string;
  kind: string;
  /** Dotted path of YAML keys; a list item shows as `[i]` (Talos ignores the index). */
  path: string[];
  /** For list items: the item's first key and its value, which pick the items to delete. */
  match?: { key: string; value: string };
}

export type StrategicStep = { type: 'delete'; selector: DeleteSelector } | { type: 'merge'; document: YamlMap };

export type LoadedPatch =
  | { type: 'strategic'; steps: StrategicStep[] }
  | { type: 'json'; operations: JsonPatchOperation[] };

export class PatchLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PatchLoadError';
  }
}

const isDeleteMarker = (map: YamlMap): boolean => map.$patch === 'delete';

function scalarText(value: YamlValue | undefined): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? '' : String(value);
}

class DeleteCollector {
  readonly selectors: DeleteSelector[] = [];

  constructor(private readonly root: YamlMap) {}

  private selector(path: string[], match?: DeleteSelector['match']): DeleteSelector {
    const apiVersion = scalarText(this.root.apiVersion);
    let kind = scalarText(this.root.kind);
    if (path.length === 0 && (apiVersion === '' || kind === '')) {
      throw new PatchLoadError(`missing ${apiVersion === '' ? 'apiVersion' : 'kind'} in document for which $patch: delete is used`);
    }
    if (apiVersion === '' && kind === '') {
      kind = LEGACY_KIND;
    } else if (apiVersion === '' || kind === '') {
      throw new PatchLoadError(`kind and apiVersion must be both set for path ${path.join('.')}`);
    }
    const name = scalarText(this.root.name);
    const documentKey = `${apiVersion}/${kind}${name ? `/${name}` : ''}`;
    return { documentKey, apiVersion, kind, path, ...(match ? { match } : {}) };
  }

  /** Walks `node`; returns true when the node itself is to be removed from its parent. */
  visit(node: YamlValue, path: string[], inSequence: boolean): boolean {
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        if (this.visit(node[i] ?? null, [...path, `[${i}]`], true)) {
          node.splice(i, 1);
          i--;
          if (node.length === 0) return true;
        }
      }
      return false;
    }
    if (!isYamlMap(node)) return false;
    for (const key of Object.keys(node)) {
      if (key === '$patch' && isDeleteMarker(node)) {
        this.selectors.push(inSequence ? this.sequenceSelector(node, path) : this.mapSelector(path));
        return true;
      }
      if (this.visit(node[key] ?? null, [...path, key], false)) {
        delete node[key];
        if (Object.keys(node).length === 0) return true;
      }
    }
    return false;
  }

  private mapSelector(path: string[]): DeleteSelector {
    if (path.some((part) => part.startsWith('['))) {
      throw new PatchLoadError(`cannot delete an inner key in '${path.join('.')}'`);
    }
    return this.selector(path);
  }

  private sequenceSelector(item: YamlMap, path: string[]): DeleteSelector {
    const entry = Object.entries(item).find(([key]) => key !== '$patch');
    if (!entry) throw new PatchLoadError(`no key:val found in sequence node for path ${path.join('.')}`);
    return this.selector(path, { key: entry[0], value: scalarText(entry[1]) });
  }
}

/** Talos skips a patch document left with nothing but version/kind/name after its deletes. */
function isEmptyDocument(doc: YamlMap): boolean {
  return Object.entries(doc).every(
    ([key, value]) => ['version', 'kind', 'name'].includes(key) && (value === null || typeof value !== 'object'),
  );
}

function parseDocuments(text: string): YamlValue[] {
  try {
    return parseYamlDocuments(text);
  } catch (err) {
    throw new PatchLoadError(`invalid YAML: ${(err as Error).message}`);
  }
}

function loadJsonPatch(list: YamlValue[]): LoadedPatch {
  const operations = list.map((raw, index) => {
    try {
      return checkOperation(raw);
    } catch (err) {
      throw new PatchLoadError(`operation ${index}: ${(err as Error).message}`);
    }
  });
  return { type: 'json', operations };
}

/**
 * Loaded patches by text: the same patches (a TalosConfigTemplate's) are applied to every
 * machine, and parsing YAML costs more than merging. Loaded patches are never mutated.
 */
const loadedPatches = new Map<string, LoadedPatch>();
const LOADED_PATCHES_KEPT = 256;

/** Parses one patch text (strategic merge YAML, or RFC 6902 operations as JSON or YAML). */
export function loadPatch(text: string): LoadedPatch {
  const cached = loadedPatches.get(text);
  if (cached) return cached;
  const patch = parsePatch(text);
  if (loadedPatches.size >= LOADED_PATCHES_KEPT) loadedPatches.delete(loadedPatches.keys().next().value ?? '');
  loadedPatches.set(text, patch);
  return patch;
}

function parsePatch(text: string): LoadedPatch {
  const documents = parseDocuments(text).filter((doc) => doc !== null);
  const [first] = documents;
  if (documents.length === 1 && Array.isArray(first)) return loadJsonPatch(first);
  const steps: StrategicStep[] = [];
  for (const document of documents) {
    if (!isYamlMap(document)) throw new PatchLoadError('expected a YAML mapping document');
    const collector = new DeleteCollector(document);
    const removeWhole = collector.visit(document, [], false);
    steps.push(...collector.selectors.map((selector): StrategicStep => ({ type: 'delete', selector })));
    if (!removeWhole && !isEmptyDocument(document)) steps.push({ type: 'merge', document });
  }
  return { type: 'strategic', steps };
}
