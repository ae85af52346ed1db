// `make demo`: the main job on an embedded default.
//
// 1. a real kube-apiserver + etcd (the test bed, built from Go modules), with the Cluster API CRDs;
// 2. the talos-capi operator as its own process: leader election, probes, metrics, webhooks;
// 3. a cluster declared from CRs (scripts/demo/cluster.yaml: Cluster, Machines, v1alpha3 TalosConfigs);
// 4. simulated Talos nodes (Talos's own config validator inside) booting from the bootstrap data
//    the operator generated, etcd bootstrapped through our Talos API client with the talosconfig
//    the operator wrote.
// The test bed runs no Cluster API controllers: the demo plays their part (infrastructure
// provisioned, Machines owning their TalosConfigs) and says so.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { KubeClient } from '../src/kube/client';
import type { KubeObject } from '../src/kube/object';
import { LeaseKind, SecretKind, type ResourceKind } from '../src/kube/resource';
import { ClusterKind, MachineKind } from '../src/api/capi/v1beta2/resources';
import { V1ALPHA3, V1BETA1 } from '../src/api/bootstrap/resources';
import type { Cluster, Machine } from '../src/api/capi/v1beta2/types';
import type { TalosConfig } from '../src/api/bootstrap/v1beta1/types';
import { TalosClient, unwrapAll } from '../src/talos/api';
import { startTestbed, stopTestbed } from '../test/testbed/testbed';
import { NamespaceKind, decode, eventually } from '../test/support/capi-fixtures';
import { startOperator, type OperatorProcess } from '../test/support/operator-process';
import { TalosSim } from '../test/support/talos-sim';
import { generateWebhookCerts, registerWebhooks, writeWebhookCerts } from '../test/support/webhook-certs';

const NAMESPACE = 'demo';
const KINDS: Record<string, ResourceKind> = {
  'cluster.x-k8s.io/v1beta2/Cluster': ClusterKind,
  'cluster.x-k8s.io/v1beta2/Machine': MachineKind,
  'bootstrap.cluster.x-k8s.io/v1alpha3/TalosConfig': V1ALPHA3.talosConfig,
};

const started = Date.now();
const say = (message: string) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${message}\n`);
const step = (message: string) => process.stdout.write(`\n== ${message}\n`);

async function applyManifest(client: KubeClient, file: string): Promise<KubeObject[]> {
  const created: KubeObject[] = [];
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const obj = doc.toJS() as KubeObject;
    const kind = KINDS[`${obj.apiVersion}/${obj.kind}`];
    if (!kind) throw new Error(`demo manifest: no mapping for ${obj.apiVersion} ${obj.kind}`);
    created.push(await client.create(kind, { ...obj, metadata: { ...obj.metadata, namespace: NAMESPACE } }));
    say(`created ${obj.kind} ${obj.metadata.name} (${obj.apiVersion})`);
  }
  return created;
}

async function operatorStatus(operator: OperatorProcess, client: KubeClient): Promise<void> {
  const probe = async (path: string) => (await fetch(`http://${operator.healthAddress}${path}`)).status;
  say(`operator /healthz ${await probe('/healthz')}, /readyz ${await probe('/readyz')} (at ${operator.healthAddress})`);
  const lease = await eventually('the leader lease', async () => {
    const leases = await client.list<KubeObject & { spec?: { holderIdentity?: string } }>(LeaseKind, { namespace: 'default' });
    return leases.items.find((l) => l.spec?.holderIdentity);
  });
  say(`leader lease ${lease.metadata.namespace}/${lease.metadata.name} held by ${lease.spec?.holderIdentity}`);
  const leader = await operator.metric('leader_election_master_status');
  say(`metrics: leader_election_master_status ${leader}, rest_client_requests_total(GET 200) ${await operator.metric('rest_client_requests_total', { method: 'GET', code: '200' })}`);
}

