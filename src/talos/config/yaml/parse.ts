// YAML reading with the scalar rules Talos's go-yaml applies where they differ from YAML 1.2:
// a leading-zero integer such as `permissions: 0644` is octal (420), not decimal 644.

import { parseAllDocuments, type Tags } from 'yaml';
import type { YamlValue } from './values';

export class YamlSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'YamlSyntaxError';
  }
}

type TagList = Tags;

const GO_LEGACY_OCTAL = {
  tag: 'tag:yaml.org,2002:int',
  format: 'OCT',
  default: true,
  test: /^[-+]?0[0-7]+$/,
  resolve: (text: string): number => parseInt(text, 8),
} as TagList[number];

const PARSE_OPTIONS = { customTags: (tags: TagList): TagList => [GO_LEGACY_OCTAL, ...tags] };

/** All documents of `text` as plain data (empty documents as null). */
export function parseYamlDocuments(text: string): YamlValue[] {
  const parsed = parseAllDocuments(text, PARSE_OPTIONS);
  const documents = Array.isArray(parsed) ? parsed : [parsed];
  return documents.map((document) => {
    const error = document.errors[0];
    if (error) throw new YamlSyntaxError(error.message.split('\n')[0] ?? 'invalid YAML');
    return document.toJS() as YamlValue;
  });
}

/** A single-document YAML (or JSON) text as plain data; null when empty. */
export function parseYamlValue(text: string): YamlValue {
  const [first = null, ...rest] = parseYamlDocuments(text);
  if (rest.length > 0) throw new YamlSyntaxError('expected a single YAML document');
  return first;
}
