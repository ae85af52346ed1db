// What a CLI command is: a word path (`gen config`), its flags, and what it does.

import type { Flags, FlagSpec } from '../args';
import type { CommandIO } from '../io';

export interface Command {
  /** Words that select the command, e.g. ['gen', 'config']. */
  path: readonly string[];
  summary: string;
  flags: readonly FlagSpec[];
  run(flags: Flags, io: CommandIO): Promise<void>;
}
