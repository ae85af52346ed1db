// Applying a `$patch: delete` selector to a decoded document, following Talos's rules: the path
// is walked through the document's Go type; a known struct field is reset even if it was
// empty, but a path through something absent fails ("lookup failed"); list items are removed
// by matching a string field against the selector's key/value.

import { goType, structLayout } from '../schema/model';
import { isYamlMap, type YamlMap, type YamlValue } from '../yaml/values';
import type { DeleteSelector } from './strategic';

class LookupFailed extends Error {
  constructor(message = 'lookup failed') {
    super(message);
  }
}

function deleteFromList(list: YamlValue[], elemType: string, match: DeleteSelector['match']): void {
  if (!match) throw new LookupFailed();
  let itemType = elemType;
  while (goType(itemType).k === 'ptr') itemType = goType(itemType).e ?? '';
  if (goType(itemType).k !== 'struct') throw new LookupFailed();
  const field = structLayout(itemType).byName.get(match.key);
  const fieldSpec = field ? goType(field.type) : undefined;
  // Talos compares the field's string form; only string-like fields can ever match.
  if (!field || !fieldSpec || !(fieldSpec.k === 'string' || fieldSpec.c)) throw new LookupFailed();
  const index = list.findIndex((item) => isYamlMap(item) && String(item[match.key] ?? '') === match.value);
  if (index < 0) throw new LookupFailed();
  list.splice(index, 1);
}

/** Deletes `path` below `container` (a decoded value of Go type `typeName`). */
function deleteAt(container: YamlValue | undefined, typeName: string, path: string[], match: DeleteSelector['match']): void {
  const spec = goType(typeName);
  const [token = '', ...rest] = path;
  if (spec.k === 'ptr') {
    if (container === undefined || container === null) throw new LookupFailed();
    deleteAt(container, spec.e ?? '', path, match);
    return;
  }
  if (spec.k === 'slice') {
    if (rest.length > 0) throw new LookupFailed('searching for complex paths in slices is not supported');
    if (!token.startsWith('[')) throw new LookupFailed('searching for non-integer keys in slices is not supported');
    deleteFromList(Array.isArray(container) ? container : [], spec.e ?? '', match);
    return;
  }
  if (spec.k === 'map' || spec.k === 'any') {
    if (!isYamlMap(container) || !(token in container)) throw new LookupFailed();
    if (rest.length === 0) delete container[token];
    else deleteAt(container[token], spec.k === 'map' ? (spec.e ?? '') : typeName, rest, match);
    return;
  }
  if (spec.k !== 'struct' || !isYamlMap(container)) throw new LookupFailed();
  const layout = structLayout(typeName);
  const field = layout.byName.get(token);
  if (!field) {
    // An inline map (unstructured content) holds the other keys.
    if (layout.inlineMapElem === undefined || !(token in container)) throw new LookupFailed();
    if (rest.length === 0) delete container[token];
    else deleteAt(container[token], layout.inlineMapElem, rest, match);
    return;
  }
  if (rest.length === 0) {
    delete container[token];
    return;
  }
  const fieldSpec = goType(field.type);
  if (container[token] === undefined && fieldSpec.k === 'struct') container[token] = {};
  deleteAt(container[token], field.type, rest, match);
}

/**
 * Applies a (non-root) selector to a decoded document in place. Throws an Error worded like
 * Talos's: `patch delete: path 'a.b' in document 'v1alpha1/Kind': failed to delete path 'a.b': lookup failed`.
 */
export function applyDeleteSelector(decoded: YamlMap, typeName: string, selector: DeleteSelector): void {
  const where = selector.path.join('.');
  try {
    deleteAt(decoded, typeName, selector.path, selector.match);
  } catch (err) {
    if (!(err instanceof LookupFailed)) throw err;
    throw new Error(
      `patch delete: path '${where}' in document '${selector.apiVersion}/${selector.kind}': failed to delete path '${where}': ${err.message}`,
      { cause: err },
    );
  }
}
