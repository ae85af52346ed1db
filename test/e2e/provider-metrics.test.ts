// The provider counters move where the work happens: a one-replica control plane coming up in the
// world renders a config, creates the cluster's secrets bundle, creates a Machine, bootstraps etcd
// and talks to Talos, and the world operator's /metrics (plain HTTP there) says so.
import { CONTROL_PLANE_LABEL } from '../../src/api/capi/v1beta2/types';
import type { TalosControlPlane } from '../../src/api/controlplane/v1alpha3/types';
import { parseMetric } from '../support/operator-process';
import { readWorld } from '../world/world';
import { createClusterWithControlPlane, createNamespace, eventually, machinesOf, TalosControlPlaneKind, world } from './world-fixtures';

jest.setTimeout(600_000);

const w = world();
const NAME = 'metrics';

const SERIES: [string, Record<string, string>][] = [
  ['talos_capi_configs_rendered_total', { result: 'success' }],
  ['talos_capi_secrets_bundles_created_total', { source: 'generated' }],
  ['talos_capi_controlplane_rollout_steps_total', { action: 'created', reason: 'scale' }],
  ['talos_capi_etcd_operations_total', { operation: 'bootstrap', result: 'success' }],
  ['talos_capi_talos_api_calls_total', { rpc: 'Bootstrap', code: 'OK' }],
];

async function values(): Promise<number[]> {
  const text = await fetch(`http://${readWorld(w.dir).operator!.metricsAddress}/metrics`).then((r) => r.text());
  return SERIES.map(([name, labels]) => parseMetric(text, name, labels) ?? 0);
}

it('a control plane coming up moves the render, bundle, rollout step, etcd bootstrap and Talos API counters', async () => {
  const before = await values();
  const namespace = await createNamespace(w.client, 'e2e-metrics');
  await createClusterWithControlPlane(w.client, namespace, NAME, 1);
  await eventually('1/1 Ready', async () => {
    const tcp = await w.client.get<TalosControlPlane>(TalosControlPlaneKind, namespace, `${NAME}-control-plane`);
    const machines = (await machinesOf(w.client, namespace, NAME)).filter((m) => CONTROL_PLANE_LABEL in (m.metadata.labels ?? {}));
    return tcp.status?.readyReplicas === 1 && machines.length === 1 ? true : undefined;
  }, { timeoutMs: 300_000, intervalMs: 500 });
  const grown = (await values()).map((value, i) => value - before[i]!);
  process.stderr.write(`[figures] counters grown by one control plane: ${SERIES.map(([name, labels], i) => `${name}${JSON.stringify(labels)}=${grown[i]}`).join(', ')}\n`);
  expect(grown.map((delta) => delta >= 1)).toEqual(SERIES.map(() => true));
});
