#!/usr/bin/env node
// talos-capi command line. Commands are looked up by their word path (`gen config`); adding
// one (`render`, `run`) means adding it to COMMANDS. Bad input ends with exit code 2 (usage)
// or 1 (anything else) and one line on stderr — never a stack trace.

import { Flags, flagUsage, parseFlags, UsageError } from './args';
import type { Command, FlagCommand } from './commands/command';
import { genConfig } from './commands/gen-config';
import { genSecrets } from './commands/gen-secrets';
import { genTalosconfig } from './commands/gen-talosconfig';
import { render } from './commands/render';
import { run } from './commands/run';
import { processIO, type CommandIO } from './io';

export const COMMANDS: readonly Command[] = [genSecrets, genConfig, genTalosconfig, render, run];

const HELP_FLAGS = new Set(['--help', '-h', 'help']);

function overview(): string {
  const lines = COMMANDS.map((c) => `  ${c.path.join(' ').padEnd(20)} ${c.summary}`);
  return `usage: talos-capi <command> [flags]\n\ncommands:\n${lines.join('\n')}\n\nRun "talos-capi <command> --help" for the flags of a command.\n`;
}

function commandHelp(command: FlagCommand): string {
  return `usage: talos-capi ${command.path.join(' ')} [flags]\n\n${command.summary}\n\nflags:\n${flagUsage(command.flags)}\n`;
}

/** The command whose word path starts `args`, and the remaining arguments. */
function findCommand(args: readonly string[]): { command: Command; rest: string[] } | undefined {
  const matches = COMMANDS.filter((c) => c.path.every((word, i) => args[i] === word));
  const command = matches.sort((a, b) => b.path.length - a.path.length)[0];
  return command ? { command, rest: args.slice(command.path.length) } : undefined;
}

/** One line, whatever the error carried. */
function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, '; ').trim();
}

/** Runs the CLI; returns the exit code. */
export async function main(args: readonly string[], io: CommandIO = processIO): Promise<number> {
  const write = (text: string): void => io.stdout(text);
  if (args.length === 1 && HELP_FLAGS.has(args[0] ?? '')) {
    write(overview());
    return 0;
  }
  const found = findCommand(args);
  try {
    if (args.length === 0) throw new UsageError('no command given (see talos-capi --help)');
    if (!found) {
      const group = COMMANDS.filter((c) => c.path[0] === args[0]).map((c) => c.path.join(' '));
      throw new UsageError(
        group.length > 0 ? `"${args.join(' ')}" is incomplete: use one of ${group.join(', ')}` : `unknown command "${args[0]}"`,
      );
    }
    if ('passThrough' in found.command) return await found.command.run(found.rest, io);
    if (found.rest.some((arg) => HELP_FLAGS.has(arg))) {
      write(commandHelp(found.command));
      return 0;
    }
    const flags = new Flags(parseFlags(found.rest, found.command.flags), found.command.flags);
    if (flags.positionals.length > 0) throw new UsageError(`unexpected argument "${flags.positionals[0]}"`);
    await found.command.run(flags, io);
    return 0;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(`talos-capi: ${oneLine(message)}\n`);
    if (process.env.TALOS_CAPI_DEBUG && err instanceof Error && err.stack) io.stderr(`${err.stack}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}

if (require.main === module) {
  // main never rejects: every failure becomes an exit code and a message.
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
