// MachineHealthCheck remediation of a control plane of 3 in the world, nothing played by hand: the
// real Cluster API core runs the MachineHealthCheck, the workload cluster's kube-controller-manager
// marks a stopped node's Node NotReady, our provider deletes the Machine, removes the dead member
// through a healthy peer in its pre-terminate hook once Cluster API drained it, and creates its
// replacement. The simulator records etcd membership
// all along: quorum is never lost. Then the upstream #262 case: a node dies while a version
// rollout is pending; remediation goes ahead (no deadlock) and the rollout finishes. Last, at 5
// replicas, two nodes die at once: they are remediated one at a time, the second waiting until
// the first one's replacement has joined. Beside it, a single-replica control plane whose node
// dies is refused remediation (its only etcd member), with the reason on it and on the Machine,
// until the node is back.
import { MachineKind } from '../../src/api/capi/v1beta2/resources';
import type { Machine } from '../../src/api/capi/v1beta2/types';
import { REMEDIATION_FOR_ANNOTATION, REMEDIATION_IN_PROGRESS_ANNOTATION } from '../../src/controlplane/remediation';
import { eventsFor } from '../support/capi-fixtures';
import { ControlPlaneProbe } from './controlplane-fixtures';
import { createClusterWithControlPlane, createNamespace, eventually, KUBERNETES_VERSION, MachineHealthCheckKind, world } from './world-fixtures';

jest.setTimeout(600_000);

const w = world();
const NAME = 'rho';
const SINGLE = 'sigma';
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

