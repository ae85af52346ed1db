// `make demo`: the main job on an embedded default, in the end-to-end world.
//
// 1. the world (`npm run testbed -- up --world`): a real kube-apiserver + etcd built from Go modules,
//    the real Cluster API core manager, our simulated infrastructure provider (Talos nodes with
//    Talos's own config validator inside, a real workload apiserver per cluster, kubelets) and the
//    talos-capi operator as its own process (`talos-capi run`: leader election, probes, metrics,
//    conversion and validation webhooks);
// 2. a cluster declared from CRs (scripts/demo/cluster.yaml): Cluster, SimCluster, a control-plane
//    Machine with a v1alpha3 TalosConfig, a MachineDeployment of two workers from a TalosConfigTemplate;
// 3. etcd bootstrapped through our Talos API client with the talosconfig the operator wrote — the one
//    step a control-plane provider will take over — then a live table until every Machine runs.
// `--keep` leaves the world running (stop it with `npm run testbed -- down --dir DIR`).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { KubeClient } from '../src/kube/client/client';
import type { KubeObject } from '../src/kube/meta/object';
import { LeaseKind, SecretKind } from '../src/kube/client/resource';
import { RestMapper } from '../src/kube/client/rest-mapper';
import { ClusterKind, MachineKind } from '../src/api/capi/v1beta2/resources';
import { V1ALPHA3 } from '../src/api/bootstrap/resources';
import type { Cluster, Machine } from '../src/api/capi/v1beta2/types';
import { TalosApiError, TalosClient, unwrapAll } from '../src/talos/api';
import { NamespaceKind, decode, eventually } from '../test/support/capi-fixtures';
import { startWorld, stopWorld, worldStatus, type WorldState } from '../test/world/world';

const NAMESPACE = 'demo';
const CLUSTER = 'demo';
const NodeKind = { group: '', version: 'v1', kind: 'Node', plural: 'nodes', namespaced: false };

const started = Date.now();
const say = (message: string) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${message}\n`);
const step = (message: string) => process.stdout.write(`\n== ${message}\n`);

type Secret = KubeObject & { data?: Record<string, string> };
type NodeObject = KubeObject & { status?: { conditions?: { type: string; status: string }[]; nodeInfo?: { kubeletVersion?: string } } };

async function applyManifest(client: KubeClient, mapper: RestMapper, file: string): Promise<void> {
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const obj = doc.toJS() as KubeObject;
    const kind = await mapper.kindForApiVersion(obj.apiVersion!, obj.kind!);
    await client.create(kind, { ...obj, metadata: { ...obj.metadata, namespace: NAMESPACE } });
    say(`created ${obj.kind} ${obj.metadata.name} (${obj.apiVersion})`);
  }
}

function showWorld(state: WorldState): void {
  for (const row of worldStatus(state.dir)) say(`${row.name.padEnd(42)} pid ${String(row.pid).padEnd(7)} ${String(row.rssMiB).padStart(4)} MiB`);
}

async function showOperator(state: WorldState, client: KubeClient): Promise<void> {
  const operator = state.operator!;
  const probe = async (path: string) => (await fetch(`http://${operator.healthAddress}${path}`)).status;
  say(`talos-capi /healthz ${await probe('/healthz')}, /readyz ${await probe('/readyz')}; webhooks at ${operator.webhookUrl}`);
  const lease = await eventually('the leader lease', async () => {
    const leases = await client.list<KubeObject & { spec?: { holderIdentity?: string } }>(LeaseKind, { namespace: 'default' });
    return leases.items.find((l) => l.metadata.name?.includes('talos-capi') && l.spec?.holderIdentity);
  });
  say(`leader lease ${lease.metadata.namespace}/${lease.metadata.name} held by ${lease.spec?.holderIdentity}`);
}

function machineTable(machines: Machine[]): string {
  const rows = machines
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))
    .map((m) => {
      const ready = m.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? '-';
      return `  ${(m.metadata.name ?? '').padEnd(28)} ${(m.status?.phase ?? '-').padEnd(13)} ready=${ready.padEnd(8)} ${(m.spec.version ?? '').padEnd(9)} node=${m.status?.nodeRef?.name ?? '-'}`;
    });
  return rows.join('\n');
}

/** Prints the Machines whenever they change, until all `count` run with a node. */
async function watchMachines(client: KubeClient, count: number): Promise<Machine[]> {
  let shown = '';
  return eventually(`${count} Machines Running`, async () => {
    const machines = (await client.list<Machine>(MachineKind, { namespace: NAMESPACE })).items;
    const table = machineTable(machines);
    if (table !== shown) {
      say(`Machines:\n${table}`);
      shown = table;
    }
    const running = machines.filter((m) => m.status?.phase === 'Running' && m.status.nodeRef);
    return running.length === count ? machines : undefined;
  }, { timeoutMs: 300_000, intervalMs: 500 });
}

