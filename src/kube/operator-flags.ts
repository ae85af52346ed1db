// The operator's command-line flags (compatible with the upstream CAPI managers where they overlap)
// and their translation into manager options.
import { existsSync, readFileSync } from 'node:fs';
import { type FlagSpec, FlagError, flagUsage, parseFlags } from './flags';
import { isLogLevel } from './logger';
import type { LevelWithSilent } from 'pino';

export const TALOS_CONFIG_CONTROLLER = 'talosconfig';
export const TALOS_CONTROL_PLANE_CONTROLLER = 'taloscontrolplane';

export const OPERATOR_FLAGS: readonly FlagSpec[] = [
  { name: 'leader-elect', aliases: ['enable-leader-election'], type: 'boolean', default: false, help: 'Enable leader election; only the lease holder reconciles.' },
  { name: 'leader-election-id', type: 'string', default: 'controller-leader-election-talos-capi', help: 'Name of the Lease used for leader election.' },
  { name: 'leader-election-namespace', type: 'string', default: '', help: 'Namespace of the Lease (default: the pod namespace, else the kubeconfig context namespace, else "default").' },
  { name: 'leader-elect-lease-duration', type: 'duration', default: '15s', help: 'How long a lease stays valid without renewal.' },
  { name: 'leader-elect-renew-deadline', type: 'duration', default: '10s', help: 'How long the leader retries renewing before giving up leadership.' },
  { name: 'leader-elect-retry-period', type: 'duration', default: '2s', help: 'Interval between lease acquisition/renewal attempts.' },
  { name: 'health-addr', aliases: ['health-probe-bind-address'], type: 'string', default: ':9440', help: 'Address of /healthz and /readyz.' },
  { name: 'metrics-bind-address', aliases: ['diagnostics-address'], type: 'string', default: ':8080', help: 'Address of /metrics; "0" disables.' },
  { name: 'watch-filter', type: 'string', default: '', help: 'Only reconcile objects labelled cluster.x-k8s.io/watch-filter=<value>.' },
  { name: 'namespace', type: 'string', default: '', help: 'Only watch this namespace (default: all).' },
  { name: 'concurrency', type: 'number', default: 10, help: 'Concurrent reconciles per controller unless a controller-specific flag is set.' },
  { name: 'talos-config-concurrency', aliases: ['talosconfig-concurrency'], type: 'number', help: 'Concurrent TalosConfig reconciles.' },
  { name: 'taloscontrolplane-concurrency', type: 'number', help: 'Concurrent TalosControlPlane reconciles.' },
  { name: 'kube-api-qps', type: 'number', default: 20, help: 'Sustained requests per second to the API server.' },
  { name: 'kube-api-burst', type: 'number', default: 30, help: 'Request burst to the API server.' },
  { name: 'kubeconfig', type: 'string', default: '', help: 'Path to a kubeconfig (default: $KUBECONFIG, ~/.kube/config, or in-cluster).' },
  { name: 'sync-period', type: 'duration', default: '10m', help: 'Re-deliver every cached object to controllers this often.' },
  { name: 'graceful-shutdown-timeout', type: 'duration', default: '30s', help: 'How long in-flight reconciles may run on shutdown.' },
  { name: 'webhook-port', type: 'number', default: 9443, help: 'Port of the conversion/validation webhook server (HTTPS); -1 disables it.' },
  { name: 'webhook-host', type: 'string', default: '', help: 'Interface the webhook server listens on (default: all).' },
  { name: 'webhook-cert-dir', type: 'string', default: '/tmp/k8s-webhook-server/serving-certs', help: 'Folder with the webhook serving certificate (tls.crt, tls.key).' },
  { name: 'feature-gates', type: 'string', default: '', help: 'Cluster API style gates, e.g. MachinePool=true.' },
  { name: 'log-level', type: 'string', default: 'info', help: 'fatal, error, warn, info, debug, trace or silent.' },
  { name: 'help', aliases: ['h'], type: 'boolean', default: false, help: 'Print this help.' },
];

export interface OperatorFlags {
  leaderElect: boolean;
  leaderElectionId: string;
  leaderElectionNamespace: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  healthAddr: string;
  metricsAddr: string;
  watchFilter: string;
  namespace: string;
  concurrency: Record<string, number>;
  defaultConcurrency: number;
  kubeApiQps: number;
  kubeApiBurst: number;
  kubeconfig: string;
  syncPeriodMs: number;
  gracefulShutdownTimeoutMs: number;
  logLevel: LevelWithSilent;
  webhookPort: number;
  webhookHost: string;
  webhookCertDir: string;
  featureGates: Record<string, boolean>;
  help: boolean;
}

