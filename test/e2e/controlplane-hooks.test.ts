// The control plane's pre-terminate hook in the world, nothing played by hand but what a user does:
// every control-plane Machine carries the hook (one that lost it gets it back); a Machine a user
// deletes with kubectl is drained by the real Cluster API core, which then waits on the hook while
// our provider takes the Machine's member out of etcd; only then is the node destroyed, and a
// replacement joins — no dangling member, quorum kept all along in the simulator's history. Then
// an orphan member: a Machine deleted with its hook taken off by hand leaves its node's member
// behind once the node is destroyed; the provider removes it through a healthy peer once the rest
// of the control plane is healthy, before the replacement joins. Two Machines deleted at once lose
// their members one at a time. Last, a Machine left without a controller is adopted back, unless
// its version is more than one minor away.
import { MachineKind } from '../../src/api/capi/v1beta2/resources';
import type { Machine } from '../../src/api/capi/v1beta2/types';
import { ETCD_CLEANUP_HOOK } from '../../src/controlplane/pre-terminate';
import { eventsFor } from '../support/capi-fixtures';
import { ControlPlaneProbe } from './controlplane-fixtures';
import { createClusterWithControlPlane, createNamespace, eventually, KUBERNETES_VERSION, world } from './world-fixtures';

jest.setTimeout(400_000);

const w = world();
const NAME = 'hooked';
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

