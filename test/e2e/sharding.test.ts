// Scale-out by watch filter, and the chart's RBAC proven by use. Two operator processes run as the
// Helm chart installs them — authenticated as the chart's ServiceAccount (a TokenRequest token), with
// the manager container's flags of a rendering whose values give each its watch filter and its own
// Lease (`watchFilter`, `flags.leader-election-id`) — in a world where no other operator of ours runs.
// Cluster alpha (a TalosControlPlane of 3 and a worker) is labelled shard-a, bravo (1 and a worker)
// shard-b, in one namespace, so that only the label tells them apart. Both come up; every Event our
// operator wrote about a cluster's objects names its shard's process (reportingInstance, the Lease
// holder identity), and every reconcile a shard logged was of its own cluster; no request was
// forbidden.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Cluster } from '../../src/api/capi/v1beta2/types';
import { KubeClient } from '../../src/kube/client/client';
import { EventsV1Kind, LeaseKind } from '../../src/kube/client/resource';
import { WATCH_FILTER_LABEL } from '../../src/kube/controller/predicates';
import type { KubeObject } from '../../src/kube/meta/object';
import { serverApply } from '../integration/deploy/server-apply';
import { applyChartIdentity, managerFlags, renderChart, serviceAccountKubeconfig } from '../support/chart-identity';
import { scrapeMetrics, serviceAccountToken } from '../support/service-account';
import { findLogField, parseMetric } from '../support/operator-process';
import { TalosSimControl } from '../support/talos-sim';
import { startWorldOperator, stopWorldOperator, type WorldOperator } from '../world/operator';
import { worldWithoutOperator, type WorldWithoutOperator } from '../world/own-world';
import { ControlPlaneProbe } from './controlplane-fixtures';
import {
  createClusterWithControlPlane, createMachine, createNamespace, eventually, KUBERNETES_VERSION, waitForRunningMachines,
} from './world-fixtures';

jest.setTimeout(1_200_000);

const SHARDS = ['shard-a', 'shard-b'] as const;
type Shard = (typeof SHARDS)[number];
/** Each shard's cluster and its control-plane size. */
const CLUSTERS: Record<Shard, { name: string; replicas: number }> = { 'shard-a': { name: 'alpha', replicas: 3 }, 'shard-b': { name: 'bravo', replicas: 1 } };
const leaseName = (shard: Shard) => `controller-leader-election-talos-capi-${shard}`;

interface Lease extends KubeObject {
  spec?: { holderIdentity?: string };
}

interface EventView extends KubeObject {
  regarding?: { name?: string };
  reportingController?: string;
  reportingInstance?: string;
}

