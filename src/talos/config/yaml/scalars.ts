// Scalar rendering with go-yaml's rules, so our documents come out byte-for-byte the way
// Talos's encoder writes them: plain where go-yaml writes plain, quoted where it quotes,
// literal blocks for multi-line strings.

import type { YamlScalar } from './values';

type Style = 'plain' | 'single' | 'double' | 'literal';

const OLD_BOOLS = new Set(
  ['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON', 'n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF'],
);
const NULLS = new Set(['', '~', 'null', 'Null', 'NULL']);
const BOOLS = new Set(['true', 'True', 'TRUE', 'false', 'False', 'FALSE']);
const SPECIAL_FLOATS = new Set([
  '.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF', '-.inf', '-.Inf', '-.INF', '.nan', '.NaN', '.NAN',
]);
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const BASE60_FLOAT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
// Go's strconv.ParseInt/ParseUint with base 0, after go-yaml strips underscores.
const GO_INT = /^[-+]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[1-9][0-9]*|0)$/;
const TIMESTAMP = /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(([Tt]| )[0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]{1,9})?(Z|[-+][0-9]{2}:[0-9]{2})?)?$/;

/** Strings go-yaml single-quotes for the sake of YAML 1.1 readers and merge keys. */
function isYaml11Lookalike(value: string): boolean {
  return OLD_BOOLS.has(value) || BASE60_FLOAT.test(value) || value === '<<';
}

/** Would go-yaml read this string, written unquoted, as something other than a string? */
export function resolvesAsNonString(value: string): boolean {
  if (NULLS.has(value) || BOOLS.has(value) || SPECIAL_FLOATS.has(value)) return true;
  const first = value.charAt(0);
  if ('+-.0123456789'.includes(first)) {
    const plain = value.replaceAll('_', '');
    if (GO_INT.test(plain) || YAML_STYLE_FLOAT.test(plain)) return true;
    if (/^-?0b[01]+$/.test(plain) || /^-?0o[0-7]+$/.test(plain)) return true;
    if ('0123456789'.includes(first) && TIMESTAMP.test(value)) return true;
  }
  return false;
}

const isBreak = (c: string): boolean => c === '\r' || c === '\n' || c === '\u0085' || c === '\u2028' || c === '\u2029';
const isBlankOrEnd = (c: string | undefined): boolean => c === undefined || c === ' ' || c === '\t' || isBreak(c);

/** go-yaml's notion of printable (it also leaves out characters beyond the BMP). */
function isPrintable(c: string): boolean {
  const code = c.codePointAt(0) ?? 0;
  return (
    code === 0x0a ||
    (code >= 0x20 && code <= 0x7e) ||
    (code >= 0xa0 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd && code !== 0xfeff)
  );
}

interface Analysis {
  multiline: boolean;
  blockPlainAllowed: boolean;
  singleQuotedAllowed: boolean;
  blockAllowed: boolean;
}

function analyze(value: string): Analysis {
  if (value === '') {
    return { multiline: false, blockPlainAllowed: true, singleQuotedAllowed: true, blockAllowed: false };
  }
  const chars = Array.from(value);
  let blockIndicators = value.startsWith('---') || value.startsWith('...');
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let special = false;
  let lineBreaks = false;
  let previousSpace = false;
  let previousBreak = false;
  let precededByWhitespace = true;

  chars.forEach((c, i) => {
    const followedByWhitespace = isBlankOrEnd(chars[i + 1]);
    const last = i === chars.length - 1;
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(c)) blockIndicators = true;
      if ((c === '?' || c === ':' || c === '-') && followedByWhitespace) blockIndicators = true;
    } else if ((c === ':' && followedByWhitespace) || (c === '#' && precededByWhitespace)) {
      blockIndicators = true;
    }
    if (!isPrintable(c)) special = true;
    if (c === ' ') {
      if (i === 0) leadingSpace = true;
      if (last) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (isBreak(c)) {
      lineBreaks = true;
      if (i === 0) leadingBreak = true;
      if (last) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWhitespace = isBlankOrEnd(c);
  });

  const analysis: Analysis = { multiline: lineBreaks, blockPlainAllowed: true, singleQuotedAllowed: true, blockAllowed: true };
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) analysis.blockPlainAllowed = false;
  if (trailingSpace) analysis.blockAllowed = false;
  if (breakSpace) {
    analysis.blockPlainAllowed = false;
    analysis.singleQuotedAllowed = false;
  }
  if (spaceBreak || special) {
    analysis.blockPlainAllowed = false;
    analysis.singleQuotedAllowed = false;
    analysis.blockAllowed = false;
  }
  if (lineBreaks || blockIndicators) analysis.blockPlainAllowed = false;
  return analysis;
}

