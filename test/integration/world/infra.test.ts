// The simulated infrastructure provider against the test bed, with a Talos simulator. The test
// bed runs no Cluster API controllers, so the test plays their few steps itself: owner
// references, Machines naming their bootstrap data Secret. Configs come from Talos's own
// generator (the simulator's /generate) for the endpoint the SimCluster allocated.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { KubeClient } from '../../../src/kube/client/client';
import { isNotFound } from '../../../src/kube/client/api-error';
import type { KubeObject } from '../../../src/kube/meta/object';
import { NodeKind, SecretKind, type ResourceKind } from '../../../src/kube/client/resource';
import { TalosClient, unwrapSingle } from '../../../src/talos/api';
import { ClusterKind, MachineKind } from '../../../src/api/capi/v1beta2/resources';
import { CLUSTER_NAME_LABEL, CONTROL_PLANE_LABEL, type Cluster, type Machine } from '../../../src/api/capi/v1beta2/types';
import type { Condition } from '../../../src/api/meta';
import { createNamespace, eventsFor, eventually, testClient } from '../../support/capi-fixtures';
import { SIM_BUILD_TIMEOUT_MS, TalosSim, TalosSimError, type GeneratedCluster } from '../../support/talos-sim';
import { INFRA_API_VERSION, SimClusterKind, SimMachineKind, type SimCluster, type SimMachine } from '../../world/infra/api';
import { installSimInfraCrds } from '../../world/infra/crds';
import { SimControlClient } from '../../world/infra/sim-control';
import { ENDPOINT_PREFIX } from '../../world/infra/endpoint';
import { startSimInfra, INFRA_STATE_FILE, type SimInfra, type SimInfraState } from '../../world/infra/sim-infra';
import { PROCESS_RECORD_FILE, type WorkloadRecord } from '../../world/infra/workloads';
import { kubeProxyImageOf } from '../../world/infra/machine-config';
import { DaemonSetKind, type DaemonSet } from '../../../src/controlplane/kube-proxy';

const REPO_ROOT = resolve(__dirname, '..', '..', '..');
const figures: string[] = [];
const ms = (since: number) => `${Math.round(performance.now() - since)} ms`;

interface WorkloadNode extends KubeObject {
  spec?: { providerID?: string };
  status?: { conditions?: { type: string; status: string }[] };
}

let client: KubeClient;
let sim: TalosSim;
let infra: SimInfra;
let stateDir: string;
let namespace: string;
let cluster: Cluster;
let simCluster: SimCluster;
let generated: GeneratedCluster;
let workload: KubeClient;
const talosClients: TalosClient[] = [];

const condition = (obj: { status?: { conditions?: Condition[] } }, type: string) => obj.status?.conditions?.find((c) => c.type === type);
const getSimMachine = (name: string) => client.get<SimMachine>(SimMachineKind, namespace, name);
const getSimCluster = () => client.get<SimCluster>(SimClusterKind, namespace, simCluster.metadata.name!);
const kubeProxyContainers = async () =>
  (await workload.get<DaemonSet>(DaemonSetKind, 'kube-system', 'kube-proxy')).spec?.template?.spec?.containers?.map((c) => `${c.name} ${c.image}`);
const owner = (obj: Cluster | Machine) => ({ apiVersion: 'cluster.x-k8s.io/v1beta2', kind: obj.kind, name: obj.metadata.name!, uid: obj.metadata.uid!, controller: true });

async function createClusterPair(ns: string, name: string): Promise<{ cluster: Cluster; simCluster: SimCluster }> {
  const created = await client.create<Cluster>(ClusterKind, {
    apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster', metadata: { name, namespace: ns },
    spec: { infrastructureRef: { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: 'SimCluster', name } },
  });
  const infraCluster = await client.create<SimCluster>(SimClusterKind, {
    apiVersion: INFRA_API_VERSION, kind: 'SimCluster', metadata: { name, namespace: ns, labels: { [CLUSTER_NAME_LABEL]: name } },
    spec: { failureDomains: [{ name: 'fd-a', controlPlane: true, attributes: { rack: 'a' } }, { name: 'fd-b', controlPlane: false }] },
  });
  return { cluster: created, simCluster: infraCluster };
}