/** The JSON log lines of a process, the partial last one left out. */
function logLines(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8').split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

describe('two shards of the operator, each as the chart installs it', () => {
  let world: WorldWithoutOperator;
  let admin: KubeClient;
  let sandbox: string;
  let releaseNamespace: string;
  let namespace: string;
  const operators: Partial<Record<Shard, WorldOperator>> = {};
  const logOf = (shard: Shard) => operators[shard]!.process.log;
  const kubeconfigOf = (shard: Shard) => join(sandbox, `${shard}.kubeconfig`);
  /** Cluster-wide names of this run's install end in it. */
  const suffix = randomBytes(3).toString('hex');
  let account: string;

  beforeAll(async () => {
    const started = Date.now();
    world = await worldWithoutOperator('sharding');
    admin = KubeClient.load(world.state.kubeconfig, { qps: 50, burst: 100 });
    sandbox = mkdtempSync(join(tmpdir(), 'talos-capi-sharding-'));
    releaseNamespace = await createNamespace(admin, 'talos-capi-system');
    for (const shard of SHARDS) {
      const objects = await renderChart('talos-capi', releaseNamespace, { watchFilter: shard, flags: { 'leader-election-id': leaseName(shard) } });
      // Both renderings hold the same identity; applying it twice changes nothing.
      account = await applyChartIdentity(admin, objects, releaseNamespace, suffix);
      const kubeconfig = kubeconfigOf(shard);
      await serviceAccountKubeconfig(admin, world.state.kubeconfig, releaseNamespace, account, kubeconfig);
      operators[shard] = await startWorldOperator({
        dir: sandbox, kubeconfig, adminKubeconfig: world.state.kubeconfig, instance: shard,
        // In a pod the Lease namespace is the ServiceAccount's, read from its mounted namespace file.
        args: [...managerFlags(objects), `--leader-election-namespace=${releaseNamespace}`],
      });
    }
    process.stderr.write(`[figures] sharding: world, chart rendered and applied, 2 shards healthy in ${seconds(Date.now() - started)}\n`);
  });

  afterAll(async () => {
    for (const shard of SHARDS) if (operators[shard]) await stopWorldOperator(operators[shard]);
    await world?.stop();
    if (sandbox) rmSync(sandbox, { recursive: true, force: true });
  });

  it('brings each shard\'s cluster up: alpha 3 control planes + 1 worker, bravo 1 + 1, each TalosControlPlane ready and Available', async () => {
    namespace = await createNamespace(admin, 'e2e-shards');
    const sim = new TalosSimControl(world.state.infra.simControlUrl);
    const startedAt = Date.now();
    const up = SHARDS.map(async (shard) => {
      const { name, replicas } = CLUSTERS[shard];
      const labels = { [WATCH_FILTER_LABEL]: shard };
      const cluster: Cluster = await createClusterWithControlPlane(admin, namespace, name, replicas, { labels });
      await createMachine(admin, cluster, `${name}-worker-0`, { labels });
      const probe = new ControlPlaneProbe(admin, sim, cluster);
      await probe.settled(replicas, KUBERNETES_VERSION, 600_000);
      await waitForRunningMachines(admin, namespace, name, replicas + 1, { timeoutMs: 300_000 });
      await eventually(`${probe.name} ready and Available`, async () => {
        const tcp = await probe.tcp();
        return tcp.status?.ready === true && tcp.status.v1beta2?.conditions?.find((c) => c.type === 'Available')?.status === 'True';
      }, { timeoutMs: 120_000, intervalMs: 500 });
      return `${name} (${replicas} + 1) ${seconds(Date.now() - startedAt)}`;
    });
    process.stderr.write(`[figures] sharding: apply -> Ready: ${(await Promise.all(up)).join(', ')}\n`);
  });

  it('holds two Leases, each by its shard\'s process', async () => {
    for (const shard of SHARDS) {
      const lease = await admin.get<Lease>(LeaseKind, releaseNamespace, leaseName(shard));
      expect(lease.spec?.holderIdentity).toBe(findLogField(readFileSync(logOf(shard), 'utf8'), 'identity'));
    }
    const holders = await Promise.all(SHARDS.map(async (shard) => (await admin.get<Lease>(LeaseKind, releaseNamespace, leaseName(shard))).spec?.holderIdentity));
    expect(new Set(holders).size).toBe(2);
  });

  it('wrote every Event about a cluster\'s objects from its own shard\'s process', async () => {
    const identities = Object.fromEntries(
      await Promise.all(SHARDS.map(async (shard) => [shard, (await admin.get<Lease>(LeaseKind, releaseNamespace, leaseName(shard))).spec?.holderIdentity] as const)),
    ) as Record<Shard, string>;
    const events = (await admin.list<EventView>(EventsV1Kind, { namespace })).items.filter((e) => e.reportingController === 'talos-capi');
    for (const shard of SHARDS) {
      const about = events.filter((e) => e.regarding?.name?.startsWith(`${CLUSTERS[shard].name}-`));
      expect(about.length).toBeGreaterThan(0);
      expect([...new Set(about.map((e) => e.reportingInstance))]).toEqual([identities[shard]]);
    }
  });

  it('reconciled, in each shard, only its own cluster\'s TalosControlPlane and TalosConfigs', () => {
    for (const shard of SHARDS) {
      const reconciled = new Set(logLines(logOf(shard)).filter((line) => line.controller && line.namespace === namespace).map((line) => `${line.kind}/${line.name}`));
      const own = CLUSTERS[shard].name;
      expect([...reconciled].filter((key) => !key.split('/')[1]!.startsWith(`${own}-`))).toEqual([]);
      expect(reconciled).toContain(`TalosControlPlane/${own}-control-plane`);
      expect(reconciled).toContain(`TalosConfig/${own}-worker-0`);
    }
  });

  it('authenticates each shard as the chart\'s ServiceAccount', async () => {
    for (const shard of SHARDS) {
      const review = await KubeClient.load(kubeconfigOf(shard)).request<{ status: { userInfo: { username: string } } }>('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      });
      expect(review.status.userInfo.username).toBe(`system:serviceaccount:${releaseNamespace}:${account}`);
    }
  });

  it('was never refused a request: no 403 among its API requests (its /metrics, read with the chart\'s metrics-reader role) nor in its log', async () => {
    // A scraper bound to the metrics-reader ClusterRole the chart ships; the shard reviews its token and access itself.
    await serverApply(admin, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'scraper', namespace: releaseNamespace } }, false);
    await serverApply(admin, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `${releaseNamespace}-scraper` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `talos-capi-metrics-reader-${suffix}` },
      subjects: [{ kind: 'ServiceAccount', name: 'scraper', namespace: releaseNamespace }],
    }, false);
    const token = await serviceAccountToken(admin, releaseNamespace, 'scraper');
    for (const shard of SHARDS) {
      const scraped = await eventually(`${shard} /metrics for the scraper`, async () => {
        const answer = await scrapeMetrics(operators[shard]!.metricsAddress, token);
        return answer.status === 200 ? answer.body : undefined;
      }, { timeoutMs: 30_000, intervalMs: 500 });
      expect(parseMetric(scraped, 'rest_client_requests_total', { code: '201' })).toBeGreaterThan(0);
      expect(parseMetric(scraped, 'rest_client_requests_total', { code: '403' })).toBeUndefined();
      const refused = logLines(logOf(shard)).filter((line) => line.code === 403 || /forbidden/i.test(JSON.stringify(line)));
      expect(refused).toEqual([]);
    }
  });
});
