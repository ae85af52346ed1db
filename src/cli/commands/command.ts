// What a CLI command is: a word path (`gen config`), its flags, and what it does.

import type { Flags, FlagSpec } from '../args';
import type { CommandIO } from '../io';

interface CommandBase {
  /** Words that select the command, e.g. ['gen', 'config']. */
  path: readonly string[];
  summary: string;
}

/** A command whose flags the CLI parses. */
export interface FlagCommand extends CommandBase {
  flags: readonly FlagSpec[];
  run(flags: Flags, io: CommandIO): Promise<void>;
}

/** A command that takes its arguments as given (`run` hands them to the operator's own flag parser). */
export interface PassThroughCommand extends CommandBase {
  passThrough: true;
  run(args: readonly string[], io: CommandIO): Promise<number>;
}

export type Command = FlagCommand | PassThroughCommand;
