// Jest globalSetup for the e2e project: one world for the whole run (test bed, real Cluster API
// core, simulated infrastructure, our operator), shared by every scenario — each works in its own
// namespace with its own clusters, so they run side by side. WORLD_DIR reuses a running world
// (`npm run testbed -- up --world --dir DIR`). Peak RSS per component is sampled for the report.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ProcessStatus, readWorld, startWorld, worldFile, worldStatus } from '../world/world';

const SAMPLE_INTERVAL_MS = 2_000;

export interface WorldRun {
  dir: string;
  owned: boolean;
  peaks: Map<string, number>;
  peakTotal: number;
  sampler: NodeJS.Timeout;
}

function sample(run: WorldRun): void {
  let rows: ProcessStatus[];
  try {
    rows = worldStatus(run.dir);
  } catch {
    return;
  }
  for (const row of rows) run.peaks.set(row.name, Math.max(run.peaks.get(row.name) ?? 0, row.rssMiB));
  run.peakTotal = Math.max(run.peakTotal, rows.reduce((sum, row) => sum + row.rssMiB, 0));
}

export default async function globalSetup(): Promise<void> {
  const reuse = process.env.WORLD_DIR;
  const owned = !(reuse && existsSync(worldFile(reuse)));
  const dir = owned ? mkdtempSync(join(tmpdir(), 'talos-capi-world-')) : reuse!;
  if (owned) {
    const started = Date.now();
    const state = await startWorld({ dir });
    const phases = Object.entries(state.timings).map(([phase, s]) => `${phase} ${s.toFixed(1)}s`).join(', ');
    process.stderr.write(`\n[world] up in ${((Date.now() - started) / 1000).toFixed(1)} s (${phases}) in ${dir}\n`);
  }
  process.env.WORLD_DIR = dir;
  process.env.KUBECONFIG = readWorld(dir).kubeconfig;
  const run: WorldRun = { dir, owned, peaks: new Map(), peakTotal: 0, sampler: setInterval(() => sample(run), SAMPLE_INTERVAL_MS) };
  sample(run);
  (globalThis as { __talosCapiWorld?: WorldRun }).__talosCapiWorld = run;
}
