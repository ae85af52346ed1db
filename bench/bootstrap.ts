// npm run bench:bootstrap -- --clusters 50 --machines 500 [--talos-version v1.13] [--qps 500]
//                             [--new-cluster] [--concurrency 10] [--node-args '--cpu-prof --cpu-prof-dir=/tmp/prof'] [--no-image-flags]
//
// Against a fresh test bed: an operator process (bootstrap provider) and N clusters with M
// Machines + TalosConfigs in all. Prints the time from creating the objects until every
// TalosConfig reports dataSecretCreated, API requests and writes per TalosConfig (from the
// operator's own rest_client_requests_total), the operator's peak RSS (the kernel's high-water mark) and its RSS after the
// run settles, its CPU time per TalosConfig (process_cpu_seconds_total), and — as the floor — how
// long a tight client takes to do the same number of raw writes at the same QPS limit.
// --new-cluster then times one more cluster of 3 control-plane + 3 worker Machines to all ready
// (what a user waits for when adding a cluster to a busy operator). The operator runs with the
// Node.js flags of the image (Dockerfile ENTRYPOINT); --node-args adds some (profilers, heap
// settings), --no-image-flags leaves the image's out.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../src/kube/client/client';
import { SecretKind } from '../src/kube/client/resource';
import { V1BETA1 } from '../src/api/bootstrap/resources';
import type { TalosConfig } from '../src/api/bootstrap/v1beta1/types';
import type { Cluster } from '../src/api/capi/v1beta2/types';
import { startTestbed, stopTestbed } from '../test/testbed/testbed';
import { createCluster, createMachine, createNamespace, createTalosConfig } from '../test/support/capi-fixtures';
import { startOperator, type OperatorProcess } from '../test/support/operator-process';