async function bootstrapEtcd(client: KubeClient): Promise<void> {
  const machine = await eventually('demo-cp-0 has an address', async () => {
    const m = await client.get<Machine>(MachineKind, NAMESPACE, 'demo-cp-0');
    return m.status?.addresses?.find((a) => a.type === 'InternalIP');
  }, { timeoutMs: 120_000, intervalMs: 250 });
  const talosconfig = decode((await client.get<Secret>(SecretKind, NAMESPACE, `${CLUSTER}-talosconfig`)).data?.talosconfig);
  const talos = TalosClient.fromTalosconfig(talosconfig, { endpoints: [machine.address] });
  try {
    const [version] = await eventually('the Talos API of demo-cp-0', async () => unwrapAll(await talos.version()), { timeoutMs: 60_000, intervalMs: 500 });
    say(`Talos API over mTLS with the operator's talosconfig: demo-cp-0 (${machine.address}) runs ${version?.tag ?? '?'}`);
    try {
      unwrapAll(await talos.bootstrap());
    } catch (error) {
      if (!(error instanceof TalosApiError && error.codeName === 'ALREADY_EXISTS')) throw error;
    }
    say('etcd bootstrapped on demo-cp-0 (a control-plane provider\'s step: played here until one exists)');
  } finally {
    talos.close();
  }
}

async function main(): Promise<void> {
  const keep = process.argv.includes('--keep');
  const dir = mkdtempSync(join(tmpdir(), 'talos-capi-demo-'));
  let up = false;
  try {
    step('the world: test bed, Cluster API core, simulated infrastructure, talos-capi');
    const state = await startWorld({ dir });
    up = true;
    say(`up (${Object.entries(state.timings).map(([k, v]) => `${k} ${v.toFixed(1)}s`).join(', ')})`);
    showWorld(state);
    const client = KubeClient.load(state.kubeconfig, { qps: 100, burst: 200 });
    await showOperator(state, client);

    step('a cluster declared from CRs (scripts/demo/cluster.yaml)');
    await client.create(NamespaceKind, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
    await applyManifest(client, new RestMapper(client), join(__dirname, 'demo', 'cluster.yaml'));

    step('Cluster API creates the workers, talos-capi renders every config, the simulated machines boot');
    const asV1alpha3 = await eventually('demo-cp-0 ready', async () => {
      const read = await client.get<KubeObject & { status?: { ready?: boolean } }>(V1ALPHA3.talosConfig, NAMESPACE, 'demo-cp-0');
      return read.status?.ready ? read : undefined;
    }, { timeoutMs: 120_000 });
    say(`TalosConfig demo-cp-0 read back as v1alpha3 (through our conversion webhook): status.ready=${asV1alpha3.status?.ready}`);
    const events = await client.list<KubeObject & { reason?: string; note?: string }>({ group: 'events.k8s.io', version: 'v1', kind: 'Event', plural: 'events', namespaced: true }, { namespace: NAMESPACE });
    for (const event of events.items.filter((e) => e.reason === 'ConfigPatchRewritten')) say(`Event ${event.reason}: ${event.note}`);
    await bootstrapEtcd(client);
    const machines = await watchMachines(client, 3);

    step('the workload cluster');
    const kubeconfig = decode((await client.get<Secret>(SecretKind, NAMESPACE, `${CLUSTER}-kubeconfig`)).data?.value);
    const kubeconfigPath = join(dir, `${CLUSTER}.kubeconfig`);
    writeFileSync(kubeconfigPath, kubeconfig, { mode: 0o600 });
    const talosconfigPath = join(dir, `${CLUSTER}.talosconfig`);
    writeFileSync(talosconfigPath, decode((await client.get<Secret>(SecretKind, NAMESPACE, `${CLUSTER}-talosconfig`)).data?.talosconfig), { mode: 0o600 });
    const workload = KubeClient.load(kubeconfigPath);
    say(`kubectl get nodes (${workload.server}, the kubeconfig Cluster API wrote):`);
    for (const node of (await workload.list<NodeObject>(NodeKind, {})).items) {
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
      say(`  ${(node.metadata.name ?? '').padEnd(28)} Ready=${ready} ${node.status?.nodeInfo?.kubeletVersion ?? ''}`);
    }
    const wanted = ['InfrastructureReady', 'ControlPlaneInitialized', 'RemoteConnectionProbe', 'WorkersAvailable'];
    const cluster = await eventually('the Cluster\'s conditions', async () => {
      const current = await client.get<Cluster>(ClusterKind, NAMESPACE, CLUSTER);
      return wanted.every((type) => current.status?.conditions?.some((c) => c.type === type && c.status === 'True')) ? current : undefined;
    }, { timeoutMs: 120_000, intervalMs: 500 });
    say(`Cluster ${CLUSTER} (Cluster API's view): phase ${cluster.status?.phase}; ${wanted.map((type) => `${type}=True`).join(', ')}`);
    say(`Machines:\n${machineTable((await client.list<Machine>(MachineKind, { namespace: NAMESPACE })).items)}`);
    say(`cluster "${CLUSTER}" ready: ${machines.length} Machines Running, their Nodes Ready`);
    say(`kubeconfig:  ${kubeconfigPath}\n${' '.repeat(9)}talosconfig: ${talosconfigPath}`);
    showWorld(state);
    if (keep) {
      say(`--keep: the world stays up in ${dir}; stop it with: npm run testbed -- down --dir ${dir}`);
    }
  } finally {
    if (up && !keep) {
      await stopWorld(dir).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

main().then(
  () => process.stdout.write(`\ndemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s\n`),
  (error: unknown) => {
    process.stderr.write(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
