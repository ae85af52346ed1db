// Starts the operator (`talos-capi run`, src/cli/main.ts through tsx) as a child process against the test bed, finds the
// probe and metrics addresses it bound (port 0) from its JSON log, and waits until /healthz answers.
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

const REPO_ROOT = resolve(__dirname, '../..');

export interface OperatorOptions {
  args?: string[];
  /** Defaults to $KUBECONFIG (set by the integration globalSetup). */
  kubeconfig?: string;
  startTimeoutMs?: number;
  /** Run the compiled operator (dist/src/cli/main.js, from `npm run build`) instead of the sources through tsx. */
  compiled?: boolean;
  /** Node.js flags before the script (--cpu-prof, --max-semi-space-size=…); NODE_OPTIONS refuses some. */
  nodeArgs?: string[];
}

export interface OperatorProcess {
  readonly pid: number;
  readonly healthAddress: string;
  readonly metricsAddress: string;
  /** Everything the process printed so far (JSON log lines). */
  output(): string;
  /** Value of a Prometheus sample (first match), undefined if absent. */
  metric(name: string, labels?: Record<string, string>): Promise<number | undefined>;
  signal(signal: NodeJS.Signals): void;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves when the process is gone. */
  stop(timeoutMs?: number): Promise<void>;
}

/** The first JSON log line field `field` that is a string. */
export function findLogField(output: string, field: string): string | undefined {
  for (const line of output.split('\n')) {
    if (!line.includes(`"${field}"`)) continue;
    try {
      const value = (JSON.parse(line) as Record<string, unknown>)[field];
      if (typeof value === 'string') return value;
    } catch {
      // partial line: the next poll sees it whole
    }
  }
  return undefined;
}

export function parseMetric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

export async function startOperator(options: OperatorOptions = {}): Promise<OperatorProcess> {
  const kubeconfig = options.kubeconfig ?? process.env.KUBECONFIG;
  if (!kubeconfig) throw new Error('no kubeconfig: set KUBECONFIG or pass one');
  const args = [
    ...(options.nodeArgs ?? []),
    ...(options.compiled ? ['dist/src/cli/main.js'] : ['--import', 'tsx', 'src/cli/main.ts']), 'run', `--kubeconfig=${kubeconfig}`,
    '--health-addr=127.0.0.1:0', '--metrics-bind-address=127.0.0.1:0', '--insecure-diagnostics',
    // No webhook server unless a test asks for one (it needs serving certificates).
    ...(options.args?.some((arg) => arg.startsWith('--webhook-port')) ? [] : ['--webhook-port=-1']),
    ...(options.args ?? []),
  ];
  const child: ChildProcess = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  let gone = false;
  void exited.then(() => (gone = true));

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  let healthAddress: string | undefined;
  let metricsAddress: string | undefined;
  for (;;) {
    healthAddress ??= findLogField(output, 'healthProbeAddress');
    metricsAddress ??= findLogField(output, 'metricsAddress');
    if (healthAddress && metricsAddress) {
      const healthy = await fetch(`http://${healthAddress}/healthz`).then((r) => r.ok, () => false);
      if (healthy) break;
    }
    if (gone || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`operator did not become healthy (${gone ? 'exited' : 'timed out'}):\n${output.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const operator: OperatorProcess = {
    pid: child.pid!,
    healthAddress,
    metricsAddress: metricsAddress!,
    output: () => output,
    async metric(name, labels) {
      const text = await fetch(`http://${metricsAddress}/metrics`).then((r) => r.text());
      return parseMetric(text, name, labels);
    },
    signal: (signal) => {
      if (!gone) child.kill(signal);
    },
    exited,
    async stop(timeoutMs = 20_000) {
      if (gone) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
  return operator;
}
