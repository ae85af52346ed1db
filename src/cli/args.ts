// A small command-line flag parser: `--name value`, `--name=value`, repeatable flags, flags
// that take several values (`--endpoint a b c`), booleans, and short aliases (`-o`).

export interface FlagSpec {
  name: string;
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
}

export interface ParsedFlags {
  values: Map<string, string[]>;
  booleans: Set<string>;
  positionals: string[];
}

/** Wrong usage of the command line; the CLI exits 2 for these. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function findSpec(specs: readonly FlagSpec[], arg: string): { spec: FlagSpec; inline?: string } | undefined {
  if (arg.startsWith('--')) {
    const [name = '', inline] = arg.slice(2).split(/=(.*)/s, 2);
    const spec = specs.find((s) => s.name === name);
    return spec ? { spec, ...(inline !== undefined ? { inline } : {}) } : undefined;
  }
  const spec = specs.find((s) => s.short !== undefined && `-${s.short}` === arg);
  return spec ? { spec } : undefined;
}

const looksLikeFlag = (arg: string): boolean => /^--?[A-Za-z]/.test(arg);

export function parseFlags(args: readonly string[], specs: readonly FlagSpec[]): ParsedFlags {
  const parsed: ParsedFlags = { values: new Map(), booleans: new Set(), positionals: [] };
  const add = (spec: FlagSpec, value: string): void => {
    const list = parsed.values.get(spec.name) ?? [];
    if (list.length > 0 && !spec.repeatable && !spec.variadic) throw new UsageError(`--${spec.name} given more than once`);
    parsed.values.set(spec.name, [...list, value]);
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (!looksLikeFlag(arg)) {
      parsed.positionals.push(arg);
      continue;
    }
    const found = findSpec(specs, arg);
    if (!found) throw new UsageError(`unknown flag ${arg.split('=')[0]}`);
    const { spec, inline } = found;
    if (spec.value === undefined) {
      if (inline !== undefined) throw new UsageError(`--${spec.name} takes no value`);
      parsed.booleans.add(spec.name);
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
      const names = `${spec.short ? `-${spec.short}, ` : '    '}--${spec.name}${spec.value ? ` ${spec.value}` : ''}`;
      const notes = [spec.required ? 'required' : '', spec.repeatable || spec.variadic ? 'repeatable' : ''].filter(Boolean);
      return `  ${names.padEnd(34)} ${spec.description}${notes.length ? ` (${notes.join(', ')})` : ''}`;
    })
    .join('\n');
}

/** Accessors over parsed flags. */
export class Flags {
  constructor(private readonly parsed: ParsedFlags) {}

  string(name: string): string | undefined {
    return this.parsed.values.get(name)?.at(-1);
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
    return this.parsed.booleans.has(name);
  }

  get positionals(): string[] {
    return this.parsed.positionals;
  }
}
