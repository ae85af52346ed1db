// The one command-line flag parser (CLI commands, the operator, test programs): `--name value`,
// `--name=value`, long aliases (`--enable-leader-election`), a short alias (`-o`), booleans
// (`--force`, `--leader-elect=false`), repeatable flags, flags that take several values
// (`--endpoint a b c`), required flags, and typed reads (numbers, Go-style durations) with defaults.
import { errorMessage } from '../util/errors';

export interface FlagSpec {
  name: string;
  /** Other long names, e.g. upstream spellings. */
  aliases?: readonly string[];
  /** Single-letter alias, e.g. 'o' for -o. */
  short?: string;
  description: string;
  /** Placeholder shown in usage, e.g. 'FILE'; boolean flags have none. */
  value?: string;
  /** May be given several times; values accumulate. */
  repeatable?: boolean;
  /** Takes every following argument up to the next flag (implies repeatable). */
  variadic?: boolean;
  required?: boolean;
  /** Used when the flag is absent, and shown in usage. */
  default?: string;
}

export interface ParsedFlags {
  values: Map<string, string[]>;
  /** Boolean flags given, with their value (`--x` is true, `--x=false` false). */
  booleans: Map<string, boolean>;
  positionals: string[];
}

/** Wrong usage of the command line; programs exit 2 for these. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function findSpec(specs: readonly FlagSpec[], arg: string): { spec: FlagSpec; inline?: string } | undefined {
  if (arg.startsWith('--')) {
    const [name = '', inline] = arg.slice(2).split(/=(.*)/s, 2);
    const spec = specs.find((s) => s.name === name || s.aliases?.includes(name));
    return spec ? { spec, ...(inline !== undefined ? { inline } : {}) } : undefined;
  }
  const spec = specs.find((s) => s.short !== undefined && `-${s.short}` === arg);
  return spec ? { spec } : undefined;
}

// "-1" is a value (a negative port), "-o" a flag.
const looksLikeFlag = (arg: string): boolean => /^--?[A-Za-z]/.test(arg);

const BOOLEAN_TEXT: Record<string, boolean> = { true: true, false: false };

export function parseFlags(args: readonly string[], specs: readonly FlagSpec[]): ParsedFlags {
  const parsed: ParsedFlags = { values: new Map(), booleans: new Map(), positionals: [] };
  // A single-valued flag given twice keeps the last value, as Go's flag packages do: deploy
  // manifests append overrides (the Helm chart's free-form `flags`) after the fixed flags.
  const add = (spec: FlagSpec, value: string): void => {
    const list = spec.repeatable || spec.variadic ? (parsed.values.get(spec.name) ?? []) : [];
    parsed.values.set(spec.name, [...list, value]);
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--') {
      parsed.positionals.push(...args.slice(i + 1));
      break;
    }
    if (!looksLikeFlag(arg)) {
      parsed.positionals.push(arg);
      continue;
    }
    const found = findSpec(specs, arg);
    if (!found) throw new UsageError(`unknown flag ${arg.split('=')[0]}`);
    const { spec, inline } = found;
    if (spec.value === undefined) {
      const value = inline === undefined ? true : BOOLEAN_TEXT[inline];
      if (value === undefined) throw new UsageError(`--${spec.name} takes no value but true or false (got "${inline}")`);
      parsed.booleans.set(spec.name, value);
      continue;
    }
    if (inline !== undefined) {
      add(spec, inline);
      continue;
    }
    const next = args[i + 1];
    if (next === undefined || looksLikeFlag(next)) throw new UsageError(`--${spec.name} needs a value (${spec.value})`);
    add(spec, next);
    i++;
    while (spec.variadic && args[i + 1] !== undefined && !looksLikeFlag(args[i + 1] ?? '')) add(spec, args[++i] ?? '');
  }
  for (const spec of specs) {
    if (spec.required && !parsed.values.has(spec.name)) throw new UsageError(`--${spec.name} is required`);
  }
  return parsed;
}

export function flagUsage(specs: readonly FlagSpec[]): string {
  return specs
    .map((spec) => {
      const longNames = [spec.name, ...(spec.aliases ?? [])].map((name) => `--${name}`).join(', ');
      const names = `${spec.short ? `-${spec.short}, ` : '    '}${longNames}${spec.value ? ` ${spec.value}` : ''}`;
      const notes = [
        spec.required ? 'required' : '', spec.repeatable || spec.variadic ? 'repeatable' : '',
        spec.default ? `default ${JSON.stringify(spec.default)}` : '',
      ].filter(Boolean);
      // Long names push the description to its own line, still in the column.
      const column = names.length <= 34 ? names.padEnd(34) : `${names}\n${' '.repeat(36)}`;
      return `  ${column} ${spec.description}${notes.length ? ` (${notes.join(', ')})` : ''}`;
    })
    .join('\n');
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
    if (!match) throw new UsageError(`invalid duration "${text}" (e.g. 15s, 1m30s, 500ms)`);
    total += Number(match[1]) * DURATION_UNITS[match[2]!]!;
    offset = part.lastIndex;
  }
  if (offset === 0) throw new UsageError(`invalid duration "${text}"`);
  return total;
}

/** Accessors over parsed flags; absent flags read as their spec's default. */
export class Flags {
  private readonly defaults: Map<string, string>;

  constructor(private readonly parsed: ParsedFlags, specs: readonly FlagSpec[] = []) {
    this.defaults = new Map(specs.flatMap((spec) => (spec.default !== undefined ? [[spec.name, spec.default] as const] : [])));
  }

  /** True when the flag was on the command line (not defaulted). */
  given(name: string): boolean {
    return this.parsed.values.has(name) || this.parsed.booleans.has(name);
  }

  string(name: string): string | undefined {
    return this.parsed.values.get(name)?.at(-1) ?? this.defaults.get(name);
  }

  required(name: string): string {
    const value = this.string(name);
    if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
    return value;
  }

  list(name: string): string[] {
    return this.parsed.values.get(name) ?? [];
  }

  bool(name: string): boolean {
    return this.parsed.booleans.get(name) ?? this.defaults.get(name) === 'true';
  }

  number(name: string): number | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--${name}: invalid number "${text}"`);
    return value;
  }

  /** Milliseconds. */
  duration(name: string): number | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    try {
      return parseDuration(text);
    } catch (error) {
      throw new UsageError(`--${name}: ${errorMessage(error)}`);
    }
  }

  get positionals(): string[] {
    return this.parsed.positionals;
  }
}
