// Edits string values of a YAML text in place: found through the `yaml` parser's nodes, replaced
// by their source ranges, so that everything else stays byte for byte as it was (comments, key
// order, Go's octal integers) and a value keeps its quoting. What in-place upgrades write back
// into a node's machine config. Pure.
import { isMap, isScalar, parseAllDocuments, Scalar, type Document } from 'yaml';

/** Every document of a multi-document YAML text; the first syntax error is thrown as `fail(message)`. */
export function parseDocuments(text: string, fail: (message: string) => Error): Document[] {
  const documents = parseAllDocuments(text);
  const list = Array.isArray(documents) ? documents : [documents];
  const error = list.flatMap((d) => d.errors)[0];
  if (error) throw fail(`the machine config is not valid YAML: ${error.message.split('\n')[0]}`);
  return list;
}

/** The `kind` of a document (the v1alpha1 document has none). */
export const kindOf = (document: Document): unknown => (isMap(document.contents) ? document.get('kind') : undefined);

/** The string scalar at `path`, if there is one. */
export function stringScalarAt(document: Document, path: readonly string[]): Scalar | undefined {
  const node = document.getIn(path, true);
  return isScalar(node) && typeof node.value === 'string' ? node : undefined;
}

function quoted(node: Scalar, value: string): string {
  if (node.type === Scalar.QUOTE_DOUBLE) return JSON.stringify(value);
  if (node.type === Scalar.QUOTE_SINGLE) return `'${value.replaceAll("'", "''")}'`;
  return value;
}

/** `text` with each scalar (found in it) replaced by its new value, quoted as it was. */
export function replaceScalars(text: string, replacements: readonly { node: Scalar; value: string }[]): string {
  let result = text;
  // From the end of the text, so that the earlier ranges stay where they are.
  for (const { node, value } of [...replacements].sort((a, b) => (b.node.range?.[0] ?? 0) - (a.node.range?.[0] ?? 0))) {
    const [start, end] = node.range ?? [0, 0];
    result = result.slice(0, start) + quoted(node, value) + result.slice(end);
  }
  return result;
}
