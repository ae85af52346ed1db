// npm run bench:bootstrap -- --clusters 50 --machines 500 [--talos-version v1.13] [--qps 500]
//                             [--new-cluster] [--concurrency 10] [--node-args '--max-old-space-size=64'] [--no-image-flags]
//                             [--profile DIR]
//
// Against a fresh test bed: an operator process (bootstrap provider) and N clusters with M
// Machines + TalosConfigs in all. Prints the time from creating the objects until every
// TalosConfig reports dataSecretCreated, API requests and writes per TalosConfig (from the
// operator's own rest_client_requests_total), the operator's peak RSS (the kernel's high-water mark) and its RSS after the
// run settles, its CPU time per TalosConfig (process_cpu_seconds_total), and — as the floor — how
// long a tight program takes to do the work nobody can skip (bench/bootstrap-floor.ts: the same
// creates, the operator's writes and the bundles it made), with the operator stopped. Readiness is
// watched, not polled: listing 500 configs a few times a second loaded the API server the operator
// and the floor share.
// --new-cluster then times one more cluster of 3 control-plane + 3 worker Machines to all ready
// (what a user waits for when adding a cluster to a busy operator). The operator runs with the
// Node.js flags of the image (Dockerfile ENTRYPOINT); --node-args adds some (profilers, heap
// settings), --no-image-flags leaves the image's out. --profile DIR runs it under --cpu-prof, takes a
// heap snapshot once the run has settled, leaves both in DIR and prints their top items.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../src/kube/client/client';
import { Informer } from '../src/kube/cache/informer';
import { V1BETA1 } from '../src/api/bootstrap/resources';
import type { TalosConfig } from '../src/api/bootstrap/v1beta1/types';
import type { Cluster } from '../src/api/capi/v1beta2/types';
import { startTestbed, stopTestbed } from '../test/testbed/testbed';
import { createCluster, createMachine, createNamespace, createTalosConfig } from '../test/support/capi-fixtures';
import { startOperator, type OperatorProcess } from '../test/support/operator-process';
import { measureFloor, pool, type Floor } from './bootstrap-floor';
import { cpuTopSelf, heapTopRetained, type CpuProfile, type HeapSnapshot, type TopItem } from './profile-summary';

interface Options {
  clusters: number;
  machines: number;
  talosVersion: string;
  qps: number;
  newCluster: boolean;
  nodeArgs: string[];
  concurrency: number;
  /** Where the CPU profile and the heap snapshot go. */
  profile?: string;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string, fallback: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
  };
  const profile = value('profile', '') || undefined;
  const options = {
    clusters: Number(value('clusters', '50')),
    machines: Number(value('machines', '500')),
    talosVersion: value('talos-version', 'v1.13'),
    qps: Number(value('qps', '500')),
    newCluster: argv.includes('--new-cluster'),
    concurrency: Number(value('concurrency', '10')),
    // The image's flags first, so that --node-args can add to them or override one.
    nodeArgs: [
      ...(argv.includes('--no-image-flags') ? [] : imageNodeFlags()),
      ...value('node-args', '').split(/\s+/).filter(Boolean),
      ...(profile ? profilerFlags(profile) : []),
    ],
    profile,
  };
  if (!(options.clusters > 0 && options.machines >= options.clusters && options.qps > 0)) {
    throw new Error('need --clusters > 0, --machines >= --clusters, --qps > 0');
  }
  return options;
}

/** The Node.js flags the image runs the operator with (its Dockerfile ENTRYPOINT), so the bench measures what ships. */
function imageNodeFlags(): string[] {
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(join(__dirname, '..', 'Dockerfile'), 'utf8'))?.[1];
  if (!entrypoint) throw new Error('no ENTRYPOINT in the Dockerfile');
  const words = JSON.parse(entrypoint) as string[];
  return words.slice(1).filter((word) => word.startsWith('--'));
}

/** CPU profile written when the operator exits; heap snapshot on SIGUSR2. */
function profilerFlags(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`];
}

const newestFile = (dir: string, suffix: string) =>
  readdirSync(dir).filter((f) => f.endsWith(suffix)).sort().map((f) => join(dir, f)).pop();

/** Asks the operator for a heap snapshot and waits until the file is complete. */
async function takeHeapSnapshot(operator: OperatorProcess, dir: string): Promise<void> {
  const before = newestFile(dir, '.heapsnapshot');
  operator.signal('SIGUSR2');
  for (;;) {
    await sleep(500);
    const file = newestFile(dir, '.heapsnapshot');
    // Node writes the snapshot on its main thread: /metrics answers again once it is done.
    if (file && file !== before && (await fetch(`http://${operator.metricsAddress}/metrics`).then((r) => r.ok, () => false))) return;
  }
}

