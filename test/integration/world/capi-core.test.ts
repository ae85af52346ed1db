// The real Cluster API core manager against its own test bed (not the run's shared one:
// its webhooks fail closed once it stops, which would break other files' Cluster writes).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeApiError } from '../../../src/kube/client/api-error';
import { KubeClient } from '../../../src/kube/client/client';
import { installCrds, startTestbed, stopTestbed, type TestbedState } from '../../testbed/testbed';
import { CAPI_CORE_VERSION, CLUSTER_NEEDS_A_REFERENCE, capiCoreCrds, startCapiCore, type CapiCoreHandle } from '../../world/capi-core';

jest.setTimeout(120_000);

const NAMESPACE = 'capi-core-world';
const V1BETA2 = '/apis/cluster.x-k8s.io/v1beta2';
const V1BETA1 = '/apis/cluster.x-k8s.io/v1beta1';
const INFRA_GROUP = 'infrastructure.cluster.x-k8s.io';

let dir: string;
let testbed: TestbedState;
let capi: CapiCoreHandle;
let client: KubeClient;

interface Cluster {
  metadata: { name: string; finalizers?: string[] };
  spec: Record<string, unknown>;
  status?: { phase?: string; conditions?: { type: string; status: string; reason?: string }[] };
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function eventually<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    await sleep(250);
  }
}

function vmRssKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1]);
}

/** The local addresses (hex, as /proc/net/tcp{,6} write them) of the sockets listening on `port`. */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((table) =>
    readFileSync(table, 'utf8').split('\n').slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields[3] === '0A' && fields[1]?.endsWith(`:${hexPort}`))
      .map((fields) => fields[1]!.split(':')[0]!),
  );
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * An infrastructure kind with the contract label (no provider serves it): the Cluster controller
 * resolves references through it, and converting a Cluster to v1beta1 asks it which of its
 * versions implements the v1beta2 contract.
 */
const worldClusterCrd = {
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
  metadata: { name: `worldclusters.${INFRA_GROUP}`, labels: { 'cluster.x-k8s.io/v1beta2': 'v1alpha1' } },
  spec: {
    group: INFRA_GROUP, scope: 'Namespaced',
    names: { kind: 'WorldCluster', listKind: 'WorldClusterList', plural: 'worldclusters', singular: 'worldcluster' },
    versions: [{ name: 'v1alpha1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'talos-capi-capi-core-'));
  testbed = await startTestbed({ dir });
  const started = Date.now();
  capi = await startCapiCore({ testbed, dir });
  const total = (Date.now() - started) / 1000;
  process.stderr.write(
    `[capi-core] ${CAPI_CORE_VERSION} up in ${total.toFixed(1)} s ${JSON.stringify(capi.timings)}; ` +
      `VmRSS ${(vmRssKiB(capi.process.pid) / 1024).toFixed(0)} MiB; log ${capi.process.log}\n`,
  );
  client = KubeClient.load(testbed.kubeconfig, { qps: 50, burst: 50 });
  await installCrds(testbed, [worldClusterCrd]);
  await client.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } } });
}, 1_800_000);

afterAll(async () => {
  await capi?.stop();
  if (testbed) await stopTestbed(dir);
  rmSync(dir, { recursive: true, force: true });
});

const clusterPath = (version: string, name = '') => `${version}/namespaces/${NAMESPACE}/clusters${name ? `/${name}` : ''}`;

test('every CRD of config/crd/bases converts through the manager\'s webhook', async () => {
  const names = capiCoreCrds({ url: capi.webhookUrl, caBundle: '' }).map((crd) => (crd.metadata as { name: string }).name);
  expect(names).toHaveLength(13);
  for (const name of names) {
    const crd = await client.request<{ spec: { conversion: { strategy: string; webhook?: { clientConfig: { url?: string } } } } }>(
      'GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
    );
    expect({ name, strategy: crd.spec.conversion.strategy, url: crd.spec.conversion.webhook?.clientConfig.url })
      .toEqual({ name, strategy: 'Webhook', url: `${capi.webhookUrl}/convert` });
  }
});

test('the Cluster controller takes a v1beta2 Cluster: finalizer, phase and conditions', async () => {
  await client.request('POST', clusterPath(V1BETA2), {
    body: {
      apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster', metadata: { name: 'reconciled', namespace: NAMESPACE },
      spec: { infrastructureRef: { apiGroup: INFRA_GROUP, kind: 'WorldCluster', name: 'reconciled' } },
    },
  });
  const cluster = await eventually(
    'finalizer, phase and conditions',
    () => client.request<Cluster>('GET', clusterPath(V1BETA2, 'reconciled')),
    (c) => Boolean(c.metadata.finalizers?.includes('cluster.cluster.x-k8s.io') && c.status?.phase && c.status.conditions?.length),
  );
  expect(cluster.status?.phase).toBe('Provisioning');
  expect(cluster.status?.conditions?.find((c) => c.type === 'InfrastructureReady')).toMatchObject({ status: 'False', reason: 'ObjectDoesNotExist' });
});

