// A world without our operator, for a test that runs operator processes of its own: the shared one
// (WORLD_DIR) when it was brought up with `--no-operator`, else one of the test's own, stopped with it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWorld, startWorld, stopWorld, type WorldState } from './world';

export interface WorldWithoutOperator {
  state: WorldState;
  stop: () => Promise<void>;
}

/** `name` tells the test's own world folder (talos-capi-<name>-world-…) and its `[figures]` line apart. */
export async function worldWithoutOperator(name: string): Promise<WorldWithoutOperator> {
  const shared = process.env.WORLD_DIR ? readWorld(process.env.WORLD_DIR) : undefined;
  if (shared && !shared.operator) return { state: shared, stop: async () => undefined };
  const dir = mkdtempSync(join(tmpdir(), `talos-capi-${name}-world-`));
  const started = Date.now();
  const state = await startWorld({ dir, operator: false });
  process.stderr.write(`[figures] ${name}: the shared world runs our operator: a world of this test's own, without it, up in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return { state, stop: async () => { await stopWorld(dir); rmSync(dir, { recursive: true, force: true }); } };
}