async function main(): Promise<void> {
  const keep = process.argv.includes('--keep');
  const dir = mkdtempSync(join(tmpdir(), 'talos-capi-demo-'));
  let operator: OperatorProcess | undefined;
  let sim: TalosSim | undefined;
  try {
    step('test bed: kube-apiserver + etcd from Go modules, Cluster API CRDs, our CRDs');
    const state = await startTestbed({ dir });
    say(`kube-apiserver ${state.server} up (${Object.entries(state.timings).map(([k, v]) => `${k} ${v.toFixed(1)}s`).join(', ')})`);
    const client = KubeClient.load(state.kubeconfig, { qps: 100, burst: 200 });

    step('operator: leader election, probes, metrics, webhook server');
    const certs = await generateWebhookCerts();
    const certDir = join(dir, 'webhook-certs');
    mkdirSync(certDir, { recursive: true });
    writeWebhookCerts(certDir, certs);
    operator = await startOperator({
      kubeconfig: state.kubeconfig,
      args: ['--leader-elect', '--leader-election-namespace=default', '--webhook-host=127.0.0.1', '--webhook-port=0', `--webhook-cert-dir=${certDir}`],
    });
    const webhookUrl = await eventually('the webhook server address', async () => /"url":"(https:\/\/[^"]+)","msg":"webhook server listening"/.exec(operator!.output())?.[1]);
    await registerWebhooks(state.kubeconfig, { url: webhookUrl, caBundle: certs.caPem });
    say(`webhooks (conversion v1alpha3 <-> v1beta1, validation) served at ${webhookUrl} and registered`);
    await operatorStatus(operator, client);

    step('a cluster declared from CRs (scripts/demo/cluster.yaml)');
    await client.create(NamespaceKind, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
    const objects = await applyManifest(client, join(__dirname, 'demo', 'cluster.yaml'));
    const machines = objects.filter((o): o is Machine => o.kind === 'Machine');
    const cluster = objects.find((o): o is Cluster => o.kind === 'Cluster')!;

    step('playing Cluster API core + the infrastructure provider (the test bed runs neither)');
    await client.patch(ClusterKind, NAMESPACE, cluster.metadata.name!, { status: { initialization: { infrastructureProvisioned: true } } }, 'merge', { subresource: 'status' });
    say('Cluster infrastructure provisioned');
    for (const machine of machines) {
      await client.patch(V1BETA1.talosConfig, NAMESPACE, machine.spec.bootstrap.configRef!.name, {
        metadata: { ownerReferences: [{ apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Machine', name: machine.metadata.name!, uid: machine.metadata.uid! }] },
      }, 'merge');
    }
    say('each Machine owns its TalosConfig');

    step('bootstrap provider at work');
    const configs = await eventually('every TalosConfig Ready', async () => {
      const list = await client.list<TalosConfig>(V1BETA1.talosConfig, { namespace: NAMESPACE });
      const ready = list.items.filter((c) => c.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'));
      return ready.length === machines.length ? list.items : undefined;
    }, { timeoutMs: 120_000 });
    for (const config of configs) say(`TalosConfig ${config.metadata.name}: Ready, data secret ${config.status?.dataSecretName}`);
    const asV1alpha3 = await client.get<KubeObject & { status?: { ready?: boolean } }>(V1ALPHA3.talosConfig, NAMESPACE, 'demo-cp-0');
    say(`read back as v1alpha3 (CABPT v0.6 shape): status.ready=${asV1alpha3.status?.ready}`);
    const events = await client.list<KubeObject & { reason?: string; note?: string }>({ group: 'events.k8s.io', version: 'v1', kind: 'Event', plural: 'events', namespaced: true }, { namespace: NAMESPACE });
    for (const event of events.items.filter((e) => e.reason === 'ConfigPatchRewritten')) say(`Event ${event.reason}: ${event.note}`);
    for (const name of ['demo-talos', 'demo-ca', 'demo-talosconfig']) {
      const secret = await client.get<KubeObject & { data?: Record<string, string> }>(SecretKind, NAMESPACE, name);
      say(`Secret ${name}: keys ${Object.keys(secret.data ?? {}).join(', ')}`);
    }

    step('simulated Talos nodes boot from the generated bootstrap data (validated by Talos itself)');
    sim = await TalosSim.start({ mode: 'metal' });
    const nodes = new Map<string, string>();
    for (const machine of machines) {
      const secret = await client.get<KubeObject & { data?: Record<string, string> }>(SecretKind, NAMESPACE, `${machine.metadata.name}-bootstrap-data`);
      const node = await sim.bootNode(decode(secret.data?.value), { id: machine.metadata.name!, hostname: machine.metadata.name! });
      if (node.state === 'failed') throw new Error(`${machine.metadata.name} failed to boot: ${node.bootError}`);
      nodes.set(machine.metadata.name!, node.address);
      say(`${machine.metadata.name} booting at ${node.address}`);
    }
    const cpAddress = nodes.get('demo-cp-0')!;
    await sim.waitFor('demo-cp-0', (n) => n.state === 'running', 30_000);
    const talosconfig = decode((await client.get<KubeObject & { data?: Record<string, string> }>(SecretKind, NAMESPACE, 'demo-talosconfig')).data?.talosconfig);
    const talos = TalosClient.fromTalosconfig(talosconfig, { endpoints: [cpAddress] });
    try {
      const [version] = unwrapAll(await talos.version());
      say(`Talos API over mTLS with the operator's talosconfig: node runs ${version?.tag ?? '?'}`);
      unwrapAll(await talos.bootstrap());
      say('etcd bootstrapped on demo-cp-0');
      const members = await eventually('an etcd member', async () => {
        const [list] = unwrapAll(await talos.etcdMemberList());
        const found = list?.members ?? [];
        return found.length ? found : undefined;
      });
      say(`etcd members: ${members.map((m) => `${m.hostname} (id ${m.id})`).join(', ')}`);
    } finally {
      talos.close();
    }
    for (const name of ['demo-worker-0', 'demo-worker-1']) {
      await sim.waitFor(name, (n) => n.state === 'running', 30_000);
      say(`${name} running (joined: certificate from the control plane's trustd)`);
    }

    step('summary');
    await operatorStatus(operator, client);
    say(`reconciles: talosconfig success ${await operator.metric('controller_runtime_reconcile_total', { controller: 'talosconfig', result: 'success' })}`);
    say('cluster "demo" ready: 3 TalosConfigs Ready, 3 Talos nodes running, etcd bootstrapped');
    if (keep) {
      say(`--keep: test bed left running in ${dir} (stop: npm run testbed -- down --dir ${dir}); press Ctrl-C to stop the operator and the simulator`);
      await new Promise(() => undefined);
    }
  } finally {
    await sim?.shutdown().catch(() => undefined);
    await operator?.stop().catch(() => undefined);
    if (!keep) {
      await stopTestbed(dir).catch(() => undefined);
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
