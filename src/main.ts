// Entry point: flags → manager → run until SIGTERM/SIGINT. Nothing else lives here.
import { registerControllers } from './controllers';
import { KubeClient } from './kube/client';
import { FlagError } from './kube/flags';
import { createLogger } from './kube/logger';
import { Manager } from './kube/manager';
import { RuntimeMetrics } from './kube/metrics';
import { type OperatorFlags, describeFlags, operatorUsage, parseOperatorFlags, resolveLeaseNamespace } from './kube/operator-flags';
import { providerWebhookRoutes } from './webhooks/routes';
import { startWebhookServer } from './webhooks/server';

async function main(argv: string[]): Promise<void> {
  let flags: OperatorFlags;
  try {
    flags = parseOperatorFlags(argv);
  } catch (error) {
    if (!(error instanceof FlagError)) throw error;
    process.stderr.write(`${error.message}\n\n${operatorUsage()}`);
    process.exit(2);
  }
  if (flags.help) {
    process.stdout.write(operatorUsage());
    return;
  }
  const logger = createLogger({ level: flags.logLevel, name: 'talos-capi' });
  logger.info({ flags: describeFlags(flags) }, 'starting talos-capi');
  const metrics = new RuntimeMetrics({ defaultMetrics: true });
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
    gracefulShutdownTimeoutMs: flags.gracefulShutdownTimeoutMs,
    syncPeriodMs: flags.syncPeriodMs,
    concurrency: flags.concurrency,
    defaultConcurrency: flags.defaultConcurrency,
  });
  registerControllers(manager, flags);
  // Every replica serves webhooks, leader or not: the apiserver may call any of them.
  const webhooks = flags.webhookPort >= 0
    ? await startWebhookServer({ ...providerWebhookRoutes(), host: flags.webhookHost || undefined, port: flags.webhookPort, certDir: flags.webhookCertDir, logger })
    : undefined;
  if (webhooks) logger.info({ url: webhooks.url }, 'webhook server listening');
  manager.handleSignals();
  await manager.start();
  await manager.done;
  await webhooks?.close();
}

main(process.argv.slice(2)).catch((error: unknown) => {
  createLogger().fatal({ err: error }, 'talos-capi failed');
  process.exit(1);
});
