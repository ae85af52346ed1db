// The operator's command-line flags (compatible with the upstream CAPI managers where they overlap)
// and their translation into manager options.
import { existsSync, readFileSync } from 'node:fs';
import { type FlagSpec, Flags, UsageError, flagUsage, parseFlags } from './cli/args';
import { isLogLevel } from './kube/log/logger';
import type { LevelWithSilent } from 'pino';

export const TALOS_CONFIG_CONTROLLER = 'talosconfig';
export const TALOS_CONTROL_PLANE_CONTROLLER = 'taloscontrolplane';

/** The two Cluster API providers this one image is; `--controllers` picks which of them a process runs. */
export const PROVIDERS = ['bootstrap', 'controlplane'] as const;
export type ProviderName = (typeof PROVIDERS)[number];
const ALL_PROVIDERS = 'all';

export const OPERATOR_FLAGS: readonly FlagSpec[] = [
  { name: 'leader-elect', aliases: ['enable-leader-election'], description: 'Enable leader election; only the lease holder reconciles.' },
  { name: 'leader-election-id', value: 'NAME', default: 'controller-leader-election-talos-capi', description: 'Name of the Lease used for leader election.' },
  { name: 'leader-election-namespace', value: 'NAMESPACE', description: 'Namespace of the Lease (default: the pod namespace, else the kubeconfig context namespace, else "default").' },
  { name: 'leader-elect-lease-duration', value: 'DURATION', default: '15s', description: 'How long a lease stays valid without renewal.' },
  { name: 'leader-elect-renew-deadline', value: 'DURATION', default: '10s', description: 'How long the leader retries renewing before giving up leadership.' },
  { name: 'leader-elect-retry-period', value: 'DURATION', default: '2s', description: 'Interval between lease acquisition/renewal attempts.' },
  { name: 'health-addr', aliases: ['health-probe-bind-address'], value: 'ADDRESS', default: ':9440', description: 'Address of /healthz and /readyz.' },
  {
    name: 'diagnostics-address', aliases: ['metrics-bind-address'], value: 'ADDRESS', default: ':8443',
    description: 'Address of /metrics: HTTPS, for callers the apiserver authenticates (TokenReview) and lets get /metrics (SubjectAccessReview); "0" disables.',
  },
  { name: 'insecure-diagnostics', description: 'Serve /metrics over plain HTTP without authentication or authorization.' },
  { name: 'metrics-cert-dir', value: 'DIR', description: 'Folder with the metrics serving certificate (tls.crt, tls.key); default: a self-signed one made at start.' },
  {
    name: 'controllers', value: 'WHICH', default: ALL_PROVIDERS,
    description: 'Which provider to run: bootstrap, controlplane or all (clusterctl installs the two as separate providers).',
  },
  { name: 'watch-filter', value: 'VALUE', description: 'Only reconcile objects labelled cluster.x-k8s.io/watch-filter=<value>.' },
  { name: 'namespace', value: 'NAMESPACE', description: 'Only watch this namespace (default: all).' },
  { name: 'concurrency', value: 'N', default: '10', description: 'Concurrent reconciles per controller unless a controller-specific flag is set.' },
  { name: 'talos-config-concurrency', aliases: ['talosconfig-concurrency'], value: 'N', description: 'Concurrent TalosConfig reconciles.' },
  { name: 'taloscontrolplane-concurrency', value: 'N', description: 'Concurrent TalosControlPlane reconciles.' },
  { name: 'kube-api-qps', value: 'QPS', default: '20', description: 'Sustained requests per second to the API server.' },
  { name: 'kube-api-burst', value: 'N', default: '30', description: 'Request burst to the API server.' },
  { name: 'kubeconfig', value: 'FILE', description: 'Path to a kubeconfig (default: $KUBECONFIG, ~/.kube/config, or in-cluster).' },
  { name: 'sync-period', value: 'DURATION', default: '10m', description: 'Re-deliver every cached object to controllers this often.' },
  { name: 'graceful-shutdown-timeout', value: 'DURATION', default: '30s', description: 'How long in-flight reconciles may run on shutdown.' },
  { name: 'webhook-port', value: 'PORT', default: '9443', description: 'Port of the conversion/validation webhook server (HTTPS); -1 disables it.' },
  { name: 'webhook-host', value: 'HOST', description: 'Interface the webhook server listens on (default: all).' },
  { name: 'webhook-cert-dir', value: 'DIR', default: '/tmp/k8s-webhook-server/serving-certs', description: 'Folder with the webhook serving certificate (tls.crt, tls.key).' },
  { name: 'feature-gates', value: 'GATES', description: 'Cluster API style gates, e.g. MachinePool=true.' },
  { name: 'log-level', value: 'LEVEL', default: 'info', description: 'fatal, error, warn, info, debug, trace or silent.' },
  { name: 'help', short: 'h', description: 'Print this help.' },
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
  insecureDiagnostics: boolean;
  metricsCertDir: string;
  /** The providers whose controllers and webhooks this process runs. */
  controllers: ProviderName[];
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
    if (!match) throw new UsageError(`--feature-gates: expected Name=true|false, got "${item}"`);
    gates[match[1]!] = match[2] === 'true';
  }
  return gates;
}