function profileLines(dir: string): string[] {
  const format = (items: TopItem[], unit: (amount: number) => string) =>
    items.map((item) => `  ${unit(item.amount).padStart(10)} ${(item.share * 100).toFixed(1).padStart(5)}%  ${item.name}`);
  const cpuFile = newestFile(dir, '.cpuprofile');
  const heapFile = newestFile(dir, '.heapsnapshot');
  return [
    `profile: ${cpuFile ?? '(no CPU profile)'}, ${heapFile ?? '(no heap snapshot)'}`,
    ...(cpuFile ? ['top by self time:', ...format(cpuTopSelf(JSON.parse(readFileSync(cpuFile, 'utf8')) as CpuProfile, 25), (ms) => `${ms.toFixed(0)} ms`)] : []),
    ...(heapFile ? ['top by retained size:', ...format(heapTopRetained(JSON.parse(readFileSync(heapFile, 'utf8')) as HeapSnapshot, 25), (bytes) => `${(bytes / 1024).toFixed(0)} KiB`)] : []),
  ];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

interface RequestCounts {
  total: number;
  writes: number;
  byMethod: Record<string, number>;
}

async function requestCounts(operator: OperatorProcess): Promise<RequestCounts> {
  const text = await fetch(`http://${operator.metricsAddress}/metrics`).then((r) => r.text());
  const byMethod: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^rest_client_requests_total\{([^}]*)\} (\S+)$/.exec(line);
    if (!match) continue;
    const method = /method="([^"]+)"/.exec(match[1]!)?.[1] ?? '?';
    byMethod[method] = (byMethod[method] ?? 0) + Number(match[2]);
  }
  const total = Object.values(byMethod).reduce((a, b) => a + b, 0);
  const writes = ['POST', 'PUT', 'PATCH', 'DELETE'].reduce((sum, m) => sum + (byMethod[m] ?? 0), 0);
  return { total, writes, byMethod };
}

