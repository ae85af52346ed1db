// File access for CLI commands, with errors worded for the command line.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** A failure the user can act on (missing file, bad content); the CLI exits 1 for these. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

export interface CommandIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readFile: (path: string, what: string) => string;
  /** Writes `text` to `path` ('-' = stdout). */
  writeOutput: (path: string, text: string, options?: { mode?: number; force?: boolean }) => void;
}

export function readTextFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (code ?? 'unreadable');
    throw new CliError(`cannot read ${what} ${path}: ${reason}`);
  }
}

export const processIO: CommandIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readFile: readTextFile,
  writeOutput: (path, text, options = {}) => {
    if (path === '-') {
      process.stdout.write(text);
      return;
    }
    if (!options.force && existsSync(path)) throw new CliError(`${path} already exists (use --force to overwrite)`);
    try {
      writeFileSync(path, text, { mode: options.mode ?? 0o644 });
    } catch (err) {
      throw new CliError(`cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? 'failed'}`);
    }
  },
};

/**
 * A flag value that is either inline text or `@path` naming a file (as talosctl's
 * --config-patch takes them).
 */
export function inlineOrFile(io: CommandIO, value: string, what: string): string {
  return value.startsWith('@') ? io.readFile(value.slice(1), what) : value;
}
