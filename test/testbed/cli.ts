// `npm run testbed -- up|down|restart-apiserver|status --dir DIR`
import { resolve } from 'node:path';
import { readState, restartApiserver, startTestbed, stopTestbed, isRunning } from './testbed';

function usage(): never {
  process.stderr.write('usage: npm run testbed -- up|down|restart-apiserver|status --dir DIR\n');
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  const command = argv[0];
  const dirIndex = argv.indexOf('--dir');
  const dirArg = dirIndex >= 0 ? argv[dirIndex + 1] : undefined;
  if (!command || !dirArg) usage();
  const dir = resolve(dirArg);
  switch (command) {
    case 'up': {
      const started = Date.now();
      const state = await startTestbed({ dir });
      const phases = Object.entries(state.timings).map(([phase, s]) => `${phase} ${s.toFixed(1)}s`).join(', ');
      process.stdout.write(`test bed up in ${((Date.now() - started) / 1000).toFixed(1)} s (${phases})\n`);
      process.stdout.write(`server:     ${state.server}\nkubeconfig: ${state.kubeconfig}\n`);
      return;
    }
    case 'down':
      await stopTestbed(dir);
      process.stdout.write('test bed stopped\n');
      return;
    case 'restart-apiserver':
      await restartApiserver(dir);
      process.stdout.write('kube-apiserver restarted\n');
      return;
    case 'status': {
      const state = readState(dir);
      process.stdout.write(`${isRunning(dir) ? 'running' : 'stopped'}: ${state.server} (etcd pid ${state.etcd.pid}, apiserver pid ${state.apiserver.pid})\n`);
      return;
    }
    default:
      usage();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`testbed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
