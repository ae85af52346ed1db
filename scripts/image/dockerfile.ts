// The Dockerfile subset our image uses, read into stages of instructions, and .dockerignore
// matching, so that a test can run the image's own steps without a Docker engine
// (scripts/image/build.ts). Anything outside the subset is refused rather than approximated: a
// Dockerfile the test cannot reproduce faithfully fails it.

export type Instruction =
  | { op: 'WORKDIR'; path: string }
  | { op: 'COPY'; from?: string; sources: string[]; dest: string }
  | { op: 'RUN'; command: string }
  | { op: 'ENV'; name: string; value: string }
  | { op: 'USER'; user: string }
  | { op: 'EXPOSE'; ports: string[] }
  | { op: 'ENTRYPOINT'; argv: string[] };

export interface Stage {
  base: string;
  name?: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** Parser directives (`# syntax=…`), only honoured above every other line. */
  directives: Record<string, string>;
  stages: Stage[];
}

const DIRECTIVE = /^#\s*([a-zA-Z]+)\s*=\s*(\S.*?)\s*$/;

/** Logical lines: comments dropped (also inside a continuation), `\`-continued lines joined. */
function logicalLines(lines: string[]): string[] {
  const out: string[] = [];
  let pending = '';
  for (const raw of lines) {
    if (/^\s*#/.test(raw)) continue;
    const continued = /\\\s*$/.test(raw);
    const text = continued ? raw.replace(/\\\s*$/, '') : raw;
    pending = pending ? `${pending} ${text.trim()}` : text.trim();
    if (continued) continue;
    if (pending) out.push(pending);
    pending = '';
  }
  if (pending) out.push(pending);
  return out;
}

function words(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

function parseCopy(args: string): Instruction {
  const parts = words(args);
  let from: string | undefined;
  while (parts[0]?.startsWith('--')) {
    const flag = parts.shift()!;
    const match = /^--from=(.+)$/.exec(flag);
    if (!match) throw new Error(`COPY ${flag} is not reproduced without Docker`);
    from = match[1];
  }
  if (parts.length < 2 || args.trimStart().startsWith('[')) throw new Error(`COPY needs sources and a destination (shell form): COPY ${args}`);
  if (parts.some((part) => /[*?[]/.test(part))) throw new Error(`COPY with wildcards is not reproduced: COPY ${args}`);
  const dest = parts.pop()!;
  if (parts.length > 1 && !dest.endsWith('/')) throw new Error(`COPY of several sources needs a destination ending in /: COPY ${args}`);
  return { op: 'COPY', ...(from ? { from } : {}), sources: parts, dest };
}

function parseEntrypoint(args: string): Instruction {
  let argv: unknown;
  try {
    argv = JSON.parse(args);
  } catch {
    argv = undefined;
  }
  // The shell form runs /bin/sh -c as PID 1, which does not pass SIGTERM on to node.
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((word) => typeof word === 'string')) {
    throw new Error(`ENTRYPOINT must be the exec form (a JSON array of strings): ENTRYPOINT ${args}`);
  }
  return { op: 'ENTRYPOINT', argv };
}

function parseEnv(args: string): Instruction[] {
  return words(args).map((pair) => {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=([^"'$\\]*)$/.exec(pair);
    if (!match) throw new Error(`ENV takes NAME=value pairs without quotes or expansion: ENV ${args}`);
    return { op: 'ENV', name: match[1]!, value: match[2]! };
  });
}

function parseInstruction(op: string, args: string): Instruction[] {
  switch (op) {
    case 'WORKDIR': return [{ op, path: args }];
    case 'COPY': return [parseCopy(args)];
    case 'RUN':
      if (args.startsWith('[') || args.startsWith('--')) throw new Error(`RUN takes a shell command without flags: RUN ${args}`);
      return [{ op, command: args }];
    case 'ENV': return parseEnv(args);
    case 'USER': return [{ op, user: args }];
    case 'EXPOSE': return [{ op, ports: words(args) }];
    case 'ENTRYPOINT': return [parseEntrypoint(args)];
    default: throw new Error(`${op} is not reproduced without Docker`);
  }
}

export function parseDockerfile(text: string): Dockerfile {
  const lines = text.split('\n');
  const directives: Record<string, string> = {};
  let first = 0;
  for (; first < lines.length; first++) {
    const match = DIRECTIVE.exec(lines[first]!);
    if (!match) break;
    directives[match[1]!.toLowerCase()] = match[2]!;
  }
  const stages: Stage[] = [];
  for (const line of logicalLines(lines.slice(first))) {
    const [, keyword, rest] = /^(\S+)\s*(.*)$/.exec(line)!;
    const op = keyword!.toUpperCase();
    const args = rest!.trim();
    if (op === 'FROM') {
      const [base, as, name, ...extra] = words(args);
      if (!base || extra.length || (as !== undefined && (as.toUpperCase() !== 'AS' || !name))) throw new Error(`FROM image [AS name]: FROM ${args}`);
      stages.push({ base, ...(name ? { name } : {}), instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`${op} before the first FROM`);
    stage.instructions.push(...parseInstruction(op, args));
  }
  if (stages.length === 0) throw new Error('no FROM in the Dockerfile');
  return { directives, stages };
}

/** The one value of a stage's last `op` instruction, if it has one. */
export function lastOf<K extends Instruction['op']>(stage: Stage, op: K): Extract<Instruction, { op: K }> | undefined {
  return stage.instructions.filter((i): i is Extract<Instruction, { op: K }> => i.op === op).at(-1);
}

export interface IgnoreRule {
  pattern: RegExp;
  exclude: boolean;
}

function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` is any number of folders, none included.
      const slash = glob[i + 2] === '/';
      source += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** .dockerignore rules in order; `!` re-includes. */
export function parseDockerignore(text: string): IgnoreRule[] {
  return text.split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#')).map((line) => {
    const exclude = !line.startsWith('!');
    const path = (exclude ? line : line.slice(1)).replace(/^\/+/, '').replace(/\/+$/, '');
    return { pattern: globToRegExp(path), exclude };
  });
}

/** Docker's rule: the last rule matching the path or one of its parent folders decides. */
export function isIgnored(rules: readonly IgnoreRule[], relativePath: string): boolean {
  const parts = relativePath.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) {
    if (candidates.some((candidate) => rule.pattern.test(candidate))) ignored = rule.exclude;
  }
  return ignored;
}