interface Options {
  clusters: number;
  machines: number;
  talosVersion: string;
  qps: number;
  newCluster: boolean;
  nodeArgs: string[];
  concurrency: number;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string, fallback: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
  };
  const options = {
    clusters: Number(value('clusters', '50')),
    machines: Number(value('machines', '500')),
    talosVersion: value('talos-version', 'v1.13'),
    qps: Number(value('qps', '500')),
    newCluster: argv.includes('--new-cluster'),
    concurrency: Number(value('concurrency', '10')),
    // The image's flags first, so that --node-args can add to them or override one.
    nodeArgs: [...(argv.includes('--no-image-flags') ? [] : imageNodeFlags()), ...value('node-args', '').split(/\s+/).filter(Boolean)],
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

/** Runs `work` over `items` with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

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

const RECONCILE_METRICS = [
  'controller_runtime_reconcile_total', 'controller_runtime_reconcile_errors_total',
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

/** Creates the Machines and their TalosConfigs, 32 at a time. */
async function createMachines(client: KubeClient, machines: Machine[], talosVersion: string): Promise<void> {
  await pool(machines, 32, async ({ cluster, name, controlPlane }) => {
    const machine = await createMachine(client, cluster, name, { controlPlane });
    await createTalosConfig(client, machine, { generateType: controlPlane ? 'controlplane' : 'worker', talosVersion });
  });
}

/** Polls until `count` TalosConfigs (in `namespace`, or everywhere) report their data Secret. */
async function waitReady(client: KubeClient, count: number, namespace?: string): Promise<void> {
  for (;;) {
    const configs = await client.list<TalosConfig>(V1BETA1.talosConfig, { namespace });
    const ready = configs.items.filter((c) => c.status?.initialization?.dataSecretCreated).length;
    if (ready >= count) return;
    await sleep(namespace ? 50 : 250);
  }
}

/** One more cluster (3 control-plane + 3 worker Machines): seconds from its first create to all ready. */
async function timeNewCluster(client: KubeClient, talosVersion: string): Promise<number> {
  const ns = await createNamespace(client, 'bench-new');
  const cluster = await createCluster(client, ns, 'new');
  const started = Date.now();
  await createMachines(client, Array.from({ length: 6 }, (_, i) => ({ cluster, name: `m${i}`, controlPlane: i < 3 })), talosVersion);
  await waitReady(client, 6, ns);
  return (Date.now() - started) / 1000;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'talos-capi-bench-'));
  const state = await startTestbed({ dir });
  process.env.KUBECONFIG = state.kubeconfig;
  const client = KubeClient.load(state.kubeconfig, { qps: options.qps, burst: options.qps * 2 });
  const operator = await startOperator({
    kubeconfig: state.kubeconfig,
    compiled: true,
    nodeArgs: options.nodeArgs,
    args: [`--kube-api-qps=${options.qps}`, `--kube-api-burst=${options.qps * 2}`, `--concurrency=${options.concurrency}`, '--log-level=info'],
  });

  try {
    const before = await requestCounts(operator);
    const cpuBefore = await gauge(operator, 'process_cpu_seconds_total');
    const reconcilesBefore = await sums(operator, RECONCILE_METRICS);
    // Clusters first, provisioned with an endpoint: what infrastructure providers leave.
    const clusters = await Promise.all(Array.from({ length: options.clusters }, async (_, i) => {
      const ns = await createNamespace(client, `bench-${i}`);
      return createCluster(client, ns, `c${i}`);
    }));
    const machines = Array.from({ length: options.machines }, (_, i): Machine => {
      const cluster = clusters[i % options.clusters]!;
      const index = Math.floor(i / options.clusters);
      return { cluster, name: `m${index}`, controlPlane: index < 3 };
    });

    const started = Date.now();
    await createMachines(client, machines, options.talosVersion);
    const created = Date.now();
    await waitReady(client, options.machines);
    const allReady = Date.now();
    // Let the follow-up reconciles (talosconfig, conditions) finish before counting.
    await sleep(5000);
    const peakRss = peakRssOf(operator.pid);
    const after = await requestCounts(operator);
    const cpuSeconds = (await gauge(operator, 'process_cpu_seconds_total')) - cpuBefore;
    const reconcilesAfter = await sums(operator, RECONCILE_METRICS);
    const delta = (name: string) => reconcilesAfter[name]! - reconcilesBefore[name]!;
    const reconciles = delta('controller_runtime_reconcile_total');
    const rssSettled = await rss(operator);
    await sleep(15_000);
    const rssLater = await rss(operator);
    const heapLater = await gauge(operator, 'nodejs_heap_size_used_bytes');
    const newClusterSeconds = options.newCluster ? await timeNewCluster(client, options.talosVersion) : undefined;

    const writes = after.writes - before.writes;
    // Events are writes too, but a side channel: count the Event objects the operator made.
    const eventObjects = (await client.list({ group: 'events.k8s.io', version: 'v1', kind: 'Event', plural: 'events', namespaced: true }, {})).items
      .filter((event) => event.metadata.namespace?.startsWith('bench-')).length;
    const requests = after.total - before.total;
    // The floor: a tight client doing the same number of writes (Secret creates) at the same QPS.
    const floorNs = await createNamespace(client, 'floor');
    const floorStarted = Date.now();
    await pool(Array.from({ length: writes }, (_, i) => i), 32, async (i) => {
      await client.create(SecretKind, { apiVersion: 'v1', kind: 'Secret', metadata: { name: `floor-${i}`, namespace: floorNs }, data: { value: Buffer.alloc(6000, 1).toString('base64') } });
    });
    const floorSeconds = (Date.now() - floorStarted) / 1000;
    const seconds = (allReady - started) / 1000;

    const perConfig = (n: number) => (n / options.machines).toFixed(2);
    const lines = [
      `bench:bootstrap  clusters=${options.clusters} machines=${options.machines} talosVersion=${options.talosVersion} qps=${options.qps} concurrency=${options.concurrency} node=${options.nodeArgs.join(' ') || '(no flags)'}`,
      `objects created in                 ${((created - started) / 1000).toFixed(1)} s`,
      `all TalosConfigs ready after       ${seconds.toFixed(1)} s from the first create, ${((allReady - created) / 1000).toFixed(1)} s after the last  (${(options.machines / seconds).toFixed(1)} configs/s)`,
      `API requests per TalosConfig       ${perConfig(requests)}  (${Object.entries(after.byMethod).map(([m, n]) => `${m} ${n - (before.byMethod[m] ?? 0)}`).join(', ')})`,
      `writes per TalosConfig             ${perConfig(writes)}  (objects ${perConfig(writes - eventObjects)}, Events ${perConfig(eventObjects)})`,
      `floor: ${writes} raw writes by a tight client  ${floorSeconds.toFixed(1)} s  → operator/floor ${(seconds / floorSeconds).toFixed(2)}×`,
      `operator CPU                       ${cpuSeconds.toFixed(1)} s  (${((cpuSeconds * 1000) / options.machines).toFixed(1)} ms per TalosConfig)`,
      `reconciles per TalosConfig         ${perConfig(reconciles)}  (errors ${delta('controller_runtime_reconcile_errors_total')}; mean ${((delta('controller_runtime_reconcile_time_seconds_sum') * 1000) / reconciles).toFixed(0)} ms each, ${((delta('workqueue_queue_duration_seconds_sum') * 1000) / delta('workqueue_queue_duration_seconds_count')).toFixed(0)} ms queued)`,
      `operator peak RSS                  ${mib(peakRss)}`,
      `operator RSS settled / +15 s       ${mib(rssSettled)} / ${mib(rssLater)}  (growth ${mib(Math.max(0, rssLater - rssSettled))}; JS heap in use ${mib(heapLater)})`,
      ...(newClusterSeconds === undefined ? [] : [`one new 3+3 cluster ready after     ${newClusterSeconds.toFixed(2)} s`]),
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await operator.stop();
    await stopTestbed(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:bootstrap: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
