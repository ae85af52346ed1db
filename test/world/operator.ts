// Our operator in the world, as a user runs it out of cluster: `talos-capi run` (bin/talos-capi.cjs,
// from the sources) as its own process group with leader election and its webhook server, our CRDs'
// conversion and our validating webhooks pointed at it on loopback.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findLogField } from '../support/operator-process';
import { generateWebhookCerts, registerWebhooks, writeWebhookCerts } from '../support/webhook-certs';
import { freePort, isAlive, type ProcessRecord, startProcess, stopProcess } from '../testbed/testbed';

const REPO_ROOT = resolve(__dirname, '..', '..');
const LAUNCHER = join(REPO_ROOT, 'bin', 'talos-capi.cjs');
const START_TIMEOUT_MS = 120_000;

export interface WorldOperator {
  process: ProcessRecord;
  webhookUrl: string;
  /** CA of the webhook serving certificate (PEM). */
  webhookCaPem: string;
  healthAddress: string;
  metricsAddress: string;
}

export interface StartWorldOperatorOptions {
  dir: string;
  kubeconfig: string;
  /** Extra `talos-capi run` flags (e.g. a watch filter). */
  args?: string[];
  /** Name of this instance: its log file and lease holder differ per instance. */
  instance?: string;
  /** Registers the webhooks when the operator's own identity may not (default: `kubeconfig`). */
  adminKubeconfig?: string;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Waits for /healthz, reading only what this run appended to the log (a reused folder keeps older runs'). */
async function waitHealthy(record: ProcessRecord, logOffset: number): Promise<{ healthAddress: string; metricsAddress: string }> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const log = existsSync(record.log) ? readFileSync(record.log).subarray(logOffset).toString('utf8') : '';
    const healthAddress = findLogField(log, 'healthProbeAddress');
    const metricsAddress = findLogField(log, 'metricsAddress');
    if (healthAddress && metricsAddress && (await fetch(`http://${healthAddress}/healthz`).then((r) => r.ok, () => false))) {
      return { healthAddress, metricsAddress };
    }
    if (!isAlive(record.pid) || Date.now() > deadline) {
      throw new Error(`talos-capi run did not become healthy (${isAlive(record.pid) ? 'timed out' : 'exited'}); log ${record.log}:\n${log.slice(-3000)}`);
    }
    await sleep(200);
  }
}

/** Starts the operator (webhook certificates in DIR/operator-certs) and registers its webhooks. */
export async function startWorldOperator(options: StartWorldOperatorOptions): Promise<WorldOperator> {
  const instance = options.instance ?? 'operator';
  const certDir = join(options.dir, `${instance}-certs`);
  mkdirSync(certDir, { recursive: true });
  const certs = await generateWebhookCerts();
  writeWebhookCerts(certDir, certs);
  const webhookPort = await freePort();
  const args = [
    LAUNCHER, 'run',
    `--kubeconfig=${options.kubeconfig}`,
    '--leader-elect',
    '--leader-election-namespace=default',
    '--health-addr=127.0.0.1:0',
    // Plain HTTP /metrics, read by the benchmarks and tests without a token.
    '--metrics-bind-address=127.0.0.1:0', '--insecure-diagnostics',
    '--webhook-host=127.0.0.1',
    `--webhook-port=${webhookPort}`,
    `--webhook-cert-dir=${certDir}`,
    ...(options.args ?? []),
  ];
  // From the sources: a dist/ left by an earlier `npm run build` may be stale.
  const logPath = join(options.dir, `${instance}.log`);
  const logOffset = existsSync(logPath) ? statSync(logPath).size : 0;
  const record = startProcess(process.execPath, args, logPath, { ...process.env, TALOS_CAPI_SOURCE: '1' });
  try {
    const addresses = await waitHealthy(record, logOffset);
    const webhookUrl = `https://127.0.0.1:${webhookPort}`;
    await registerWebhooks(options.adminKubeconfig ?? options.kubeconfig, { url: webhookUrl, caBundle: certs.caPem });
    return { process: record, webhookUrl, webhookCaPem: certs.caPem, ...addresses };
  } catch (error) {
    await stopProcess(record, 5_000);
    throw error;
  }
}

/** SIGTERM (graceful: the lease is released), SIGKILL after the timeout. */
export function stopWorldOperator(operator: Pick<WorldOperator, 'process'>, timeoutMs = 20_000): Promise<void> {
  return stopProcess(operator.process, timeoutMs);
}