test('a v1beta1 Cluster is converted by the manager: read back as v1beta2 with the reference as apiGroup/kind/name', async () => {
  await client.request('POST', clusterPath(V1BETA1), {
    body: {
      apiVersion: 'cluster.x-k8s.io/v1beta1', kind: 'Cluster', metadata: { name: 'converted', namespace: NAMESPACE },
      spec: {
        clusterNetwork: { pods: { cidrBlocks: ['10.244.0.0/16'] } },
        infrastructureRef: { apiVersion: `${INFRA_GROUP}/v1alpha1`, kind: 'WorldCluster', name: 'converted', namespace: NAMESPACE },
      },
    },
  });
  const cluster = await client.request<Cluster & { apiVersion: string }>('GET', clusterPath(V1BETA2, 'converted'));
  expect(cluster.apiVersion).toBe('cluster.x-k8s.io/v1beta2');
  expect(cluster.spec.infrastructureRef).toEqual({ apiGroup: INFRA_GROUP, kind: 'WorldCluster', name: 'converted' });
  expect(cluster.spec.clusterNetwork).toEqual({ pods: { cidrBlocks: ['10.244.0.0/16'] } });
  const asV1beta1 = await client.request<Cluster>('GET', clusterPath(V1BETA1, 'converted'));
  expect(asV1beta1.spec.infrastructureRef).toMatchObject({ apiVersion: `${INFRA_GROUP}/v1alpha1`, kind: 'WorldCluster', name: 'converted' });
});

test('a Cluster that references nothing is refused by the manager\'s validating webhook', async () => {
  const refused = await client.request('POST', clusterPath(V1BETA2), {
    body: {
      apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster', metadata: { name: 'refused', namespace: NAMESPACE },
      spec: { clusterNetwork: { serviceDomain: 'cluster.local' } },
    },
  }).then(() => undefined, (error: unknown) => error);
  expect(refused).toBeInstanceOf(KubeApiError);
  expect((refused as KubeApiError).code).toBe(422);
  expect((refused as KubeApiError).serverMessage).toContain('admission webhook "validation.cluster.cluster.x-k8s.io" denied the request');
  expect((refused as KubeApiError).serverMessage).toContain(CLUSTER_NEEDS_A_REFERENCE);
});

test('a MachineDeployment is defaulted by the manager\'s mutating webhook', async () => {
  const created = await client.request<{
    metadata: { labels?: Record<string, string> };
    spec: {
      replicas?: number;
      selector: { matchLabels?: Record<string, string> };
      rollout?: { strategy?: { type?: string; rollingUpdate?: { maxSurge?: number; maxUnavailable?: number } } };
      template: { metadata?: { labels?: Record<string, string> }; spec: { version?: string } };
    };
  }>('POST', `${V1BETA2}/namespaces/${NAMESPACE}/machinedeployments`, {
    body: {
      apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'MachineDeployment', metadata: { name: 'workers', namespace: NAMESPACE },
      spec: {
        clusterName: 'reconciled',
        selector: {},
        template: {
          spec: {
            clusterName: 'reconciled',
            version: '1.34.4',
            bootstrap: { dataSecretName: 'workers-bootstrap' },
            infrastructureRef: { apiGroup: INFRA_GROUP, kind: 'NoSuchMachineTemplate', name: 'workers' },
          },
        },
      },
    },
  });
  const owned = { 'cluster.x-k8s.io/cluster-name': 'reconciled', 'cluster.x-k8s.io/deployment-name': 'workers' };
  expect(created.metadata.labels).toMatchObject({ 'cluster.x-k8s.io/cluster-name': 'reconciled' });
  expect(created.spec.replicas).toBe(1);
  expect(created.spec.selector.matchLabels).toEqual(owned);
  expect(created.spec.template.metadata?.labels).toEqual(owned);
  expect(created.spec.template.spec.version).toBe('v1.34.4');
  expect(created.spec.rollout?.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
});

test('webhook, health and metrics servers listen on 127.0.0.1 only', () => {
  for (const url of [capi.webhookUrl, capi.healthUrl, capi.metricsUrl]) {
    expect({ url, addresses: listeningAddresses(Number(new URL(url).port)) }).toEqual({ url, addresses: ['0100007F'] });
  }
});

test('health and metrics are served', async () => {
  process.stderr.write(`[capi-core] VmRSS after the scenario ${(vmRssKiB(capi.process.pid) / 1024).toFixed(0)} MiB\n`);
  expect((await fetch(`${capi.healthUrl}/healthz`)).status).toBe(200);
  const metrics = await (await fetch(capi.metricsUrl)).text();
  expect(metrics).toMatch(/controller_runtime_reconcile_total\{controller="cluster"/);
});

test('stop ends the manager\'s process group', async () => {
  expect(groupAlive(capi.process.pid)).toBe(true);
  await capi.stop();
  expect(groupAlive(capi.process.pid)).toBe(false);
});