async function setOwner<T extends KubeObject>(kind: ResourceKind, obj: T, ownerObj: Cluster | Machine): Promise<T> {
  return client.patch<T>(kind, obj.metadata.namespace!, obj.metadata.name!, { metadata: { ownerReferences: [owner(ownerObj)] } }, 'merge');
}

/** What Cluster API's Machine controller and our bootstrap provider would have made: Machine, SimMachine, data Secret. */
async function createMachine(name: string, config: string | undefined, controlPlane: boolean): Promise<Machine> {
  const labels: Record<string, string> = { [CLUSTER_NAME_LABEL]: cluster.metadata.name! };
  if (controlPlane) labels[CONTROL_PLANE_LABEL] = '';
  if (config !== undefined) await createDataSecret(name, config);
  const machine = await client.create<Machine>(MachineKind, {
    apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Machine', metadata: { name, namespace, labels },
    spec: {
      clusterName: cluster.metadata.name!,
      version: 'v1.34.1',
      failureDomain: controlPlane ? 'fd-a' : 'fd-b',
      bootstrap: config === undefined ? { configRef: { apiGroup: 'bootstrap.cluster.x-k8s.io', kind: 'TalosConfig', name } } : { dataSecretName: `${name}-bootstrap-data` },
      infrastructureRef: { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: 'SimMachine', name },
    },
  });
  const simMachine = await client.create<SimMachine>(SimMachineKind, {
    apiVersion: INFRA_API_VERSION, kind: 'SimMachine', metadata: { name, namespace, labels }, spec: {},
  });
  await setOwner(SimMachineKind, simMachine, machine);
  return machine;
}

async function createDataSecret(name: string, config: string): Promise<void> {
  await client.create(SecretKind, {
    apiVersion: 'v1', kind: 'Secret', type: 'cluster.x-k8s.io/secret',
    metadata: { name: `${name}-bootstrap-data`, namespace, labels: { [CLUSTER_NAME_LABEL]: cluster.metadata.name! } },
    data: { value: Buffer.from(config).toString('base64') },
  } as KubeObject);
}

async function waitForSimMachine(name: string, what: string, probe: (m: SimMachine) => boolean, timeoutMs = 30_000): Promise<SimMachine> {
  let last: SimMachine | undefined;
  return eventually(`SimMachine ${name}: ${what}`, async () => {
    last = await getSimMachine(name);
    return probe(last) ? last : undefined;
  }, { timeoutMs }).catch((error: Error) => {
    throw new Error(`${error.message}; last status ${JSON.stringify(last?.status)}`);
  });
}

async function isGone(get: () => Promise<unknown>): Promise<boolean> {
  try {
    await get();
    return false;
  } catch (error) {
    return isNotFound(error);
  }
}

