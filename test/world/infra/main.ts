// The simulated infrastructure provider as a process:
//   tsx test/world/infra/main.ts --kubeconfig K --state-dir D [--sim-control URL] [--health-addr H]
// Without --sim-control it starts its own Talos simulator; either way <state-dir>/infra.json
// names the simulator's control URL (for fault injection). SIGTERM/SIGINT stop the controllers,
// kubelets, workload clusters and an own simulator.
import { KubeClient } from '../../../src/kube/client';
import { FlagError, flagUsage, parseFlags, type FlagSpec } from '../../../src/kube/flags';
import { createLogger, isLogLevel } from '../../../src/kube/logger';
import { startSimInfra } from './sim-infra';

const FLAGS: FlagSpec[] = [
  { name: 'kubeconfig', type: 'string', help: 'kubeconfig of the management cluster' },
  { name: 'state-dir', type: 'string', help: 'folder for infra.json and the workload clusters' },
  { name: 'sim-control', type: 'string', help: 'control URL of a running Talos simulator (default: start one)' },
  { name: 'health-addr', type: 'string', help: 'address of /healthz and /readyz', default: '127.0.0.1:0' },
  { name: 'namespace', type: 'string', help: 'watch only this namespace' },
  { name: 'node-monitor-grace-period', type: 'duration', help: 'workload clusters: time before a silent Node is NotReady' },
  { name: 'log-level', type: 'string', help: 'fatal, error, warn, info, debug, trace, silent', default: 'info' },
  { name: 'help', type: 'boolean', help: 'show this help' },
];

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(FLAGS, argv);
  if (values.help) {
    process.stdout.write(`Usage: sim-infra [flags]\n${flagUsage(FLAGS)}\n`);
    return 0;
  }
  const stateDir = values['state-dir'] as string | undefined;
  if (!stateDir) throw new FlagError('--state-dir is required');
  const level = String(values['log-level']);
  if (!isLogLevel(level)) throw new FlagError(`--log-level: unknown level ${level}`);
  const logger = createLogger({ level, name: 'sim-infra' });
  const grace = values['node-monitor-grace-period'] as number | undefined;
  const infra = await startSimInfra({
    client: KubeClient.load(values.kubeconfig as string | undefined, { qps: 100, burst: 200 }),
    stateDir,
    simControlUrl: values['sim-control'] as string | undefined,
    healthAddr: String(values['health-addr']),
    namespace: values.namespace as string | undefined,
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
    process.exit(error instanceof FlagError ? 2 : 1);
  },
);
