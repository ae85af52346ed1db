// Block-style YAML writer laid out like go-yaml (v3/v4) with its default 4-space indent, which is
// what Talos's encoder produces with comments disabled:
//   - a nested collection under a mapping key indents to the next multiple of four columns;
//   - a collection that is a sequence item starts right after "- " (two columns deeper);
//   - empty collections are written inline as {} and [];
//   - multi-line strings become literal blocks.
// Keys are written in the object's own order; callers order them first (canonicalDocument in schema/documents.ts).

import { renderScalar } from './scalars';
import { isYamlMap, type YamlMap, type YamlScalar, type YamlValue } from './values';

const INDENT_STEP = 4;

/** Column of a nested node: +2 inside a sequence item, else the next multiple of the indent step. */
function childIndent(indent: number, insideSequenceItem: boolean): number {
  return insideSequenceItem ? indent + 2 : INDENT_STEP * Math.floor((indent + INDENT_STEP) / INDENT_STEP);
}

class Writer {
  readonly lines: string[] = [];
  /** The current (last) line; nodes may continue it ("key:" + " value", "- " + "key: …"). */
  private current: string | undefined;

  startLine(indent: number, text: string): void {
    this.flush();
    this.current = ' '.repeat(indent) + text;
  }

  append(text: string): void {
    this.current = (this.current ?? '') + text;
  }

  /** Adds raw lines (literal block content) after the current line. */
  rawLines(indent: number, lines: string[]): void {
    this.flush();
    for (const line of lines) this.lines.push(line === '' ? '' : ' '.repeat(indent) + line);
  }

  flush(): void {
    if (this.current !== undefined) this.lines.push(this.current);
    this.current = undefined;
  }
}

function isEmptyCollection(value: YamlValue): boolean {
  return Array.isArray(value) ? value.length === 0 : isYamlMap(value) && Object.keys(value).length === 0;
}

function writeScalarAfter(writer: Writer, value: YamlScalar, blockIndent: number): void {
  const rendered = renderScalar(value, false, INDENT_STEP);
  writer.append(` ${rendered.inline}`);
  if (rendered.blockLines) writer.rawLines(blockIndent, rendered.blockLines);
}

/**
 * Writes `value` as the value of a mapping key or of a sequence item whose indicator has
 * just been written on the current line.
 */
function writeNested(writer: Writer, value: YamlValue, parentIndent: number, insideSequenceItem: boolean): void {
  const indent = childIndent(parentIndent, insideSequenceItem);
  if (Array.isArray(value) || isYamlMap(value)) {
    if (isEmptyCollection(value)) {
      writer.append(Array.isArray(value) ? ' []' : ' {}');
    } else if (Array.isArray(value)) {
      writeSequence(writer, value, indent, insideSequenceItem);
    } else {
      writeMapping(writer, value, indent, insideSequenceItem);
    }
    return;
  }
  writeScalarAfter(writer, value, indent);
}

/** `continueLine`: the first entry goes on the current line (right after "- "). */
function writeMapping(writer: Writer, map: YamlMap, indent: number, continueLine: boolean): void {
  let first = true;
  for (const [key, value] of Object.entries(map)) {
    const keyText = renderScalar(key, true, INDENT_STEP).inline;
    if (first && continueLine) writer.append(` ${keyText}:`);
    else writer.startLine(indent, `${keyText}:`);
    first = false;
    writeNested(writer, value, indent, false);
  }
}

function writeSequence(writer: Writer, items: YamlValue[], indent: number, continueLine: boolean): void {
  items.forEach((item, i) => {
    if (i === 0 && continueLine) writer.append(' -');
    else writer.startLine(indent, '-');
    writeNested(writer, item, indent, true);
  });
}

/** One YAML document (without the `---` separator), newline-terminated. */
export function emitDocument(root: YamlMap): string {
  const writer = new Writer();
  if (Object.keys(root).length === 0) return '{}\n';
  writeMapping(writer, root, 0, false);
  writer.flush();
  return `${writer.lines.join('\n')}\n`;
}

/** Several documents joined the way Talos joins them: `---` lines between documents. */
export function emitDocuments(documents: YamlMap[]): string {
  return documents.map(emitDocument).join('---\n');
}
