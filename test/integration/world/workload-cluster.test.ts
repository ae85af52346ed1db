// A workload cluster of the simulated world: a real kube-apiserver at the endpoint, trusting the
// cluster's Kubernetes CA (made the way the machine config carries it: ECDSA, SEC1 key), simulated
// kubelets registering Nodes under the Node authorizer and NodeRestriction, and the real
// kube-controller-manager marking a Node whose kubelet stopped NotReady.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeApiError } from '../../../src/kube/client/api-error';
import { KubeClient } from '../../../src/kube/client/client';
import { createCertificateAuthority } from '../../../src/talos/config/secrets/certificates';
import { issueCertificate, loadCertificateAuthority } from '../../testbed/pki';
import { freePort, isAlive, KUBERNETES_VERSION } from '../../testbed/testbed';
import { certificateClient, CONTROL_PLANE_LABEL, SimKubelet, type SimKubeletOptions } from '../../world/kubelet';
import { NodeKind } from '../../../src/kube/client/resource';
import { startWorkloadCluster, type WorkloadCluster } from '../../world/workload-cluster';

jest.setTimeout(180_000);

interface Node {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { providerID?: string; taints?: { key: string; effect: string }[] };
  status: { nodeInfo: { kubeletVersion: string }; conditions?: { type: string; status: string; reason?: string }[] };
}

const GRACE_SECONDS = 8;
let dir: string;
let cluster: WorkloadCluster;
let admin: KubeClient;
let kubernetesCa: { certPem: string; keyPem: string };
const kubelets: SimKubelet[] = [];
const heartbeatLog: string[] = [];

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const getNode = (name: string) => admin.request<Node>('GET', `/api/v1/nodes/${name}`);
const renewTimeOf = async (name: string) =>
  Date.parse((await admin.request<{ spec: { renewTime: string } }>('GET', `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`)).spec.renewTime);
const readyOf = (node: Node) => node.status.conditions?.find((c) => c.type === 'Ready');

function kubeletOptions(nodeName: string, controlPlane: boolean): SimKubeletOptions {
  return {
    server: cluster.server,
    kubernetesCa,
    nodeName,
    providerID: `sim://world/${nodeName}`,
    addresses: [
      { type: 'InternalIP', address: '10.5.0.2' },
      { type: 'Hostname', address: nodeName },
    ],
    kubeletVersion: 'v1.34.1',
    controlPlane,
    heartbeatIntervalMs: 1000,
    log: (line) => heartbeatLog.push(line),
  };
}

/** A client with a node's own identity, as its kubelet has. */
async function nodeClient(nodeName: string): Promise<KubeClient> {
  const ca = await loadCertificateAuthority(kubernetesCa.certPem, kubernetesCa.keyPem);
  const leaf = await issueCertificate(ca, { commonName: `system:node:${nodeName}`, organizations: ['system:nodes'], usage: 'client' });
  return certificateClient(cluster.server, ca, `system:node:${nodeName}`, leaf);
}

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Math.round(Number(line?.replace(/\D+/g, '') ?? 0) / 1024);
}

beforeAll(async () => {
  const now = Date.now();
  const ca = await createCertificateAuthority({
    algorithm: 'ecdsa-p256',
    organization: 'kubernetes',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 24 * 3_600_000),
  });
  kubernetesCa = { certPem: ca.crt, keyPem: ca.key };
  dir = mkdtempSync(join(tmpdir(), 'talos-capi-workload-'));
  const started = Date.now();
  cluster = await startWorkloadCluster({
    dir,
    name: 'workload-test',
    // A loopback address of its own, as the infrastructure provider allocates one per cluster.
    endpoint: { host: `127.0.77.${2 + (process.pid % 250)}`, port: await freePort() },
    kubernetesCa,
    nodeMonitorGracePeriodSeconds: GRACE_SECONDS,
  });
  process.stderr.write(
    `[workload-cluster] up in ${((Date.now() - started) / 1000).toFixed(1)} s (${JSON.stringify(cluster.timings)})\n`,
  );
  admin = KubeClient.load(cluster.adminKubeconfigPath);
});

afterAll(async () => {
  for (const kubelet of kubelets) kubelet.stop();
  await cluster?.stop();
  // Logs and etcd data stay for a look when asked, as with the test bed.
  if (dir && !process.env.TESTBED_KEEP) rmSync(dir, { recursive: true, force: true });
});

test('serves the pinned version to the admin kubeconfig, over a certificate from the cluster CA', async () => {
  const version = await admin.request<{ gitVersion: string }>('GET', '/version');
  expect(version.gitVersion).toBe(KUBERNETES_VERSION);
  expect(cluster.processes.map((p) => p.binary.split('/').pop())).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager']);
});

test('kubelets register their Nodes; the control-plane label comes from the admin identity', async () => {
  const controlPlane = new SimKubelet(kubeletOptions('cp-1', true));
  const worker = new SimKubelet(kubeletOptions('worker-1', false));
  kubelets.push(controlPlane, worker);
  await Promise.all([controlPlane.start(), worker.start()]);
  expect(controlPlane.running && worker.running).toBe(true);

  const [cp, w] = [await getNode('cp-1'), await getNode('worker-1')];
  expect(cp.metadata.labels?.[CONTROL_PLANE_LABEL]).toBe('');
  expect(w.metadata.labels?.[CONTROL_PLANE_LABEL]).toBeUndefined();
  expect(w.metadata.labels?.['kubernetes.io/hostname']).toBe('worker-1');
  for (const node of [cp, w]) {
    expect(node.spec.providerID).toBe(`sim://world/${node.metadata.name}`);
    expect(node.status.nodeInfo.kubeletVersion).toBe('v1.34.1');
    expect(readyOf(node)).toMatchObject({ status: 'True', reason: 'KubeletReady' });
  }
  const lease = await admin.request<{ spec: { holderIdentity: string } }>('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/worker-1');
  expect(lease.spec.holderIdentity).toBe('worker-1');

  const pids = cluster.processes.map((p) => `${p.binary.split('/').pop()} ${rssMiB(p.pid)} MiB`);
  process.stderr.write(`[workload-cluster] RSS: ${pids.join(', ')}\n`);
});

