// The operator: flags → manager + webhook server → run until SIGTERM/SIGINT. `talos-capi run`
// (the image's entry point, through bin/talos-capi.cjs) comes here.
import { registerControllers } from './controllers';
import { KubeClient } from './kube/client/client';
import { UsageError } from './cli/args';
import { createLogger } from './kube/log/logger';
import { Manager } from './kube/manager/manager';
import { RuntimeMetrics } from './kube/http/metrics';
import { type OperatorFlags, describeFlags, operatorUsage, parseOperatorFlags, resolveLeaseNamespace } from './operator-flags';
import { startWebhookServer } from './webhooks/server';
import { readServingCertificate } from './webhooks/certs';
import { registerProviderMetrics } from './metrics/provider-metrics';

export interface OperatorOutput {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processOutput: OperatorOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Runs the operator until it is told to stop; returns the exit code (2 for bad flags). */
export async function runOperator(argv: readonly string[], output: OperatorOutput = processOutput): Promise<number> {
  let flags: OperatorFlags;
  try {
    flags = parseOperatorFlags([...argv]);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    output.stderr(`${error.message}\n\n${operatorUsage()}`);
    return 2;
  }
  if (flags.help) {
    output.stdout(operatorUsage());
    return 0;
  }
  const logger = createLogger({ level: flags.logLevel, name: 'talos-capi' });
  logger.info({ flags: describeFlags(flags) }, 'starting talos-capi');
  const metrics = new RuntimeMetrics({ defaultMetrics: true });
  registerProviderMetrics(metrics.registry);
  const client = KubeClient.load(flags.kubeconfig || undefined, { qps: flags.kubeApiQps, burst: flags.kubeApiBurst, metrics });
  const manager = new Manager({
    client, logger, metrics,
    namespace: flags.namespace || undefined,
    watchFilter: flags.watchFilter || undefined,
    leaderElection: flags.leaderElect
      ? {
          id: flags.leaderElectionId,
          namespace: resolveLeaseNamespace(flags.leaderElectionNamespace, client.contextNamespace),
          leaseDurationMs: flags.leaseDurationMs, renewDeadlineMs: flags.renewDeadlineMs, retryPeriodMs: flags.retryPeriodMs,
        }
      : undefined,
    healthAddr: flags.healthAddr,
    metricsAddr: flags.metricsAddr,
    insecureMetrics: flags.insecureDiagnostics,
    metricsCertificate: flags.metricsCertDir ? readServingCertificate(flags.metricsCertDir, 'metrics') : undefined,
    gracefulShutdownTimeoutMs: flags.gracefulShutdownTimeoutMs,
    syncPeriodMs: flags.syncPeriodMs,
    concurrency: flags.concurrency,
    defaultConcurrency: flags.defaultConcurrency,
  });
  const webhookRoutes = registerControllers(manager, flags);
  // Every replica serves webhooks, leader or not: the apiserver may call any of them.
  const webhooks = flags.webhookPort >= 0
    ? await startWebhookServer({ ...webhookRoutes, host: flags.webhookHost || undefined, port: flags.webhookPort, certDir: flags.webhookCertDir, logger })
    : undefined;
  if (webhooks) logger.info({ url: webhooks.url }, 'webhook server listening');
  manager.handleSignals();
  await manager.start();
  await manager.done;
  await webhooks?.close();
  return 0;
}