describe('MachineHealthCheck remediation of a control plane of 3', () => {
  let cp: ControlPlaneProbe;

  /** A single-replica control plane beside it, whose only Machine must never be remediated. */
  let single: ControlPlaneProbe;

  const healthCheck = (namespace: string, clusterName: string) => w.client.create(MachineHealthCheckKind, {
    apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'MachineHealthCheck', metadata: { name: `${clusterName}-control-plane`, namespace },
    spec: {
      clusterName,
      selector: { matchLabels: { 'cluster.x-k8s.io/control-plane': '' } },
      checks: {
        nodeStartupTimeoutSeconds: 600,
        unhealthyNodeConditions: [{ type: 'Ready', status: 'Unknown', timeoutSeconds: 10 }, { type: 'Ready', status: 'False', timeoutSeconds: 10 }],
      },
    },
  });

  beforeAll(async () => {
    const namespace = await createNamespace(w.client, 'e2e-cp-remediation');
    cp = new ControlPlaneProbe(w.client, w.sim, await createClusterWithControlPlane(w.client, namespace, NAME, 3));
    single = new ControlPlaneProbe(w.client, w.sim, await createClusterWithControlPlane(w.client, namespace, SINGLE, 1));
    await Promise.all([healthCheck(namespace, NAME), healthCheck(namespace, SINGLE)]);
  });

  /** The single replica's node stops: the MachineHealthCheck marks it, and remediation refuses, saying why on both objects. */
  async function singleReplicaRefused(): Promise<void> {
    const [only] = await single.machines();
    await w.sim.stopNode(await single.nodeIdOf(only!));
    const message = `Machine ${only!.metadata.name} cannot be remediated: the control plane has only this replica (its etcd member is the only one)`;
    await eventually('Remediating=False CannotBeRemediated', async () => {
      const c = single.condition(await single.tcp(), 'Remediating');
      return c?.status === 'False' && c.reason === 'CannotBeRemediated' && c.message === message ? c : undefined;
    }, { timeoutMs: 180_000, intervalMs: 250 });
    const machine = await w.client.get<Machine>(MachineKind, single.namespace, only!.metadata.name!);
    expect(machine.metadata.deletionTimestamp).toBeUndefined();
    expect(machine.status?.conditions?.find((c) => c.type === 'OwnerRemediated')).toMatchObject({ status: 'False', reason: 'CannotBeRemediated', message });
    const blocked = await eventsFor(w.client, single.namespace, single.name, 'RemediationBlocked');
    expect(blocked.map((e) => [e.type, e.note])).toContainEqual(['Warning', message]);

    // Back, and healthy again by the MachineHealthCheck: the OwnerRemediated the refusal left is dropped.
    await w.sim.startNode(await single.nodeIdOf(only!));
    await eventually('OwnerRemediated gone, Remediating=False NotRemediating', async () => {
      const [m, tcp] = await Promise.all([w.client.get<Machine>(MachineKind, single.namespace, only!.metadata.name!), single.tcp()]);
      const gone = !m.status?.conditions?.some((c) => c.type === 'OwnerRemediated');
      return gone && single.condition(tcp, 'Remediating')?.reason === 'NotRemediating' ? true : undefined;
    }, { timeoutMs: 120_000, intervalMs: 250 });
  }

  /** Stops a Machine's node (not the one the etcd history is read through) and returns when. */
  async function stopNodeOf(victim: Machine, machines: Machine[]): Promise<number> {
    await cp.avoidHistoryNode(victim, machines);
    const at = Date.now();
    await w.sim.stopNode(await cp.nodeIdOf(victim));
    return at;
  }

  /** The victim is gone and a Machine carrying its remediation-for annotation has replaced it. */
  async function replacementOf(victim: string): Promise<Machine> {
    return eventually(`a replacement for ${victim}`, async () => {
      const machines = await cp.machines();
      const replacement = machines.find((m) => JSON.parse(m.metadata.annotations?.[REMEDIATION_FOR_ANNOTATION] ?? '{}').machine === victim);
      return !machines.some((m) => m.metadata.name === victim) && replacement?.status?.nodeRef ? replacement : undefined;
    }, { timeoutMs: 300_000, intervalMs: 500 });
  }

  it('comes up with 3 Ready control-plane Machines (and 1 beside it), Remediating False', async () => {
    const [{ tcp }] = await Promise.all([cp.settled(3, KUBERNETES_VERSION), single.settled(1, KUBERNETES_VERSION)]);
    expect(cp.condition(tcp, 'Remediating')).toMatchObject({ status: 'False', reason: 'NotRemediating' });
  });

  it('a stopped node is marked by the MachineHealthCheck, its member removed through a peer, its Machine replaced; quorum kept, 3 healthy members after (a single replica is never remediated)', async () => {
    const refused = singleReplicaRefused();
    refused.catch(() => undefined); // awaited at the end; not an unhandled rejection meanwhile
    const machines = await cp.machines();
    const victim = machines[1]!;
    const name = victim.metadata.name!;
    const before = await cp.historyLength();
    const stoppedAt = await stopNodeOf(victim, machines);

    const remediating = await eventually('Remediating=True', async () => {
      const c = cp.condition(await cp.tcp(), 'Remediating');
      return c?.status === 'True' ? c : undefined;
    }, { timeoutMs: 180_000, intervalMs: 250 });
    const markedAfter = seconds(stoppedAt);
    expect(remediating.reason).toBe('RemediationInProgress');
    const tcp = await cp.tcp();
    expect(JSON.parse(tcp.metadata.annotations?.[REMEDIATION_IN_PROGRESS_ANNOTATION] ?? '{}')).toMatchObject({ machine: name, retryCount: 0 });
    expect((await cp.hub()).status?.lastRemediation).toMatchObject({ machine: name, retryCount: 0 });

    const replacement = await replacementOf(name);
    const { tcp: settled, machines: after } = await cp.settled(3, KUBERNETES_VERSION);
    await eventually('EtcdClusterHealthy=True and the remediation closed', async () => {
      const current = await cp.tcp();
      return cp.condition(current, 'EtcdClusterHealthy')?.status === 'True' && cp.condition(current, 'Remediating')?.status === 'False' &&
        !(REMEDIATION_IN_PROGRESS_ANNOTATION in (current.metadata.annotations ?? {})) ? true : undefined;
    }, { timeoutMs: 120_000, intervalMs: 250 });
    process.stderr.write(`[figures] node stopped → Remediating True: ${markedAfter}; → replacement healthy, remediation closed: ${seconds(stoppedAt)}\n`);

    expect(after.map((m) => m.metadata.name)).toContain(replacement.metadata.name);
    expect(await cp.etcdMembers()).toEqual(after.map((m) => m.status!.nodeRef!.name).sort());
    const judged = await cp.judgeSince(before);
    expect(judged.quorumAlwaysKept).toBe(true);
    expect(judged.minUp).toBeGreaterThanOrEqual(2);
    expect((await cp.hub()).status?.lastRemediation).toMatchObject({ machine: name, retryCount: 0 });
    expect(settled.status?.readyReplicas).toBe(3);

    const notes = async (reason: string) => (await eventsFor(w.client, cp.namespace, cp.name, reason)).map((e) => e.note).join('\n');
    expect(await notes('RemediationStarted')).toContain(`Remediating Machine ${name}: MachineHealthCheck marked it unhealthy`);
    expect(await notes('MachineRemediated')).toContain(`Deleted control-plane Machine ${name} to remediate it; its etcd member is removed after the drain`);
    expect(await notes('EtcdMemberRemoved')).toMatch(new RegExp(`Deleting control-plane Machine ${name} was drained: its etcd member ${victim.status!.nodeRef!.name} \\([0-9a-f]+\\) was removed through Machine `));
    expect(await notes('RemediationFinished')).toContain(`Remediation of Machine ${name} finished: its replacement joined etcd`);
    await refused;
  });

  it('upstream #262: a node dies while a version rollout is pending; remediation proceeds and the rollout finishes', async () => {
    const machines = await cp.machines();
    const victim = machines[0]!;
    const before = await cp.historyLength();
    const stoppedAt = await stopNodeOf(victim, machines);
    await eventually('EtcdClusterHealthy=False', async () => cp.condition(await cp.tcp(), 'EtcdClusterHealthy')?.status === 'False' || undefined, { timeoutMs: 60_000, intervalMs: 250 });
    await cp.patch({ version: 'v1.35.0' });
    const replacement = await replacementOf(victim.metadata.name!);
    expect(replacement.spec.version).toBe('v1.35.0');
    const { machines: after } = await cp.settled(3, 'v1.35.0');
    process.stderr.write(`[figures] #262: node stopped → remediated and rolled out to v1.35.0: ${seconds(stoppedAt)}\n`);
    expect(await cp.etcdMembers()).toEqual(after.map((m) => m.status!.nodeRef!.name).sort());
    expect((await cp.judgeSince(before)).quorumAlwaysKept).toBe(true);
    expect((await w.client.get<Machine>(MachineKind, cp.namespace, victim.metadata.name!).then(() => 'there', () => 'gone'))).toBe('gone');
  });

  it('two nodes die at once (5 replicas): remediated one at a time, the second removal only after the first replacement joined', async () => {
    await cp.patch({ replicas: 5 });
    const { machines } = await cp.settled(5, 'v1.35.0');
    const [first, second] = [machines[1]!, machines[3]!];
    const names = [first.metadata.name!, second.metadata.name!];
    await cp.avoidHistoryNode(first, machines);
    await cp.avoidHistoryNode(second, machines.filter((m) => m !== first));
    const before = await cp.historyLength();
    const stoppedAt = Date.now();
    await Promise.all([first, second].map(async (m) => w.sim.stopNode(await cp.nodeIdOf(m))));

    const waited = await eventually('the second remediation waits for the first', async () => {
      const message = cp.condition(await cp.tcp(), 'Remediating')?.message ?? '';
      return /^Waiting for the remediation of Machine (\S+) to finish \(its replacement to join\) before remediating Machine (\S+)$/.exec(message) ?? undefined;
    }, { timeoutMs: 180_000, intervalMs: 200 });
    expect([waited[1], waited[2]].sort()).toEqual([...names].sort());
    await Promise.all(names.map((name) => replacementOf(name)));
    const { machines: after } = await cp.settled(5, 'v1.35.0');
    process.stderr.write(`[figures] two nodes stopped → both replaced, 5 Ready: ${seconds(stoppedAt)}\n`);

    expect(await cp.etcdMembers()).toEqual(after.map((m) => m.status!.nodeRef!.name).sort());
    const changes = (await cp.historySince(before)).filter((s) => Date.parse(s.time) >= stoppedAt && (s.event === 'removed' || s.event === 'joined')).map((s) => s.event);
    expect(changes).toEqual(['removed', 'joined', 'removed', 'joined']);
    const judged = await cp.judgeSince(before);
    expect(judged.quorumAlwaysKept).toBe(true);
    expect(judged.minUp).toBeGreaterThanOrEqual(3);
  });
});
