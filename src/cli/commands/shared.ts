// Flags and input handling shared by the `gen` commands.

import { loadSecretsBundle, parseContract, type SecretsBundle, type TalosContract } from '../../talos/config';
import type { Flags, FlagSpec } from '../args';
import type { CommandIO } from '../io';

export const FORCE_FLAG: FlagSpec = { name: 'force', description: 'overwrite an existing output file' };

export function secretsFlag(required: boolean): FlagSpec {
  return { name: 'secrets', value: 'FILE', description: 'secrets bundle (secrets.yaml, as talosctl gen secrets writes it)', required };
}

export function outputFlag(description: string): FlagSpec {
  return { name: 'output', short: 'o', value: 'FILE', description };
}

export function contractOf(version: string | undefined): TalosContract | undefined {
  return version === undefined ? undefined : parseContract(version);
}

export function readBundle(io: CommandIO, path: string): SecretsBundle {
  return loadSecretsBundle(io.readFile(path, 'secrets bundle'));
}

/** Writes a command's result to -o FILE (owner-only: it holds keys) or stdout. */
export function writeResult(io: CommandIO, flags: Flags, text: string): void {
  const output = flags.string('output');
  if (output === undefined) io.stdout(text);
  else io.writeOutput(output, text, { mode: 0o600, force: flags.bool('force') });
}
