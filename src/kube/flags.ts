// A small command-line flag parser in pflag's manner: --name=value, --name value, boolean
// --name / --name=false, aliases, Go-style durations. Unknown flags are errors.

export type FlagType = 'string' | 'boolean' | 'number' | 'duration';
export type FlagValue = string | boolean | number;

export interface FlagSpec {
  name: string;
  type: FlagType;
  help: string;
  aliases?: string[];
  default?: FlagValue;
}

export class FlagError extends Error {
  override readonly name = 'FlagError';
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go duration ("1m30s", "500ms", "2h") → milliseconds. A bare number is taken as seconds. */
export function parseDuration(text: string): number {
  const value = text.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const part = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let offset = 0;
  while (offset < value.length) {
    part.lastIndex = offset;
    const match = part.exec(value);
    if (!match) throw new FlagError(`invalid duration "${text}" (e.g. 15s, 1m30s, 500ms)`);
    total += Number(match[1]) * DURATION_UNITS[match[2]!]!;
    offset = part.lastIndex;
  }
  if (offset === 0) throw new FlagError(`invalid duration "${text}"`);
  return total;
}

function convert(spec: FlagSpec, raw: string): FlagValue {
  switch (spec.type) {
    case 'string':
      return raw;
    case 'boolean':
      if (['true', '1', 't', 'T', 'TRUE', 'True'].includes(raw)) return true;
      if (['false', '0', 'f', 'F', 'FALSE', 'False'].includes(raw)) return false;
      throw new FlagError(`--${spec.name}: invalid boolean "${raw}"`);
    case 'number': {
      const value = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(value)) throw new FlagError(`--${spec.name}: invalid number "${raw}"`);
      return value;
    }
    case 'duration':
      try {
        return parseDuration(raw);
      } catch (error) {
        throw new FlagError(`--${spec.name}: ${(error as Error).message}`);
      }
  }
}

export interface ParsedFlags {
  values: Record<string, FlagValue | undefined>;
  /** Names given explicitly on the command line (canonical names). */
  given: Set<string>;
  positional: string[];
}

export function parseFlags(specs: readonly FlagSpec[], argv: readonly string[]): ParsedFlags {
  const byName = new Map<string, FlagSpec>();
  for (const spec of specs) for (const name of [spec.name, ...(spec.aliases ?? [])]) byName.set(name, spec);
  // Duration defaults may be written as text ("15s") for readable usage output.
  const values: Record<string, FlagValue | undefined> = Object.fromEntries(
    specs.map((s) => [s.name, s.type === 'duration' && typeof s.default === 'string' ? parseDuration(s.default) : s.default]),
  );
  const given = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    const match = /^--?([^=]+)(?:=(.*))?$/s.exec(arg);
    if (!match || arg === '-') {
      positional.push(arg);
      continue;
    }
    const [, name, inline] = match;
    const spec = byName.get(name!);
    if (!spec) throw new FlagError(`unknown flag --${name}`);
    let raw = inline;
    if (raw === undefined) {
      if (spec.type === 'boolean') raw = 'true';
      else if (i + 1 < argv.length) raw = argv[++i];
      else throw new FlagError(`flag --${name} needs a value`);
    }
    values[spec.name] = convert(spec, raw!);
    given.add(spec.name);
  }
  return { values, given, positional };
}

export function flagUsage(specs: readonly FlagSpec[]): string {
  return specs
    .map((spec) => {
      const names = [spec.name, ...(spec.aliases ?? [])].map((n) => (n.length === 1 ? `-${n}` : `--${n}`)).join(', ');
      const fallback = spec.default === undefined || spec.default === '' ? '' : ` (default ${JSON.stringify(spec.default)})`;
      return `  ${names} ${spec.type === 'boolean' ? '' : spec.type}\n      ${spec.help}${fallback}`;
    })
    .join('\n');
}