describe('control-plane Machines deleted by hand: etcd membership follows through the pre-terminate hook', () => {
  let cp: ControlPlaneProbe;

  beforeAll(async () => {
    const namespace = await createNamespace(w.client, 'e2e-cp-hooks');
    cp = new ControlPlaneProbe(w.client, w.sim, await createClusterWithControlPlane(w.client, namespace, NAME, 3));
  });

  /** Deletes the control plane's `index`th Machine (as kubectl does), reading the history through another node. */
  async function deleteMachine(index: number): Promise<{ name: string; nodeName: string; before: number }> {
    const machines = await cp.machines();
    const victim = machines[index]!;
    await cp.avoidHistoryNode(victim, machines);
    const before = await cp.historyLength();
    await w.client.delete(MachineKind, cp.namespace, victim.metadata.name!);
    return { name: victim.metadata.name!, nodeName: victim.status!.nodeRef!.name, before };
  }

  const notes = async (reason: string) => (await eventsFor(w.client, cp.namespace, cp.name, reason)).map((e) => e.note).join('\n');

  it('comes up with 3 Machines, each carrying the hook; a Machine whose hook is taken off gets it back', async () => {
    const { machines } = await cp.settled(3, KUBERNETES_VERSION);
    for (const machine of machines) expect(machine.metadata.annotations).toHaveProperty([ETCD_CLEANUP_HOOK], '');
    const name = machines[0]!.metadata.name!;
    await w.client.patch(MachineKind, cp.namespace, name, { metadata: { annotations: { [ETCD_CLEANUP_HOOK]: null } } }, 'merge');
    await eventually('the hook back on the Machine', async () => {
      const machine = await w.client.get<Machine>(MachineKind, cp.namespace, name);
      return ETCD_CLEANUP_HOOK in (machine.metadata.annotations ?? {}) || undefined;
    }, { timeoutMs: 60_000, intervalMs: 250 });
  });

  it('kubectl delete of one Machine: its member leaves after the drain, in the hook; the Machine goes, a replacement joins; 3 healthy members, quorum kept', async () => {
    const deletedAt = Date.now();
    const { name, nodeName, before } = await deleteMachine(1);

    expect(await notes('EtcdMemberRemoved')).toContain(`Deleting control-plane Machine ${name} was drained: its etcd member left the cluster; its pre-terminate hook is released`);
    const { machines: after } = await cp.settled(3, KUBERNETES_VERSION);
    process.stderr.write(`[figures] Machine deleted by hand → replaced, 3 Ready: ${seconds(deletedAt)}\n`);
    expect(after.map((m) => m.metadata.name)).not.toContain(name);
    expect(await cp.etcdMembers()).toEqual(after.map((m) => m.status!.nodeRef!.name).sort());

    const history = await cp.historySince(before);
    // The member left (through the Talos API, while its node still ran), before its node was destroyed.
    const left = history.findIndex((s) => s.event === 'left' && s.member.hostname === nodeName);
    expect(left).toBeGreaterThanOrEqual(0);
    expect(history.slice(0, left).some((s) => s.event === 'deleted' && s.member.hostname === nodeName)).toBe(false);
    const judged = await cp.judgeSince(before);
    expect(judged.quorumAlwaysKept).toBe(true);
    expect(judged.minUp).toBeGreaterThanOrEqual(2);
  });

  it('our hook runs after the others; an orphan member (a Machine deleted with its hook taken off by hand) is removed through a healthy peer before the replacement joins', async () => {
    // A hook of someone else's holds ours (which runs last) while ours is taken off; then it goes too.
    const hold = 'pre-terminate.delete.hook.machine.cluster.x-k8s.io/e2e-hold';
    const held = (await cp.machines())[0]!.metadata.name!;
    await w.client.patch(MachineKind, cp.namespace, held, { metadata: { annotations: { [hold]: '' } } }, 'merge');
    const { name, nodeName, before } = await deleteMachine(0);
    expect(name).toBe(held);
    const message = `Waiting for the other pre-terminate hooks of Machine ${name} (${hold}) before removing its etcd member`;
    await eventually('our hook waits for the other one', async () => (cp.condition(await cp.tcp(), 'ScalingUp')?.message ?? '').includes(message) || undefined, { timeoutMs: 60_000, intervalMs: 250 });
    await w.client.patch(MachineKind, cp.namespace, name, { metadata: { annotations: { [ETCD_CLEANUP_HOOK]: null } } }, 'merge');
    await w.client.patch(MachineKind, cp.namespace, name, { metadata: { annotations: { [hold]: null } } }, 'merge');

    expect(await notes('OrphanEtcdMemberRemoved')).toMatch(new RegExp(`Removed etcd member ${nodeName} \\([0-9a-f]+\\) through Machine \\S+: no control-plane Machine has a Node of that name`));
    const { machines: after } = await cp.settled(3, KUBERNETES_VERSION);
    expect(await cp.etcdMembers()).toEqual(after.map((m) => m.status!.nodeRef!.name).sort());
    expect(await notes('EtcdMemberRemoved')).not.toContain(`Machine ${name} `);

    const history = await cp.historySince(before);
    const down = history.findIndex((s) => s.event === 'deleted' && s.member.hostname === nodeName);
    const removed = history.findIndex((s) => s.event === 'removed' && s.member.hostname === nodeName);
    const joined = history.findIndex((s, i) => i > 0 && s.event === 'joined');
    expect(down).toBeGreaterThanOrEqual(0);
    expect(removed).toBeGreaterThan(down);
    expect(joined).toBeGreaterThan(removed);
    expect((await cp.judgeSince(before)).quorumAlwaysKept).toBe(true);
  });

  it('two Machines deleted at once: their members go one at a time, the second once the first Machine is gone; quorum kept', async () => {
    const machines = await cp.machines();
    const [first, second] = [machines[0]!, machines[1]!];
    await cp.avoidHistoryNode(first, machines);
    await cp.avoidHistoryNode(second, machines.filter((m) => m !== first));
    const before = await cp.historyLength();
    await Promise.all([first, second].map((m) => w.client.delete(MachineKind, cp.namespace, m.metadata.name!)));
    const waited = await eventually('the second hook waits for the first Machine to be gone', async () => {
      const message = cp.condition(await cp.tcp(), 'ScalingUp')?.message ?? '';
      return /Waiting for Machine (\S+) to be deleted before removing the etcd member of Machine (\S+) \(one at a time\)/.exec(message) ?? undefined;
    }, { timeoutMs: 60_000, intervalMs: 100 });
    expect([waited[1], waited[2]].sort()).toEqual([first.metadata.name, second.metadata.name].sort());
    const { machines: after } = await cp.settled(3, KUBERNETES_VERSION);
    expect(await cp.etcdMembers()).toEqual(after.map((m) => m.status!.nodeRef!.name).sort());
    const history = await cp.historySince(before);
    const lefts = history.filter((s) => s.event === 'left').map((s) => s.member.hostname);
    expect(lefts).toEqual([waited[1], waited[2]].map((name) => machines.find((m) => m.metadata.name === name)!.status!.nodeRef!.name));
    expect((await cp.judgeSince(before)).quorumAlwaysKept).toBe(true);
  });

  it('a control-plane Machine left without a controller (as an older controller leaves them) is adopted back', async () => {
    const [machine] = await cp.machines();
    const name = machine!.metadata.name!;
    await w.client.patch(MachineKind, cp.namespace, name, { metadata: { ownerReferences: null } }, 'merge');
    const adopted = await eventually('the Machine controlled by the control plane again', async () => {
      const current = await w.client.get<Machine>(MachineKind, cp.namespace, name);
      return current.metadata.ownerReferences?.find((ref) => ref.controller === true && ref.kind === 'TalosControlPlane') ? current : undefined;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    expect(adopted.metadata.ownerReferences?.find((ref) => ref.controller)?.name).toBe(cp.name);
    expect(await notes('MachineAdopted')).toContain(`Adopted control-plane Machine ${name} (it had no controller)`);
    const { machines } = await cp.settled(3, KUBERNETES_VERSION);
    expect(machines.map((m) => m.metadata.name)).toContain(name);
  });

  it('an orphaned Machine more than one minor version away is not adopted (Event, Reconciling says why) until its version is back in reach', async () => {
    const [machine] = await cp.machines();
    const name = machine!.metadata.name!;
    await w.client.patch(MachineKind, cp.namespace, name, { metadata: { ownerReferences: null }, spec: { version: 'v1.31.0' } }, 'merge');
    const why = `Machine ${name} is not adopted: its version v1.31.0 is more than one minor version away from the control plane's ${KUBERNETES_VERSION}`;
    expect((await eventsFor(w.client, cp.namespace, cp.name, 'AdoptionFailed')).map((e) => [e.type, e.note])).toContainEqual(['Warning', why]);
    await eventually('Reconciling says why', async () => cp.condition(await cp.tcp(), 'Reconciling')?.message === why || undefined, { timeoutMs: 60_000, intervalMs: 250 });
    expect((await w.client.get<Machine>(MachineKind, cp.namespace, name)).metadata.ownerReferences ?? []).toEqual([]);

    await w.client.patch(MachineKind, cp.namespace, name, { spec: { version: KUBERNETES_VERSION } }, 'merge');
    await eventually('adopted once its version is in reach', async () => {
      const current = await w.client.get<Machine>(MachineKind, cp.namespace, name);
      return current.metadata.ownerReferences?.some((ref) => ref.controller === true && ref.name === cp.name) || undefined;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    await cp.settled(3, KUBERNETES_VERSION);
  });
});