test('a kubelet restarted with another image reports its new version on its Node at once', async () => {
  const kubelet = new SimKubelet({ ...kubeletOptions('upgraded-1', false), heartbeatIntervalMs: 60_000 });
  kubelets.push(kubelet);
  await kubelet.start();
  expect((await getNode('upgraded-1')).status.nodeInfo.kubeletVersion).toBe('v1.34.1');
  await kubelet.setKubeletVersion('v1.35.0');
  expect((await getNode('upgraded-1')).status.nodeInfo.kubeletVersion).toBe('v1.35.0');
});

test('stop() during start(): the Node registers but never heartbeats', async () => {
  const kubelet = new SimKubelet(kubeletOptions('late-1', false));
  const starting = kubelet.start();
  kubelet.stop();
  await starting;
  expect(kubelet.running).toBe(false);
  const renewed = await renewTimeOf('late-1');
  await sleep(2_500);
  expect(await renewTimeOf('late-1')).toBe(renewed);
});

test('NodeRestriction: a kubelet may label its Node, but not as control plane, and not another Node', async () => {
  const kubelet = await nodeClient('worker-1');
  const label = (key: string) => ({ metadata: { labels: { [key]: '' } } });
  await kubelet.patch(NodeKind, '', 'worker-1', label('example.com/rack'), 'merge');
  const denied = (name: string, key: string) =>
    kubelet
      .patch(NodeKind, '', name, label(key), 'merge')
      .then(() => undefined, (error: unknown) => error);
  const controlPlane = await denied('worker-1', CONTROL_PLANE_LABEL);
  expect(controlPlane).toBeInstanceOf(KubeApiError);
  expect((controlPlane as KubeApiError).code).toBe(403);
  expect((controlPlane as KubeApiError).serverMessage).toContain(CONTROL_PLANE_LABEL);
  expect(((await denied('cp-1', 'example.com/rack')) as KubeApiError).code).toBe(403);
  expect((await getNode('worker-1')).metadata.labels?.[CONTROL_PLANE_LABEL]).toBeUndefined();
});

test('a stopped kubelet: the controller manager marks its Node NotReady, the other stays Ready', async () => {
  const [controlPlane, worker] = kubelets;
  worker!.stop();
  expect(worker!.running).toBe(false);
  const stopped = Date.now();
  let ready = readyOf(await getNode('worker-1'));
  while (ready?.status === 'True' && Date.now() - stopped < 90_000) {
    await sleep(500);
    ready = readyOf(await getNode('worker-1'));
  }
  process.stderr.write(`[workload-cluster] worker-1 NotReady ${((Date.now() - stopped) / 1000).toFixed(1)} s after its kubelet stopped\n`);
  expect(ready).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown' });
  expect(controlPlane!.running).toBe(true);
  expect(readyOf(await getNode('cp-1'))).toMatchObject({ status: 'True', reason: 'KubeletReady' });
});

test('a kubelet started again (power on): Ready again, and the controller manager lifts its unreachable taints', async () => {
  const unreachable = async () =>
    ((await getNode('worker-1')).spec.taints ?? []).filter((t) => t.key === 'node.kubernetes.io/unreachable');
  expect(await unreachable()).not.toEqual([]);
  const worker = new SimKubelet(kubeletOptions('worker-1', false));
  kubelets.push(worker);
  await worker.start();
  expect(readyOf(await getNode('worker-1'))).toMatchObject({ status: 'True', reason: 'KubeletReady' });
  const deadline = Date.now() + 30_000;
  while ((await unreachable()).length > 0 && Date.now() < deadline) await sleep(250);
  expect(await unreachable()).toEqual([]);
  expect((await getNode('worker-1')).spec.providerID).toBe('sim://world/worker-1');
});

test('heartbeats fail while the apiserver is down and resume when it returns', async () => {
  await cluster.stopApiserver();
  await sleep(2_500);
  const back = Date.now();
  await cluster.startApiserver();
  const deadline = Date.now() + 30_000;
  while ((await renewTimeOf('cp-1')) < back && Date.now() < deadline) await sleep(250);
  expect(await renewTimeOf('cp-1')).toBeGreaterThanOrEqual(back);
  expect(heartbeatLog).toEqual(
    expect.arrayContaining([expect.stringMatching(/^heartbeat of node cp-1 failed/), 'heartbeat of node cp-1 recovered']),
  );
  expect(readyOf(await getNode('cp-1'))).toMatchObject({ status: 'True' });
});

test('stop() leaves no process behind', async () => {
  for (const kubelet of kubelets) kubelet.stop();
  const pids = cluster.processes.map((p) => p.pid);
  expect(pids.every(isAlive)).toBe(true);
  await cluster.stop();
  expect(pids.filter(isAlive)).toEqual([]);
});