async function nodeReady(name: string): Promise<string | undefined> {
  try {
    const node = await workload.get<WorkloadNode>(NodeKind, '', name);
    return node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

beforeAll(async () => {
  client = testClient();
  const started = performance.now();
  [sim] = await Promise.all([TalosSim.start({ addressing: 'ips', mode: 'metal' }), installSimInfraCrds(client)]);
  figures.push(`simulator start + CRD install: ${ms(started)}`);
  namespace = await createNamespace(client, 'infra');
  stateDir = mkdtempSync(join(tmpdir(), 'sim-infra-'));
  infra = await startSimInfra({
    client, stateDir, simControlUrl: sim.controlUrl, namespace,
    workload: { nodeMonitorGracePeriodSeconds: 4 }, kubeletHeartbeatMs: 1000,
  });
}, SIM_BUILD_TIMEOUT_MS);

afterAll(async () => {
  for (const c of talosClients) c.close();
  await infra?.stop();
  await sim?.shutdown();
  console.log(`sim-infra figures:\n  ${figures.join('\n  ')}`);
}, 60_000);

test('infra.json names the simulator the provider uses', () => {
  const state = JSON.parse(readFileSync(join(stateDir, INFRA_STATE_FILE), 'utf8')) as SimInfraState;
  expect(state).toMatchObject({ pid: process.pid, simControlUrl: sim.controlUrl, ownSimulator: false });
});

test('a SimCluster waits for its Cluster owner, then gets a loopback endpoint of its own, provisioned, with its failure domains', async () => {
  ({ cluster, simCluster } = await createClusterPair(namespace, 'sim'));
  const waiting = await eventually('SimCluster waiting for its owner', async () => {
    const current = await getSimCluster();
    return condition(current, 'Ready')?.reason === 'WaitingForClusterOwner' ? current : undefined;
  });
  expect(waiting.status?.initialization?.provisioned).toBeUndefined();
  expect(waiting.spec?.controlPlaneEndpoint).toBeUndefined();

  await setOwner(SimClusterKind, simCluster, cluster);
  simCluster = await eventually('SimCluster provisioned', async () => {
    const current = await getSimCluster();
    return current.status?.initialization?.provisioned ? current : undefined;
  });
  const endpoint = simCluster.spec!.controlPlaneEndpoint!;
  expect(endpoint.host!.startsWith(ENDPOINT_PREFIX)).toBe(true);
  expect(endpoint.port).toBe(6443);
  expect(simCluster.status?.failureDomains).toEqual([
    { name: 'fd-a', controlPlane: true, attributes: { rack: 'a' } },
    { name: 'fd-b', controlPlane: false },
  ]);
  expect(simCluster.metadata.finalizers).toContain('simcluster.infrastructure.cluster.x-k8s.io');
  expect(condition(simCluster, 'Ready')).toMatchObject({ status: 'True', reason: 'Provisioned' });
  expect(condition(simCluster, 'Paused')).toMatchObject({ status: 'False' });
  expect(condition(simCluster, 'WorkloadApiserverAvailable')).toMatchObject({ status: 'False', reason: 'WaitingForEtcd' });

  // Cluster API copies the endpoint to the Cluster; the bootstrap provider renders configs for it.
  await client.patch(ClusterKind, namespace, cluster.metadata.name!, { spec: { controlPlaneEndpoint: endpoint } }, 'merge');
  generated = await sim.generateCluster({ clusterName: cluster.metadata.name!, endpoint: `https://${endpoint.host}:${endpoint.port}`, kubernetesVersion: '1.34.1' });
});

test('a control-plane SimMachine waits for bootstrap data, then boots once: provisioned, providerID, addresses', async () => {
  const machine = await createMachine('cp-0', undefined, true);
  await waitForSimMachine('cp-0', 'waiting for bootstrap data', (m) => condition(m, 'Ready')?.reason === 'WaitingForBootstrapData');

  const t0 = performance.now();
  await createDataSecret('cp-0', generated.controlplane);
  await client.patch(MachineKind, namespace, machine.metadata.name!, { spec: { bootstrap: { dataSecretName: 'cp-0-bootstrap-data' } } }, 'merge');
  const provisioned = await waitForSimMachine('cp-0', 'provisioned', (m) => m.status?.initialization?.provisioned === true);
  figures.push(`control plane: Secret present → provisioned: ${ms(t0)}`);

  expect(provisioned.spec?.providerID).toBe(`sim://${namespace}/cp-0`);
  expect(provisioned.status).toMatchObject({ nodeId: `${namespace}.cp-0`, nodeState: 'running', failureDomain: 'fd-a' });
  const node = await sim.inspect(`${namespace}.cp-0`);
  expect(node.hostname).toBe('cp-0');
  expect(provisioned.status?.addresses).toEqual([{ type: 'InternalIP', address: node.host }, { type: 'Hostname', address: 'cp-0' }]);
  // The simulator's own /24 in 127.1–99.x.x (ipsFirstAddress).
  expect(node.host).toMatch(/^127\.([1-9]|[1-9]\d)\.\d{1,3}\.\d{1,3}$/);
  expect(condition(provisioned, 'Ready')).toMatchObject({ status: 'True', reason: 'NodeRunning' });
  expect(provisioned.metadata.finalizers).toContain('simmachine.infrastructure.cluster.x-k8s.io');
  await eventsFor(client, namespace, 'cp-0', 'NodeCreated');
  // booted once: later reconciles (every 1.5 s) reuse the node
  await new Promise((r) => setTimeout(r, 2000));
  expect((await sim.inspect(`${namespace}.cp-0`)).bootCount).toBe(1);
});

test('etcd bootstrapped on the node → the workload apiserver serves at the SimCluster endpoint, with the kube-proxy DaemonSet of the bootstrap manifests → the Node is Ready with its providerID', async () => {
  const node = await sim.inspect(`${namespace}.cp-0`);
  const talos = TalosClient.fromTalosconfig(generated.talosconfig, { endpoints: [node.address] });
  talosClients.push(talos);
  const t0 = performance.now();
  expect(unwrapSingle(await talos.bootstrap(), 'bootstrap')).toEqual({});

  const ready = await eventually('workload apiserver available', async () => {
    const current = await getSimCluster();
    return condition(current, 'WorkloadApiserverAvailable')?.status === 'True' ? current : undefined;
  }, { timeoutMs: 120_000, intervalMs: 200 });
  figures.push(`etcd bootstrap → workload apiserver available: ${ms(t0)}`);
  const endpoint = ready.spec!.controlPlaneEndpoint!;
  expect(ready.status?.workloadServer).toBe(`https://${endpoint.host}:${endpoint.port}`);

  const record = JSON.parse(readFileSync(join(stateDir, 'workload', `${namespace}-sim`, PROCESS_RECORD_FILE), 'utf8')) as WorkloadRecord;
  expect(record.server).toBe(ready.status?.workloadServer);
  expect(record.processes.length).toBeGreaterThan(0);
  workload = KubeClient.load(record.adminKubeconfigPath);
  expect(await kubeProxyContainers()).toEqual([`kube-proxy ${kubeProxyImageOf(generated.controlplane)}`]);
  expect(kubeProxyImageOf(generated.controlplane)).toMatch(/\/kube-proxy:v\d+\.\d+\.\d+$/);

  const t1 = performance.now();
  await eventually('Node cp-0 Ready', async () => (await nodeReady('cp-0')) === 'True', { timeoutMs: 60_000 });
  figures.push(`workload apiserver available → Node cp-0 Ready: ${ms(t1)}`);
  const workloadNode = await workload.get<WorkloadNode>(NodeKind, '', 'cp-0');
  expect(workloadNode.spec?.providerID).toBe(`sim://${namespace}/cp-0`);
}, 180_000);

test('a worker joins: provisioned once trustd signs, its Node Ready', async () => {
  const t0 = performance.now();
  await createMachine('worker-0', generated.worker, false);
  const worker = await waitForSimMachine('worker-0', 'provisioned', (m) => m.status?.initialization?.provisioned === true);
  figures.push(`worker: Secret present → provisioned: ${ms(t0)}`);
  expect(worker.status).toMatchObject({ nodeState: 'running', failureDomain: 'fd-b' });
  expect(worker.spec?.providerID).toBe(`sim://${namespace}/worker-0`);
  await eventually('Node worker-0 Ready', async () => (await nodeReady('worker-0')) === 'True', { timeoutMs: 60_000 });
  expect((await workload.get<WorkloadNode>(NodeKind, '', 'worker-0')).spec?.providerID).toBe(`sim://${namespace}/worker-0`);
}, 90_000);

test('a config Talos rejects: BootFailed with Talos\'s message, an Event, never provisioned', async () => {
  const broken = generated.controlplane.replace('\n    certSANs:', '\n    certSans:');
  expect(broken).not.toBe(generated.controlplane);
  await createMachine('broken', broken, true);
  const failed = await waitForSimMachine('broken', 'BootFailed', (m) => condition(m, 'Ready')?.reason === 'BootFailed');
  const message = condition(failed, 'Ready')!.message;
  expect(message).toContain('unknown keys found during decoding');
  expect(message).toContain('certSans');
  expect(failed.status).toMatchObject({ nodeState: 'failed', bootError: message, initialization: { provisioned: false } });
  const [event] = await eventsFor(client, namespace, 'broken', 'BootFailed');
  expect(event).toMatchObject({ type: 'Warning' });
  expect(event!.note).toContain('unknown keys found during decoding');
});

test('the worker\'s node stopped through the simulator: not Ready, kubelet gone, Node NotReady; started again: Ready again', async () => {
  const id = `${namespace}.worker-0`;
  await sim.stopNode(id);
  const stopped = await waitForSimMachine('worker-0', 'NodeStopped', (m) => condition(m, 'Ready')?.reason === 'NodeStopped');
  expect(stopped.status).toMatchObject({ nodeState: 'stopped', initialization: { provisioned: true } });
  const t0 = performance.now();
  await eventually('Node worker-0 not Ready', async () => (await nodeReady('worker-0')) !== 'True', { timeoutMs: 60_000, intervalMs: 250 });
  figures.push(`node stopped → Node NotReady: ${ms(t0)}`);

  await sim.startNode(id);
  await waitForSimMachine('worker-0', 'running again', (m) => condition(m, 'Ready')?.status === 'True');
  await eventually('Node worker-0 Ready again', async () => (await nodeReady('worker-0')) === 'True', { timeoutMs: 60_000 });
}, 150_000);

test('deleting a SimMachine destroys its simulated node, says Deleting, and lets the object go', async () => {
  const id = `${namespace}.worker-0`;
  expect((await sim.inspect(id)).state).toBe('running');
  // another party's finalizer keeps the object visible after ours is gone
  const hold = 'test.example.com/hold';
  const current = await getSimMachine('worker-0');
  await client.patch(SimMachineKind, namespace, 'worker-0', { metadata: { finalizers: [...(current.metadata.finalizers ?? []), hold] } }, 'merge');
  await client.delete(SimMachineKind, namespace, 'worker-0');
  // finalizers go in the main patch, the condition right after it through the status subresource
  const deleting = await waitForSimMachine('worker-0', 'our finalizer removed, Ready=False Deleting', (m) =>
    !m.metadata.finalizers?.includes('simmachine.infrastructure.cluster.x-k8s.io') && condition(m, 'Ready')?.reason === 'Deleting');
  expect(condition(deleting, 'Ready')?.status).toBe('False');
  await expect(sim.inspect(id)).rejects.toThrow(TalosSimError);
  await expect(sim.inspect(id)).rejects.toMatchObject({ status: 404 });

  await client.patch(SimMachineKind, namespace, 'worker-0', { metadata: { finalizers: deleting.metadata.finalizers!.filter((f) => f !== hold) } }, 'merge');
  await eventually('SimMachine worker-0 gone', () => isGone(() => getSimMachine('worker-0')));
});

test('a restarted provider takes over: nodes are not booted again, the workload cluster comes back at the same endpoint, its objects as they were', async () => {
  const before = await getSimCluster();
  // Someone (the control-plane provider) moved kube-proxy on: the bootstrap manifests do not put it back.
  await workload.patch(DaemonSetKind, 'kube-system', 'kube-proxy', [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'example.org/kube-proxy:v9.9.9' }], 'json');
  await infra.stop();
  const t0 = performance.now();
  infra = await startSimInfra({
    client, stateDir, simControlUrl: sim.controlUrl, namespace,
    workload: { nodeMonitorGracePeriodSeconds: 4 }, kubeletHeartbeatMs: 1000,
  });
  const recordPath = join(stateDir, 'workload', `${namespace}-sim`, PROCESS_RECORD_FILE);
  // stop() took the workload cluster down with the provider, and its record with it
  expect(existsSync(recordPath)).toBe(false);
  const record = await eventually('the workload cluster started again', async () =>
    existsSync(recordPath) ? (JSON.parse(readFileSync(recordPath, 'utf8')) as WorkloadRecord) : undefined,
  { timeoutMs: 120_000, intervalMs: 200 });
  expect(record.server).toBe(before.status?.workloadServer);
  const back = await getSimCluster();
  figures.push(`provider restart → workload apiserver available again: ${ms(t0)}`);
  expect(back.spec?.controlPlaneEndpoint).toEqual(before.spec?.controlPlaneEndpoint);
  await eventually('Node cp-0 Ready after the restart', async () => (await nodeReady('cp-0')) === 'True', { timeoutMs: 60_000 });
  expect((await sim.inspect(`${namespace}.cp-0`)).bootCount).toBe(1);
  expect(await kubeProxyContainers()).toEqual(['kube-proxy example.org/kube-proxy:v9.9.9']);
  // a boot whose status write was lost finds the node under its stable ID and takes it over
  const again = await new SimControlClient(sim.controlUrl).boot(generated.controlplane, { id: `${namespace}.cp-0` });
  expect(again).toMatchObject({ id: `${namespace}.cp-0`, bootCount: 1, state: 'running' });
}, 180_000);

test('the paused annotation pauses a SimMachine (Paused=True) and taking it away resumes it', async () => {
  await client.patch(SimMachineKind, namespace, 'broken', { metadata: { annotations: { 'cluster.x-k8s.io/paused': '' } } }, 'merge');
  await waitForSimMachine('broken', 'Paused', (m) => condition(m, 'Paused')?.status === 'True');
  await client.patch(SimMachineKind, namespace, 'broken', { metadata: { annotations: { 'cluster.x-k8s.io/paused': null } } }, 'merge');
  await waitForSimMachine('broken', 'resumed', (m) => condition(m, 'Paused')?.status === 'False');
});

test('deleting the SimCluster stops its workload cluster processes, says Deleting, and removes their record', async () => {
  const recordPath = join(stateDir, 'workload', `${namespace}-sim`, PROCESS_RECORD_FILE);
  const record = JSON.parse(readFileSync(recordPath, 'utf8')) as WorkloadRecord;
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  expect(record.processes.every((p) => alive(p.pid))).toBe(true);
  const hold = 'test.example.com/hold';
  const current = await getSimCluster();
  await client.patch(SimClusterKind, namespace, 'sim', { metadata: { finalizers: [...(current.metadata.finalizers ?? []), hold] } }, 'merge');
  await client.delete(SimClusterKind, namespace, simCluster.metadata.name!);
  const deleting = await eventually('our SimCluster finalizer removed', async () => {
    const c = await getSimCluster();
    return c.metadata.finalizers?.includes('simcluster.infrastructure.cluster.x-k8s.io') || condition(c, 'Ready')?.reason !== 'Deleting' ? undefined : c;
  }, { timeoutMs: 60_000 });
  expect(condition(deleting, 'Ready')?.status).toBe('False');
  await client.patch(SimClusterKind, namespace, 'sim', { metadata: { finalizers: [] } }, 'merge');
  await eventually('SimCluster gone', () => isGone(() => getSimCluster()), { timeoutMs: 60_000 });
  expect(record.processes.filter((p) => alive(p.pid))).toEqual([]);
  expect(existsSync(recordPath)).toBe(false);
}, 90_000);

test('without a simulator given, the provider runs its own and ends it on stop', async () => {
  const ns = await createNamespace(client, 'infra-own');
  const own = await startSimInfra({ client, stateDir: mkdtempSync(join(tmpdir(), 'sim-infra-own-')), namespace: ns });
  expect(own.state).toMatchObject({ ownSimulator: true, simControlUrl: own.simControlUrl });
  expect(own.simControlUrl).not.toBe(sim.controlUrl);
  expect((await fetch(`${own.simControlUrl}/healthz`)).status).toBe(200);
  await own.stop();
  await expect(fetch(`${own.simControlUrl}/healthz`)).rejects.toThrow();
});

describe('the process entry (main.ts)', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  test('serves health, reconciles its namespace, stops on SIGTERM; RSS measured', async () => {
    const ns = await createNamespace(client, 'infra-proc');
    const dir = mkdtempSync(join(tmpdir(), 'sim-infra-proc-'));
    const t0 = performance.now();
    child = spawn(process.execPath, [
      '--import', 'tsx', join(REPO_ROOT, 'test', 'world', 'infra', 'main.ts'),
      `--kubeconfig=${process.env.KUBECONFIG}`, `--state-dir=${dir}`, `--sim-control=${sim.controlUrl}`, `--namespace=${ns}`,
      '--health-addr=127.0.0.1:0', '--log-level=warn',
    ], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const state = await eventually('infra.json of the process', async () => {
      const path = join(dir, INFRA_STATE_FILE);
      return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as SimInfraState) : undefined;
    }, { timeoutMs: 60_000, intervalMs: 200 }).catch((error: Error) => {
      throw new Error(`${error.message}; stderr: ${stderr}`);
    });
    figures.push(`process start → infra.json: ${ms(t0)}`);
    expect(state).toMatchObject({ pid: child.pid, simControlUrl: sim.controlUrl, ownSimulator: false });
    expect((await fetch(`http://${state.healthAddress}/healthz`)).status).toBe(200);

    const pair = await createClusterPair(ns, 'proc');
    await setOwner(SimClusterKind, pair.simCluster, pair.cluster);
    const provisioned = await eventually('the process provisions its SimCluster', async () => {
      const current = await client.get<SimCluster>(SimClusterKind, ns, 'proc');
      return current.status?.initialization?.provisioned ? current : undefined;
    });
    // That process's own endpoint /24 in 127.0.100–199.x (endpointPrefix).
    expect(provisioned.spec?.controlPlaneEndpoint).toEqual({ host: expect.stringMatching(/^127\.0\.1\d\d\.\d+$/), port: 6443 });
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
    figures.push(`process RSS after reconciling a SimCluster: ${(rssKb / 1024).toFixed(0)} MiB`);
    expect(rssKb).toBeGreaterThan(0);

    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 120_000);
});