/** `bootstrap`, `controlplane` or `all` → the providers to run. */
export function parseControllers(text: string): ProviderName[] {
  if (text === ALL_PROVIDERS) return [...PROVIDERS];
  const provider = PROVIDERS.find((name) => name === text);
  if (!provider) throw new UsageError(`--controllers: expected ${PROVIDERS.join(', ')} or ${ALL_PROVIDERS}, got "${text}"`);
  return [provider];
}

/** The `--controllers` value that runs exactly these providers (the inverse of parseControllers). */
export function controllersArg(providers: readonly ProviderName[]): string {
  if (providers.length === 1) return providers[0]!;
  if (providers.length === PROVIDERS.length && PROVIDERS.every((name) => providers.includes(name))) return ALL_PROVIDERS;
  throw new Error(`no --controllers value runs exactly [${providers.join(', ')}]`);
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${name} must be a positive integer, got ${value}`);
  return value;
}

export function parseOperatorFlags(argv: readonly string[]): OperatorFlags {
  const values = new Flags(parseFlags(argv, OPERATOR_FLAGS), OPERATOR_FLAGS);
  if (values.positionals.length) throw new UsageError(`unexpected arguments: ${values.positionals.join(' ')}`);
  const str = (name: string) => values.string(name) ?? '';
  // Every numeric and duration flag has a default, so these are defined.
  const num = (name: string) => values.number(name)!;
  const duration = (name: string) => values.duration(name)!;
  const logLevel = str('log-level');
  if (!isLogLevel(logLevel)) throw new UsageError(`--log-level: unknown level "${logLevel}"`);
  const concurrency: Record<string, number> = {};
  if (values.given('talos-config-concurrency')) {
    concurrency[TALOS_CONFIG_CONTROLLER] = positiveInteger('talos-config-concurrency', num('talos-config-concurrency'));
  }
  if (values.given('taloscontrolplane-concurrency')) {
    concurrency[TALOS_CONTROL_PLANE_CONTROLLER] = positiveInteger('taloscontrolplane-concurrency', num('taloscontrolplane-concurrency'));
  }
  const qps = num('kube-api-qps');
  const burst = num('kube-api-burst');
  if (qps < 0) throw new UsageError('--kube-api-qps must not be negative');
  positiveInteger('kube-api-burst', burst);
  const flags: OperatorFlags = {
    leaderElect: values.bool('leader-elect'),
    leaderElectionId: str('leader-election-id'),
    leaderElectionNamespace: str('leader-election-namespace'),
    leaseDurationMs: duration('leader-elect-lease-duration'),
    renewDeadlineMs: duration('leader-elect-renew-deadline'),
    retryPeriodMs: duration('leader-elect-retry-period'),
    healthAddr: str('health-addr'),
    metricsAddr: str('diagnostics-address'),
    insecureDiagnostics: values.bool('insecure-diagnostics'),
    metricsCertDir: str('metrics-cert-dir'),
    controllers: parseControllers(str('controllers')),
    watchFilter: str('watch-filter'),
    namespace: str('namespace'),
    concurrency,
    defaultConcurrency: positiveInteger('concurrency', num('concurrency')),
    kubeApiQps: qps,
    kubeApiBurst: burst,
    kubeconfig: str('kubeconfig'),
    syncPeriodMs: duration('sync-period'),
    gracefulShutdownTimeoutMs: duration('graceful-shutdown-timeout'),
    logLevel,
    webhookPort: num('webhook-port'),
    webhookHost: str('webhook-host'),
    webhookCertDir: str('webhook-cert-dir'),
    featureGates: parseFeatureGates(str('feature-gates')),
    help: values.bool('help'),
  };
  if (flags.leaderElect && !flags.leaderElectionId) throw new UsageError('--leader-election-id must not be empty');
  if (!(flags.leaseDurationMs > flags.renewDeadlineMs && flags.renewDeadlineMs > flags.retryPeriodMs)) {
    throw new UsageError('need lease duration > renew deadline > retry period');
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
