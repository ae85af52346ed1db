// `make demo`: a highly available Talos cluster from examples/, in the end-to-end world, with
// nothing played by hand.
//
// 1. the world (`npm run testbed -- up --world`): a real kube-apiserver + etcd built from Go modules,
//    the real Cluster API core manager, our simulated infrastructure provider (Talos nodes with
//    Talos's own config validator inside, a real workload apiserver per cluster, kubelets) and the
//    talos-capi operator as its own process (`talos-capi run`: leader election, probes, metrics,
//    conversion and validation webhooks), all on free loopback ports, in a temporary directory;
// 2. examples/ applied as `kubectl apply --server-side -f examples/` would: a Cluster, its SimCluster,
//    a TalosControlPlane of 3 replicas and a MachineDeployment of 2 workers from a TalosConfigTemplate;
// 3. Cluster API core and talos-capi do the rest (the control-plane provider bootstraps etcd and joins
//    the other members); a live table follows the Cluster, the control plane and the Machines until
//    the control plane is Available and every Machine runs, Ready;
// 4. how to reach the cluster: the kubeconfig and talosconfig written to files, the Nodes through the
//    workload apiserver as `kubectl get nodes` prints them.
// Then it waits for Ctrl-C and brings the world down. `--exit` brings it down and exits once Ready;
// `--keep` leaves it running (stop it with `npm run testbed -- down --dir DIR`).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { KubeClient } from '../src/kube/client/client';
import type { KubeObject } from '../src/kube/meta/object';
import { LeaseKind, NodeKind } from '../src/kube/client/resource';
import { startWorld, stopWorld, worldStatus, type WorldState } from '../test/world/world';
import { applyExamples, EXAMPLES_DIR, planOf, readExamples, type ExamplesPlan } from './demo-examples';
import { ClusterReader, controlPlaneEndpoints, decodeSecret } from './demo-status';
import { changedTables, frameOf, isReady, nodesTable, redraw, snapshotTables, type NodeObject } from './demo-table';

const NAMESPACE = 'default';
const READY_TIMEOUT_MS = 600_000;
const POLL_MS = 1_000;

const started = Date.now();
const elapsed = () => `[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s]`;
const say = (message: string) => process.stdout.write(`${elapsed()} ${message}\n`);
const step = (message: string) => process.stdout.write(`\n== ${message}\n`);
const indent = (text: string) => text.split('\n').map((line) => `  ${line}`).join('\n');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

class Interrupted extends Error {}

/** Ctrl-C (or SIGTERM): the first asks to stop, later ones are told it is under way. */
function interruption(): AbortSignal {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) {
      process.stdout.write('\nstill bringing the world down…\n');
      return;
    }
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}

const pause = (ms: number, signal: AbortSignal) => new Promise<void>((done) => {
  const timer = setTimeout(done, ms);
  signal.addEventListener('abort', () => {
    clearTimeout(timer);
    done();
  }, { once: true });
});

/** Waits for Ctrl-C; the timer keeps Node from exiting while nothing else is pending. */
function untilInterrupted(signal: AbortSignal): Promise<void> {
  const keepAlive = setInterval(() => undefined, 60_000);
  return new Promise<void>((done) => signal.addEventListener('abort', () => {
    clearInterval(keepAlive);
    done();
  }, { once: true }));
}

function showWorld(state: WorldState): void {
  for (const row of worldStatus(state.dir)) say(`${row.name.padEnd(42)} pid ${String(row.pid).padEnd(7)} ${String(row.rssMiB).padStart(4)} MiB`);
}

async function showOperator(state: WorldState, client: KubeClient): Promise<void> {
  const operator = state.operator!;
  const probe = async (path: string) => (await fetch(`http://${operator.healthAddress}${path}`)).status;
  say(`talos-capi /healthz ${await probe('/healthz')}, /readyz ${await probe('/readyz')}; webhooks at ${operator.webhookUrl}`);
  const leases = await client.list<KubeObject & { spec?: { holderIdentity?: string } }>(LeaseKind, { namespace: 'default' });
  for (const lease of leases.items.filter((l) => l.metadata.name?.includes('talos-capi') && l.spec?.holderIdentity)) {
    say(`leader lease ${lease.metadata.namespace}/${lease.metadata.name} held by ${lease.spec?.holderIdentity}`);
  }
}

/**
 * The live table until the cluster is Ready: on a terminal one frame redrawn in place when anything
 * changes; in a log, the rows that changed under their table's header.
 */
async function watchUntilReady(reader: ClusterReader, plan: ExamplesPlan, signal: AbortSignal): Promise<void> {
  const expected = plan.controlPlaneReplicas + plan.workerReplicas;
  const terminal = process.stdout.isTTY === true;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let shown: string[][] = [];
  let shownLines = 0;
  for (;;) {
    if (signal.aborted) throw new Interrupted('interrupted before the cluster was Ready');
    const snapshot = await reader.snapshot();
    const tables = snapshotTables(snapshot);
    const ready = isReady(snapshot, expected);
    if (terminal && frameOf(tables) !== frameOf(shown)) {
      const frame = `${elapsed()} ${ready ? 'Ready' : 'coming up…'}\n${frameOf(tables)}`;
      process.stdout.write(redraw(frame, shownLines));
      shownLines = frame.split('\n').length;
    } else if (!terminal) {
      for (const changed of changedTables(shown, tables)) process.stdout.write(`${elapsed()}\n${indent(changed.join('\n'))}\n`);
    }
    shown = tables;
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`the cluster was not Ready after ${seconds(READY_TIMEOUT_MS)}:\n${frameOf(tables)}`);
    await pause(POLL_MS, signal);
  }
}

