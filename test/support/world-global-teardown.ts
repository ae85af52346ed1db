import { rmSync } from 'node:fs';
import { stopWorld } from '../world/world';
import type { WorldRun } from './world-global-setup';

export default async function globalTeardown(): Promise<void> {
  const run = (globalThis as { __talosCapiWorld?: WorldRun }).__talosCapiWorld;
  if (!run) return;
  clearInterval(run.sampler);
  const peaks = [...run.peaks].map(([name, mib]) => `${name} ${mib}`).join(', ');
  process.stderr.write(`\n[world] peak RSS MiB: ${peaks}; total ${run.peakTotal}\n`);
  if (!run.owned) return;
  await stopWorld(run.dir);
  if (!process.env.WORLD_KEEP) rmSync(run.dir, { recursive: true, force: true });
}
