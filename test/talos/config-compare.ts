// Compares two Talos machine configs the way Talos reads them: each YAML
// document parsed, documents matched by identity (v1alpha1, or kind/name), and
// compared deep-equal. Byte identity is reported separately, since key order
// and quoting do not change what a node does.
import { isDeepStrictEqual } from 'node:util';
import { parseAllDocuments } from 'yaml';

export interface ConfigDocument {
  /** "v1alpha1" for the legacy document, else "Kind" or "Kind/name". */
  id: string;
  value: unknown;
}

export interface ConfigComparison {
  semanticallyEqual: boolean;
  byteIdentical: boolean;
  /** One line per difference, paths in dotted form; empty when equal. */
  differences: string[];
}

export function documentId(value: unknown): string {
  if (!isRecord(value)) return '(not a mapping)';
  if (value.version === 'v1alpha1' && value.kind === undefined) return 'v1alpha1';
  const kind = typeof value.kind === 'string' ? value.kind : '(no kind)';
  return typeof value.name === 'string' ? `${kind}/${value.name}` : kind;
}

export function parseConfigDocuments(text: string): ConfigDocument[] {
  const documents: ConfigDocument[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`YAML error: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJS();
    // A trailing "---" yields an empty document; Talos ignores it too.
    if (value === null || value === undefined) continue;
    documents.push({ id: documentId(value), value });
  }
  return documents;
}

export function compareConfigs(ours: string, talos: string): ConfigComparison {
  const differences = diffConfigs(parseConfigDocuments(ours), parseConfigDocuments(talos));
  return { semanticallyEqual: differences.length === 0, byteIdentical: ours === talos, differences };
}

function diffConfigs(ours: ConfigDocument[], talos: ConfigDocument[]): string[] {
  const out: string[] = [];
  const oursById = new Map(ours.map((d) => [d.id, d]));
  const talosById = new Map(talos.map((d) => [d.id, d]));
  for (const id of new Set([...oursById.keys(), ...talosById.keys()])) {
    const a = oursById.get(id);
    const b = talosById.get(id);
    if (!a) out.push(`${id}: document missing in ours`);
    else if (!b) out.push(`${id}: document only in ours`);
    else diffValues(a.value, b.value, id, out);
  }
  if (ours.length !== oursById.size || talos.length !== talosById.size) out.push('duplicate document ids');
  return out;
}

function diffValues(a: unknown, b: unknown, path: string, out: string[]): void {
  if (isDeepStrictEqual(a, b)) return;
  if (isRecord(a) && isRecord(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const child = `${path}.${key}`;
      if (!(key in a)) out.push(`${child}: missing in ours (talos: ${show(b[key])})`);
      else if (!(key in b)) out.push(`${child}: only in ours (${show(a[key])})`);
      else diffValues(a[key], b[key], child, out);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((item, i) => diffValues(item, b[i], `${path}[${i}]`, out));
    return;
  }
  out.push(`${path}: ours ${show(a)}, talos ${show(b)}`);
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A readable failure message: the case, then the first differences. */
export function describeDifferences(caseName: string, comparison: ConfigComparison, limit = 20): string {
  const lines = comparison.differences.slice(0, limit);
  const more = comparison.differences.length - lines.length;
  return [`${caseName}: ${comparison.differences.length} difference(s)`, ...lines.map((l) => `  ${l}`)]
    .concat(more > 0 ? [`  … and ${more} more`] : [])
    .join('\n');
}