/** The kubeconfig and talosconfig as files, and the workload's Nodes through that kubeconfig. */
async function showAccess(reader: ClusterReader, plan: ExamplesPlan, state: WorldState): Promise<void> {
  const { dir } = state;
  const kubeconfigPath = join(dir, `${plan.cluster}.kubeconfig`);
  writeFileSync(kubeconfigPath, decodeSecret(await reader.secret('kubeconfig'), 'value'), { mode: 0o600 });
  const talosconfigPath = join(dir, `${plan.cluster}.talosconfig`);
  writeFileSync(talosconfigPath, decodeSecret(await reader.secret('talosconfig'), 'talosconfig'), { mode: 0o600 });
  const workload = KubeClient.load(kubeconfigPath);
  say(`kubeconfig  (Secret ${plan.cluster}-kubeconfig):  ${kubeconfigPath}`);
  say(`talosconfig (Secret ${plan.cluster}-talosconfig): ${talosconfigPath}`);
  say(`workload apiserver: ${workload.server}`);
  const nodes = await workload.list<NodeObject>(NodeKind, {});
  process.stdout.write(`\n$ kubectl --kubeconfig ${kubeconfigPath} get nodes\n${nodesTable(nodes.items, Date.now())}\n`);
  const [node] = controlPlaneEndpoints(await reader.machines());
  process.stdout.write(`\n$ talosctl --talosconfig ${talosconfigPath} --nodes ${node} etcd members\n`);
  process.stdout.write(`$ kubectl --kubeconfig ${state.kubeconfig} get clusters,taloscontrolplanes,machines   # the management cluster\n`);
}

async function main(): Promise<void> {
  const exitWhenReady = process.argv.includes('--exit');
  const keep = process.argv.includes('--keep');
  const signal = interruption();
  const objects = readExamples();
  const plan = planOf(objects);
  const dir = mkdtempSync(join(tmpdir(), 'talos-capi-demo-'));
  let up = false;
  let failed = false;
  try {
    step('the world: test bed, Cluster API core, simulated infrastructure, talos-capi');
    const state = await startWorld({ dir });
    up = true;
    const worldUpAt = Date.now();
    say(`up in ${dir} (${Object.entries(state.timings).map(([k, v]) => `${k} ${v.toFixed(1)}s`).join(', ')})`);
    showWorld(state);
    const client = KubeClient.load(state.kubeconfig, { qps: 50, burst: 100 });
    await showOperator(state, client);

    step(`${relative(process.cwd(), EXAMPLES_DIR) || EXAMPLES_DIR}/: Cluster ${plan.cluster}, ${plan.controlPlaneReplicas} control-plane nodes, ${plan.workerReplicas} workers`);
    if (signal.aborted) throw new Interrupted('interrupted while the world came up');
    for (const obj of await applyExamples(client, objects, NAMESPACE)) say(`${obj.kind} ${obj.metadata.name} (${obj.apiVersion}) applied`);
    const appliedAt = Date.now();

    step('Cluster API core and talos-capi bring it up');
    const reader = new ClusterReader(client, NAMESPACE, plan);
    try {
      await watchUntilReady(reader, plan, signal);
    } finally {
      reader.etcd.close();
    }
    const readyAt = Date.now();
    say(`cluster ${plan.cluster} Ready: ${seconds(readyAt - appliedAt)} after apply, ${seconds(readyAt - started)} since the demo started`);
    process.stderr.write(`[figures] demo: world up ${seconds(worldUpAt - started)}, apply → Ready ${seconds(readyAt - appliedAt)}, start → Ready ${seconds(readyAt - started)}\n`);

    step('how to reach it');
    await showAccess(reader, plan, state);
    if (keep) say(`--keep: the world stays up in ${dir}; stop it with: npm run testbed -- down --dir ${dir}`);
    if (!exitWhenReady) {
      process.stdout.write(`\nThe cluster keeps running: Ctrl-C ${keep ? 'ends the demo (the world stays up)' : 'brings the world down'}.\n`);
      await untilInterrupted(signal);
    }
  } catch (error) {
    failed = !(error instanceof Interrupted);
    throw error;
  } finally {
    if (up && !keep) {
      say('bringing the world down');
      await stopWorld(dir).catch((error: unknown) => say(`stopping the world: ${String(error)}`));
    }
    // A failed run keeps its logs.
    if (failed) say(`logs in ${dir}`);
    else if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => {
    process.stdout.write(`\ndemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`\ndemo ${error instanceof Interrupted ? 'stopped' : 'failed'}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof Interrupted ? 130 : 1);
  },
);