/** Names, paths, URLs and base64 — most of a config — are plain without a closer look. */
const OBVIOUSLY_PLAIN = /^[A-Za-z/][A-Za-z0-9._/+=@-]*$/;

function styleFor(value: string, simpleKey: boolean): Style {
  if (OBVIOUSLY_PLAIN.test(value) && !isYaml11Lookalike(value) && !resolvesAsNonString(value)) return 'plain';
  const analysis = analyze(value);
  // What go-yaml's encoder asks for…
  let style: Style;
  if (value.includes('\n')) style = value.length >= 2 && /\S/u.test(value) ? 'literal' : 'double';
  else if (isYaml11Lookalike(value)) style = 'single';
  else if (resolvesAsNonString(value)) style = 'double';
  else style = 'plain';
  // …and what its emitter then settles on.
  if (simpleKey && analysis.multiline) style = 'double';
  if (style === 'plain' && (!analysis.blockPlainAllowed || (value === '' && simpleKey))) style = 'single';
  if (style === 'single' && !analysis.singleQuotedAllowed) style = 'double';
  if (style === 'literal' && (!analysis.blockAllowed || simpleKey)) style = 'double';
  return style;
}

const ESCAPES: Record<string, string> = {
  '\0': '0', '\x07': 'a', '\b': 'b', '\t': 't', '\n': 'n', '\x0b': 'v', '\f': 'f', '\r': 'r', '\x1b': 'e',
  '"': '"', '\\': '\\', '\u0085': 'N', '\u00a0': '_', '\u2028': 'L', '\u2029': 'P',
};

function doubleQuoted(value: string): string {
  let out = '"';
  for (const c of value) {
    if (!isPrintable(c) || c === '\ufeff' || isBreak(c) || c === '"' || c === '\\') {
      const escape = ESCAPES[c];
      if (escape !== undefined) {
        out += `\\${escape}`;
      } else {
        const code = c.codePointAt(0) ?? 0;
        const hex = code.toString(16).toUpperCase();
        out += code <= 0xff ? `\\x${hex.padStart(2, '0')}` : code <= 0xffff ? `\\u${hex.padStart(4, '0')}` : `\\U${hex.padStart(8, '0')}`;
      }
    } else {
      out += c;
    }
  }
  return `${out}"`;
}

/** Chomping/indentation header of a literal block, as go-yaml writes it. */
function literalHeader(value: string, indentStep: number): string {
  let header = '|';
  if (value.startsWith(' ') || isBreak(value.charAt(0))) header += String(indentStep);
  if (!value.endsWith('\n')) header += '-';
  else if (value === '\n' || isBreak(value.charAt(value.length - 2))) header += '+';
  return header;
}

/**
 * Go's strconv.FormatFloat(f, 'g', -1, 64) with go-yaml's spellings of the special values;
 * integral values are written as integers (see renderScalar).
 */
export function formatGoFloat(value: number): string {
  if (Number.isNaN(value)) return '.nan';
  if (value === Infinity) return '.inf';
  if (value === -Infinity) return '-.inf';
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return String(value);
  const [mantissa = '0', exponentText = '0'] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) {
    const sign = exponent < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return String(value);
}

export interface RenderedScalar {
  /** Text that follows `key: ` or `- ` on the same line. */
  inline: string;
  /** Lines of a literal block (without indentation), when the scalar is a literal block. */
  blockLines?: string[];
}

/**
 * Renders a scalar the way go-yaml does. Numbers are written as integers when integral:
 * data parsed from YAML or JSON cannot tell `1` from `1.0`, and Go writes both as `1`.
 */
export function renderScalar(value: YamlScalar, simpleKey: boolean, indentStep: number): RenderedScalar {
  if (value === null) return { inline: 'null' };
  if (typeof value === 'boolean') return { inline: value ? 'true' : 'false' };
  if (typeof value === 'number') return { inline: formatGoFloat(value) };
  switch (styleFor(value, simpleKey)) {
    case 'plain':
      return { inline: value };
    case 'single':
      return { inline: `'${value.replaceAll("'", "''")}'` };
    case 'double':
      return { inline: doubleQuoted(value) };
    case 'literal': {
      const body = value.endsWith('\n') ? value.slice(0, -1) : value;
      return { inline: literalHeader(value, indentStep), blockLines: body.split('\n') };
    }
  }
}