/** Every sample of `names` summed over their labels, from one scrape. */
async function sums(operator: OperatorProcess, names: string[]): Promise<Record<string, number>> {
  const text = await fetch(`http://${operator.metricsAddress}/metrics`).then((r) => r.text());
  const totals = Object.fromEntries(names.map((name) => [name, 0]));
  for (const line of text.split('\n')) {
    const name = /^([a-z_]+)[{ ]/.exec(line)?.[1];
    if (name && name in totals) totals[name]! += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return totals;
}

const COUNTERS = [
  'talos_capi_secrets_bundles_created_total', 'controller_runtime_reconcile_total', 'controller_runtime_reconcile_errors_total',
  'controller_runtime_reconcile_time_seconds_sum', 'workqueue_queue_duration_seconds_sum', 'workqueue_queue_duration_seconds_count',
];

async function gauge(operator: OperatorProcess, name: string): Promise<number> {
  return (await operator.metric(name)) ?? 0;
}
const rss = (operator: OperatorProcess) => gauge(operator, 'process_resident_memory_bytes');

/** The kernel's high-water mark of the process's resident set (VmHWM): exact, and costs it nothing. */
function peakRssOf(pid: number): number {
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (!kib) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(kib) * 1024;
}

interface Machine {
  cluster: Cluster;
  name: string;
  controlPlane: boolean;
}

/** Requests the bench keeps in flight when it creates objects (and the floor when it replays them). */
const CREATE_PARALLEL = 32;

/** One Machine and its TalosConfig, created one after the other. */
const createInput = (client: KubeClient, { cluster, name, controlPlane }: Machine, talosVersion: string) => async () => {
  const machine = await createMachine(client, cluster, name, { controlPlane });
  await createTalosConfig(client, machine, { generateType: controlPlane ? 'controlplane' : 'worker', talosVersion });
};

async function createMachines(client: KubeClient, machines: Machine[], talosVersion: string): Promise<void> {
  await pool(machines.map((machine) => createInput(client, machine, talosVersion)), CREATE_PARALLEL, (create) => create());
}

/** Namespaces with one provisioned Cluster each (what infrastructure providers leave), and their Machines, m0… in turn. */
async function createClusters(client: KubeClient, prefix: string, clusters: number, machines: number): Promise<Machine[]> {
  const made = await Promise.all(Array.from({ length: clusters }, async (_, i) => createCluster(client, await createNamespace(client, `${prefix}-${i}`), `c${i}`)));
  return Array.from({ length: machines }, (_, i): Machine => {
    const index = Math.floor(i / clusters);
    return { cluster: made[i % clusters]!, name: `m${index}`, controlPlane: index < 3 };
  });
}

/** A watch on TalosConfigs (in `namespace`, or everywhere): `until(count)` resolves once that many report their data Secret. */
function watchReady(client: KubeClient, namespace?: string) {
  const informer = new Informer<TalosConfig>(client, { kind: V1BETA1.talosConfig, namespace });
  const ready = new Set<string>();
  let waiter: { count: number; resolve: () => void } | undefined;
  const see = (config: TalosConfig) => {
    if (config.status?.initialization?.dataSecretCreated) ready.add(`${config.metadata.namespace}/${config.metadata.name}`);
    if (waiter && ready.size >= waiter.count) waiter.resolve();
  };
  informer.addHandlers({ add: see, update: (_, config) => see(config) });
  informer.start();
  return {
    synced: () => informer.waitForSync(),
    until: (count: number) => new Promise<void>((resolve) => {
      waiter = { count, resolve };
      if (ready.size >= count) resolve();
    }),
    stop: () => informer.stop(),
  };
}

/** One more cluster (3 control-plane + 3 worker Machines): seconds from its first create to all ready. */
async function timeNewCluster(client: KubeClient, talosVersion: string): Promise<number> {
  const machines = await createClusters(client, 'bench-new', 1, 6);
  const watch = watchReady(client, machines[0]!.cluster.metadata.namespace);
  await watch.synced();
  const started = Date.now();
  await createMachines(client, machines, talosVersion);
  await watch.until(6);
  const seconds = (Date.now() - started) / 1000;
  await watch.stop();
  return seconds;
}

interface Run {
  seconds: number;
  createdSeconds: number;
  afterLastSeconds: number;
  before: RequestCounts;
  after: RequestCounts;
  eventObjects: number;
  bundles: number;
  cpuSeconds: number;
  reconciles: (name: string) => number;
  peakRss: number;
  rssSettled: number;
  rssLater: number;
  heapLater: number;
  newClusterSeconds?: number;
  /** The 1, 5 and 15 minute load averages when the run started. */
  load: number[];
}

/** The workload against a running operator, and what the operator reports about it. */
async function measure(client: KubeClient, operator: OperatorProcess, machines: Machine[], options: Options): Promise<Run> {
  const load = loadavg();
  const before = await requestCounts(operator);
  const cpuBefore = await gauge(operator, 'process_cpu_seconds_total');
  const countersBefore = await sums(operator, COUNTERS);
  const watch = watchReady(client);
  await watch.synced();

  const started = Date.now();
  await createMachines(client, machines, options.talosVersion);
  const created = Date.now();
  await watch.until(options.machines);
  const allReady = Date.now();
  await watch.stop();
  // Let the follow-up reconciles (talosconfig, conditions) finish before counting.
  await sleep(5000);
  const peakRss = peakRssOf(operator.pid);
  const after = await requestCounts(operator);
  const cpuSeconds = (await gauge(operator, 'process_cpu_seconds_total')) - cpuBefore;
  const countersAfter = await sums(operator, COUNTERS);
  const delta = (name: string) => countersAfter[name]! - countersBefore[name]!;
  const rssSettled = await rss(operator);
  await sleep(15_000);
  const rssLater = await rss(operator);
  const heapLater = await gauge(operator, 'nodejs_heap_size_used_bytes');
  const newClusterSeconds = options.newCluster ? await timeNewCluster(client, options.talosVersion) : undefined;
  if (options.profile) await takeHeapSnapshot(operator, options.profile);
  // Events are writes too, but a side channel: count the Event objects the operator made.
  const eventObjects = (await client.list({ group: 'events.k8s.io', version: 'v1', kind: 'Event', plural: 'events', namespaced: true }, {})).items
    .filter((event) => event.metadata.namespace?.startsWith('bench-') && !event.metadata.namespace.startsWith('bench-new')).length;
  return {
    seconds: (allReady - started) / 1000, createdSeconds: (created - started) / 1000, afterLastSeconds: (allReady - created) / 1000,
    before, after, eventObjects, bundles: delta('talos_capi_secrets_bundles_created_total'), cpuSeconds, reconciles: delta,
    peakRss, rssSettled, rssLater, heapLater, newClusterSeconds, load,
  };
}

function report(options: Options, run: Run, floor: Floor): string[] {
  const perConfig = (n: number) => (n / options.machines).toFixed(2);
  const writes = run.after.writes - run.before.writes;
  const reconciles = run.reconciles('controller_runtime_reconcile_total');
  const queued = run.reconciles('workqueue_queue_duration_seconds_sum') / run.reconciles('workqueue_queue_duration_seconds_count');
  return [
    `bench:bootstrap  clusters=${options.clusters} machines=${options.machines} talosVersion=${options.talosVersion} qps=${options.qps} concurrency=${options.concurrency} node=${options.nodeArgs.join(' ') || '(no flags)'}`,
    `load average                       ${run.load.map((l) => l.toFixed(2)).join(' ')} at the start, ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end, on ${availableParallelism()} cores (a shared machine: compare ratios, not times)`,
    `objects created in                 ${run.createdSeconds.toFixed(1)} s`,
    `all TalosConfigs ready after       ${run.seconds.toFixed(1)} s from the first create, ${run.afterLastSeconds.toFixed(1)} s after the last  (${(options.machines / run.seconds).toFixed(1)} configs/s)`,
    `API requests per TalosConfig       ${perConfig(run.after.total - run.before.total)}  (${Object.entries(run.after.byMethod).map(([m, n]) => `${m} ${n - (run.before.byMethod[m] ?? 0)}`).join(', ')})`,
    `writes per TalosConfig             ${perConfig(writes)}  (objects ${perConfig(writes - run.eventObjects)}, Events ${perConfig(run.eventObjects)})`,
    `floor: ${options.machines * 2} creates + ${writes} writes + ${run.bundles} bundles by a tight program  ${floor.seconds.toFixed(1)} s  → operator/floor ${(run.seconds / floor.seconds).toFixed(2)}×`,
    `  (its parts alone: the writes ${floor.writesOnlySeconds.toFixed(1)} s → operator/writes ${(run.seconds / floor.writesOnlySeconds).toFixed(2)}×, the bundles ${floor.bundlesSeconds.toFixed(1)} s)`,
    `operator CPU                       ${run.cpuSeconds.toFixed(1)} s  (${((run.cpuSeconds * 1000) / options.machines).toFixed(1)} ms per TalosConfig)`,
    `reconciles per TalosConfig         ${perConfig(reconciles)}  (errors ${run.reconciles('controller_runtime_reconcile_errors_total')}; mean ${((run.reconciles('controller_runtime_reconcile_time_seconds_sum') * 1000) / reconciles).toFixed(0)} ms each, ${(queued * 1000).toFixed(0)} ms queued)`,
    `operator peak RSS                  ${mib(run.peakRss)}`,
    `operator RSS settled / +15 s       ${mib(run.rssSettled)} / ${mib(run.rssLater)}  (growth ${mib(Math.max(0, run.rssLater - run.rssSettled))}; JS heap in use ${mib(run.heapLater)})`,
    ...(run.newClusterSeconds === undefined ? [] : [`one new 3+3 cluster ready after     ${run.newClusterSeconds.toFixed(2)} s`]),
  ];
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'talos-capi-bench-'));
  const state = await startTestbed({ dir });
  process.env.KUBECONFIG = state.kubeconfig;
  const client = KubeClient.load(state.kubeconfig, { qps: options.qps, burst: options.qps * 2 });
  try {
    const operator = await startOperator({
      kubeconfig: state.kubeconfig,
      compiled: true,
      nodeArgs: options.nodeArgs,
      args: [`--kube-api-qps=${options.qps}`, `--kube-api-burst=${options.qps * 2}`, `--concurrency=${options.concurrency}`, '--log-level=info'],
    });
    let run: Run;
    try {
      run = await measure(client, operator, await createClusters(client, 'bench', options.clusters, options.machines), options);
    } finally {
      await operator.stop();
    }
    // With the operator stopped: the floor's objects are nobody's work but the floor's.
    const floorInput = await createClusters(client, 'floor', options.clusters, options.machines);
    const floor = await measureFloor(client, await createNamespace(client, 'floor-writes'), {
      createInput: floorInput.map((machine) => createInput(client, machine, options.talosVersion)),
      writes: run.after.writes - run.before.writes,
      bundles: run.bundles,
      talosVersion: options.talosVersion,
      createParallel: CREATE_PARALLEL,
      writeParallel: options.concurrency,
    });
    process.stdout.write(report(options, run, floor).join('\n') + '\n');
  } finally {
    await stopTestbed(dir);
    rmSync(dir, { recursive: true, force: true });
  }
  // The CPU profile is written when the operator exits.
  if (options.profile) process.stdout.write(profileLines(options.profile).join('\n') + '\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:bootstrap: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
