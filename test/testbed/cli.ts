// `npm run testbed -- up|down|restart-apiserver|status --dir DIR [--world [--no-operator]]`
//   up --world: the test bed plus the real Cluster API core manager, the simulated infrastructure
//   provider (Talos nodes, workload clusters) and our operator (`--no-operator` leaves it out).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { readState, restartApiserver, startTestbed, stopTestbed, isRunning } from './testbed';
import { readWorld, startWorld, stopWorld, worldFile, worldStatus } from '../world/world';

function usage(): never {
  process.stderr.write('usage: npm run testbed -- up|down|restart-apiserver|status --dir DIR [--world [--no-operator]]\n');
  process.exit(2);
}

function phases(timings: Record<string, number>): string {
  return Object.entries(timings).map(([phase, s]) => `${phase} ${s.toFixed(1)}s`).join(', ');
}

async function up(dir: string, world: boolean, operator: boolean): Promise<void> {
  const started = Date.now();
  if (!world) {
    const state = await startTestbed({ dir });
    process.stdout.write(`test bed up in ${((Date.now() - started) / 1000).toFixed(1)} s (${phases(state.timings)})\n`);
    process.stdout.write(`server:     ${state.server}\nkubeconfig: ${state.kubeconfig}\n`);
    return;
  }
  const state = await startWorld({ dir, operator });
  process.stdout.write(`world up in ${((Date.now() - started) / 1000).toFixed(1)} s (${phases(state.timings)})\n`);
  process.stdout.write(`server:      ${state.server}\nkubeconfig:  ${state.kubeconfig}\n`);
  process.stdout.write(`simulator:   ${state.infra.simControlUrl}\n`);
  if (state.operator) process.stdout.write(`talos-capi:  webhooks ${state.operator.webhookUrl}, health http://${state.operator.healthAddress}\n`);
}

function status(dir: string): void {
  if (!existsSync(worldFile(dir))) {
    const state = readState(dir);
    process.stdout.write(`${isRunning(dir) ? 'running' : 'stopped'}: ${state.server} (etcd pid ${state.etcd.pid}, apiserver pid ${state.apiserver.pid})\n`);
    return;
  }
  const rows = worldStatus(dir);
  process.stdout.write(`world ${readWorld(dir).server}\n`);
  for (const row of rows) {
    const what = row.alive ? `${String(row.rssMiB).padStart(6)} MiB RSS in ${row.processes} process${row.processes === 1 ? '' : 'es'}` : 'stopped';
    process.stdout.write(`  ${row.name.padEnd(42)} pid ${String(row.pid).padEnd(8)} ${what}\n`);
    for (const child of row.children) {
      process.stdout.write(`    ${child.command.padEnd(40)} pid ${String(child.pid).padEnd(8)} ${String(child.rssMiB).padStart(6)} MiB RSS\n`);
    }
  }
  const total = rows.reduce((sum, row) => sum + row.rssMiB, 0);
  process.stdout.write(`  ${'total'.padEnd(42)} ${''.padEnd(12)} ${String(total).padStart(6)} MiB RSS\n`);
}

async function main(argv: string[]): Promise<void> {
  const command = argv[0];
  const dirIndex = argv.indexOf('--dir');
  const dirArg = dirIndex >= 0 ? argv[dirIndex + 1] : undefined;
  if (!command || !dirArg) usage();
  const dir = resolve(dirArg);
  switch (command) {
    case 'up':
      return up(dir, argv.includes('--world'), !argv.includes('--no-operator'));
    case 'down':
      if (existsSync(worldFile(dir))) await stopWorld(dir);
      else await stopTestbed(dir);
      process.stdout.write('stopped\n');
      return;
    case 'restart-apiserver':
      await restartApiserver(dir);
      process.stdout.write('kube-apiserver restarted\n');
      return;
    case 'status':
      return status(dir);
    default:
      usage();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`testbed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
