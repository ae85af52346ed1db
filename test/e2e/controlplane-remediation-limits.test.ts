// The limits of spec.remediation (v1beta1) in the world, nothing played by hand but the node
// failures: a control plane of 3 with maxRetry 0 remediates a dead node once; when the replacement
// dies too, within minHealthyPeriodSeconds, remediation stops and says so — Remediating=False
// CannotBeRemediated, OwnerRemediated on the Machine, a Warning Event — and no further Machine is
// deleted. Quorum is kept all along (2 of 3 members left healthy).
import { MachineKind } from '../../src/api/capi/v1beta2/resources';
import type { Machine } from '../../src/api/capi/v1beta2/types';
import { V1BETA1 as CONTROLPLANE_V1BETA1 } from '../../src/api/controlplane/resources';
import { REMEDIATION_FOR_ANNOTATION, REMEDIATION_IN_PROGRESS_ANNOTATION } from '../../src/controlplane/remediation';
import { eventsFor } from '../support/capi-fixtures';
import { ControlPlaneProbe } from './controlplane-fixtures';
import { createClusterWithControlPlane, createNamespace, eventually, KUBERNETES_VERSION, MachineHealthCheckKind, world } from './world-fixtures';

jest.setTimeout(600_000);

const w = world();
const NAME = 'tau';
/** How long the refused control plane is watched for a deletion. */
const QUIET_MS = 15_000;
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe('remediation with maxRetry 0 whose replacement fails again', () => {
  let cp: ControlPlaneProbe;

  beforeAll(async () => {
    const namespace = await createNamespace(w.client, 'e2e-cp-remediation-limits');
    cp = new ControlPlaneProbe(w.client, w.sim, await createClusterWithControlPlane(w.client, namespace, NAME, 3));
    // The v1alpha3 view has no remediation field: the policy is set through the stored v1beta1 version.
    await w.client.patch(CONTROLPLANE_V1BETA1.talosControlPlane, namespace, cp.name, { spec: { remediation: { maxRetry: 0, minHealthyPeriodSeconds: 3600 } } }, 'merge');
    await w.client.create(MachineHealthCheckKind, {
      apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'MachineHealthCheck', metadata: { name: cp.name, namespace },
      spec: {
        clusterName: NAME,
        selector: { matchLabels: { 'cluster.x-k8s.io/control-plane': '' } },
        checks: { nodeStartupTimeoutSeconds: 600, unhealthyNodeConditions: [{ type: 'Ready', status: 'Unknown', timeoutSeconds: 10 }, { type: 'Ready', status: 'False', timeoutSeconds: 10 }] },
      },
    });
    await cp.settled(3, KUBERNETES_VERSION);
  });

  it('remediates the first dead node, then refuses its replacement\'s death, saying why, and deletes nothing more', async () => {
    expect((await cp.hub()).spec.remediation).toMatchObject({ maxRetry: 0, minHealthyPeriodSeconds: 3600 });
    const machines = await cp.machines();
    const first = machines[1]!;
    await cp.avoidHistoryNode(first, machines);
    const before = await cp.historyLength();
    await w.sim.stopNode(await cp.nodeIdOf(first));

    // Replaced once, and the remediation closed (the replacement joined etcd).
    const replacement = await eventually(`a replacement for ${first.metadata.name}`, async () => {
      const current = await cp.machines();
      const found = current.find((m) => JSON.parse(m.metadata.annotations?.[REMEDIATION_FOR_ANNOTATION] ?? '{}').machine === first.metadata.name);
      return !current.some((m) => m.metadata.name === first.metadata.name) && found?.status?.nodeRef ? found : undefined;
    }, { timeoutMs: 300_000, intervalMs: 500 });
    expect(JSON.parse(replacement.metadata.annotations![REMEDIATION_FOR_ANNOTATION]!)).toMatchObject({ retryCount: 0 });
    await cp.settled(3, KUBERNETES_VERSION);
    await eventually('the first remediation closed', async () =>
      !(REMEDIATION_IN_PROGRESS_ANNOTATION in ((await cp.tcp()).metadata.annotations ?? {})) || undefined, { timeoutMs: 120_000, intervalMs: 250 });

    // The replacement dies within minHealthyPeriodSeconds: a retry, which maxRetry 0 does not allow.
    const name = replacement.metadata.name!;
    await cp.avoidHistoryNode(replacement, await cp.machines());
    await w.sim.stopNode(await cp.nodeIdOf(replacement));
    const message = `Machine ${name} cannot be remediated: the remediation of Machine ${first.metadata.name} was already retried 0 times (maxRetry 0) within minHealthyPeriodSeconds (3600 s)`;
    await eventually('Remediating=False CannotBeRemediated', async () => {
      const c = cp.condition(await cp.tcp(), 'Remediating');
      return c?.status === 'False' && c.reason === 'CannotBeRemediated' && c.message === message ? c : undefined;
    }, { timeoutMs: 180_000, intervalMs: 250 });
    const refused = await w.client.get<Machine>(MachineKind, cp.namespace, name);
    expect(refused.status?.conditions?.find((c) => c.type === 'OwnerRemediated')).toMatchObject({ status: 'False', reason: 'CannotBeRemediated', message });
    const blocked = await eventsFor(w.client, cp.namespace, cp.name, 'RemediationBlocked');
    expect(blocked.map((e) => [e.type, e.note])).toContainEqual(['Warning', message]);

    const kept = (await cp.machines()).map((m) => `${m.metadata.name}/${m.metadata.uid}`).sort();
    await sleep(QUIET_MS);
    const after = await cp.machines();
    expect(after.map((m) => `${m.metadata.name}/${m.metadata.uid}`).sort()).toEqual(kept);
    expect(after.filter((m) => m.metadata.deletionTimestamp)).toEqual([]);
    expect(kept).toHaveLength(3);
    expect((await cp.hub()).status?.lastRemediation).toMatchObject({ machine: first.metadata.name, retryCount: 0 });
    expect((await cp.judgeSince(before)).quorumAlwaysKept).toBe(true);
  });
});
