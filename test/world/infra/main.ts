// The simulated infrastructure provider as a process:
//   tsx test/world/infra/main.ts --kubeconfig K --state-dir D [--sim-control URL] [--health-addr H]
// Without --sim-control it starts its own Talos simulator; either way <state-dir>/infra.json
// names the simulator's control URL (for fault injection). SIGTERM/SIGINT stop the controllers,
// kubelets, workload clusters and an own simulator.
import { KubeClient } from '../../../src/kube/client/client';
import { Flags, flagUsage, parseFlags, UsageError, type FlagSpec } from '../../../src/cli/args';
import { createLogger, isLogLevel } from '../../../src/kube/log/logger';
import { startSimInfra } from './sim-infra';

const FLAGS: FlagSpec[] = [
  { name: 'kubeconfig', value: 'FILE', description: 'kubeconfig of the management cluster' },
  { name: 'state-dir', value: 'DIR', description: 'folder for infra.json and the workload clusters (required)' },
  { name: 'sim-control', value: 'URL', description: 'control URL of a running Talos simulator (default: start one)' },
  { name: 'health-addr', value: 'HOST:PORT', default: '127.0.0.1:0', description: 'address of /healthz and /readyz' },
  { name: 'namespace', value: 'NAME', description: 'watch only this namespace' },
  { name: 'node-monitor-grace-period', value: 'DURATION', description: 'workload clusters: time before a silent Node is NotReady' },
  { name: 'log-level', value: 'LEVEL', default: 'info', description: 'fatal, error, warn, info, debug, trace, silent' },
  { name: 'help', short: 'h', description: 'show this help' },
];

async function main(argv: string[]): Promise<number> {
  const flags = new Flags(parseFlags(argv, FLAGS), FLAGS);
  if (flags.bool('help')) {
    process.stdout.write(`Usage: sim-infra [flags]\n${flagUsage(FLAGS)}\n`);
    return 0;
  }
  const level = flags.string('log-level') ?? 'info';
  if (!isLogLevel(level)) throw new UsageError(`--log-level: unknown level ${level}`);
  const logger = createLogger({ level, name: 'sim-infra' });
  const grace = flags.duration('node-monitor-grace-period');
  const infra = await startSimInfra({
    client: KubeClient.load(flags.string('kubeconfig'), { qps: 100, burst: 200 }),
    stateDir: flags.required('state-dir'),
    simControlUrl: flags.string('sim-control'),
    healthAddr: flags.string('health-addr'),
    namespace: flags.string('namespace'),
    workload: grace === undefined ? {} : { nodeMonitorGracePeriodSeconds: Math.ceil(grace / 1000) },
    logger,
  });
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutting down');
      infra.stop().then(resolve, (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        resolve();
      });
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`sim-infra: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