/** `A=true,B=false` → { A: true, B: false }. */
export function parseFeatureGates(text: string): Record<string, boolean> {
  const gates: Record<string, boolean> = {};
  for (const item of text.split(',').map((part) => part.trim()).filter(Boolean)) {
    const match = /^([A-Za-z0-9]+)=(true|false)$/.exec(item);
    if (!match) throw new FlagError(`--feature-gates: expected Name=true|false, got "${item}"`);
    gates[match[1]!] = match[2] === 'true';
  }
  return gates;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new FlagError(`--${name} must be a positive integer, got ${value}`);
  return value;
}

export function parseOperatorFlags(argv: readonly string[]): OperatorFlags {
  const { values, positional } = parseFlags(OPERATOR_FLAGS, argv);
  if (positional.length) throw new FlagError(`unexpected arguments: ${positional.join(' ')}`);
  const str = (name: string) => String(values[name] ?? '');
  const num = (name: string) => values[name] as number;
  const logLevel = str('log-level');
  if (!isLogLevel(logLevel)) throw new FlagError(`--log-level: unknown level "${logLevel}"`);
  const concurrency: Record<string, number> = {};
  if (values['talos-config-concurrency'] !== undefined) {
    concurrency[TALOS_CONFIG_CONTROLLER] = positiveInteger('talos-config-concurrency', num('talos-config-concurrency'));
  }
  if (values['taloscontrolplane-concurrency'] !== undefined) {
    concurrency[TALOS_CONTROL_PLANE_CONTROLLER] = positiveInteger('taloscontrolplane-concurrency', num('taloscontrolplane-concurrency'));
  }
  const qps = num('kube-api-qps');
  const burst = num('kube-api-burst');
  if (qps < 0) throw new FlagError('--kube-api-qps must not be negative');
  positiveInteger('kube-api-burst', burst);
  const flags: OperatorFlags = {
    leaderElect: values['leader-elect'] === true,
    leaderElectionId: str('leader-election-id'),
    leaderElectionNamespace: str('leader-election-namespace'),
    leaseDurationMs: num('leader-elect-lease-duration'),
    renewDeadlineMs: num('leader-elect-renew-deadline'),
    retryPeriodMs: num('leader-elect-retry-period'),
    healthAddr: str('health-addr'),
    metricsAddr: str('metrics-bind-address'),
    watchFilter: str('watch-filter'),
    namespace: str('namespace'),
    concurrency,
    defaultConcurrency: positiveInteger('concurrency', num('concurrency')),
    kubeApiQps: qps,
    kubeApiBurst: burst,
    kubeconfig: str('kubeconfig'),
    syncPeriodMs: num('sync-period'),
    gracefulShutdownTimeoutMs: num('graceful-shutdown-timeout'),
    logLevel,
    webhookPort: num('webhook-port'),
    webhookHost: str('webhook-host'),
    webhookCertDir: str('webhook-cert-dir'),
    featureGates: parseFeatureGates(str('feature-gates')),
    help: values.help === true,
  };
  if (flags.leaderElect && !flags.leaderElectionId) throw new FlagError('--leader-election-id must not be empty');
  if (!(flags.leaseDurationMs > flags.renewDeadlineMs && flags.renewDeadlineMs > flags.retryPeriodMs)) {
    throw new FlagError('need lease duration > renew deadline > retry period');
  }
  return flags;
}

/** The flags as one loggable object; the kubeconfig *path* is not secret, so it is shown under another name. */
export function describeFlags(flags: OperatorFlags): Record<string, unknown> {
  const { kubeconfig, ...rest } = flags;
  return { ...rest, kubeconfigPath: kubeconfig || '(default)' };
}

export function operatorUsage(): string {
  return `Usage: talos-capi run [flags]\n\nFlags:\n${flagUsage(OPERATOR_FLAGS)}\n`;
}

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** The Lease namespace: the flag, else the pod's namespace, else the kubeconfig context's, else "default". */
export function resolveLeaseNamespace(flag: string, contextNamespace: string | undefined, saFile = SERVICE_ACCOUNT_NAMESPACE): string {
  if (flag) return flag;
  if (existsSync(saFile)) {
    const namespace = readFileSync(saFile, 'utf8').trim();
    if (namespace) return namespace;
  }
  return contextNamespace || 'default';
}
