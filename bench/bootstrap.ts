// npm run bench:bootstrap -- --clusters 50 --machines 500 [--talos-version v1.13] [--qps 500]
//
// Against a fresh test bed: an operator process (bootstrap provider) and N clusters with M
// Machines + TalosConfigs in all. Prints the time from creating the objects until every
// TalosConfig reports dataSecretCreated, API requests and writes per TalosConfig (from the
// operator's own rest_client_requests_total), the operator's peak RSS and its RSS after the
// run settles, and — as the floor — how long a tight client takes to do the same number of
// raw writes at the same QPS limit.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../src/kube/client';
import { SecretKind } from '../src/kube/resource';
import { V1BETA1 } from '../src/api/bootstrap/resources';
import type { TalosConfig } from '../src/api/bootstrap/v1beta1/types';
import { startTestbed, stopTestbed } from '../test/testbed/testbed';
import { createCluster, createMachine, createNamespace, createTalosConfig } from '../test/support/capi-fixtures';
import { parseMetric, startOperator, type OperatorProcess } from '../test/support/operator-process';

interface Options {
  clusters: number;
  machines: number;
  talosVersion: string;
  qps: number;
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
  };
  if (!(options.clusters > 0 && options.machines >= options.clusters && options.qps > 0)) {
    throw new Error('need --clusters > 0, --machines >= --clusters, --qps > 0');
  }
  return options;
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

async function rss(operator: OperatorProcess): Promise<number> {
  const text = await fetch(`http://${operator.metricsAddress}/metrics`).then((r) => r.text());
  return parseMetric(text, 'process_resident_memory_bytes') ?? 0;
}

async function heapUsed(operator: OperatorProcess): Promise<number> {
  const text = await fetch(`http://${operator.metricsAddress}/metrics`).then((r) => r.text());
  return parseMetric(text, 'nodejs_heap_size_used_bytes') ?? 0;
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
    args: [`--kube-api-qps=${options.qps}`, `--kube-api-burst=${options.qps * 2}`, '--concurrency=10', '--log-level=info'],
  });
  let peakRss = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peakRss = Math.max(peakRss, await rss(operator).catch(() => 0));
      await sleep(250);
    }
  })();

  try {
    const before = await requestCounts(operator);
    // Clusters first, provisioned with an endpoint: what infrastructure providers leave.
    const clusters = await Promise.all(Array.from({ length: options.clusters }, async (_, i) => {
      const ns = await createNamespace(client, `bench-${i}`);
      return createCluster(client, ns, `c${i}`);
    }));
    const machines = Array.from({ length: options.machines }, (_, i) => {
      const cluster = clusters[i % options.clusters]!;
      const index = Math.floor(i / options.clusters);
      return { cluster, name: `m${index}`, controlPlane: index < 3 };
    });

    const started = Date.now();
    await pool(machines, 32, async ({ cluster, name, controlPlane }) => {
      const machine = await createMachine(client, cluster, name, { controlPlane });
      await createTalosConfig(client, machine, { generateType: controlPlane ? 'controlplane' : 'worker', talosVersion: options.talosVersion });
    });
    const created = Date.now();
    for (;;) {
      const configs = await client.list<TalosConfig>(V1BETA1.talosConfig, {});
      const ready = configs.items.filter((c) => c.status?.initialization?.dataSecretCreated).length;
      if (ready >= options.machines) break;
      await sleep(250);
    }
    const allReady = Date.now();
    // Let the follow-up reconciles (talosconfig, conditions) finish before counting; stop sampling
    // so that our own scrapes do not feed the process we are measuring.
    await sleep(5000);
    sampling = false;
    await sampler;
    const after = await requestCounts(operator);
    const rssSettled = await rss(operator);
    await sleep(15_000);
    const rssLater = await rss(operator);
    const heapLater = await heapUsed(operator);

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
      `bench:bootstrap  clusters=${options.clusters} machines=${options.machines} talosVersion=${options.talosVersion} qps=${options.qps}`,
      `objects created in                 ${((created - started) / 1000).toFixed(1)} s`,
      `all TalosConfigs ready after       ${seconds.toFixed(1)} s from the first create, ${((allReady - created) / 1000).toFixed(1)} s after the last  (${(options.machines / seconds).toFixed(1)} configs/s)`,
      `API requests per TalosConfig       ${perConfig(requests)}  (${Object.entries(after.byMethod).map(([m, n]) => `${m} ${n - (before.byMethod[m] ?? 0)}`).join(', ')})`,
      `writes per TalosConfig             ${perConfig(writes)}  (objects ${perConfig(writes - eventObjects)}, Events ${perConfig(eventObjects)})`,
      `floor: ${writes} raw writes by a tight client  ${floorSeconds.toFixed(1)} s  → operator/floor ${(seconds / floorSeconds).toFixed(2)}×`,
      `operator peak RSS                  ${mib(peakRss)}`,
      `operator RSS settled / +15 s       ${mib(rssSettled)} / ${mib(rssLater)}  (growth ${mib(Math.max(0, rssLater - rssSettled))}; JS heap in use ${mib(heapLater)})`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    sampling = false;
    await sampler;
    await operator.stop();
    await stopTestbed(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:bootstrap: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
