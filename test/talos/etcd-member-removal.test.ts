// The etcd side of a deleting control-plane Machine's pre-terminate hook
// (src/controlplane/etcd-member-removal.ts) against simulated nodes of one etcd cluster, through the
// control plane's own Talos access: a stopped node's member is removed by ID through a healthy
// peer, found by the victim's Node name; a victim without a Node name whose member cannot be told
// apart is left alone; a victim that answers leaves etcd by itself.
import type { Machine } from '../../src/api/capi/v1beta2/types';
import { TalosAccess } from '../../src/cluster/talos-access';
import { removeEtcdMember, type MemberRemovalOutcome } from '../../src/controlplane/etcd-member-removal';
import type { TalosAt } from '../../src/controlplane/scale-down';
import { TalosClient, unwrapSingle } from '../../src/talos/api';
import { makeClusterFixture, type ClusterFixture } from '../support/talos-fixtures';
import { SIM_BUILD_TIMEOUT_MS, TalosSim, type SimNode } from '../support/talos-sim';

let sim: TalosSim;
let cluster: ClusterFixture;
const nodes: Record<string, SimNode> = {};
const access = new TalosAccess();

const talosAt: TalosAt = async (address, role, call) => {
  const talos = new TalosClient({ ...(await access.credentials('cluster-uid', role, async () => cluster.osCa)), endpoints: [address], defaultTimeoutMs: 5_000 });
  try {
    return await call(talos);
  } finally {
    talos.close();
  }
};

/** A control-plane Machine of node `id` as Cluster API shows it (its Node named after the hostname). */
function machineOf(id: string, { nodeRef = true } = {}): Machine {
  return {
    apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Machine', metadata: { name: `m-${id}`, namespace: 'ns' },
    spec: { clusterName: 'c', bootstrap: {}, infrastructureRef: { apiGroup: 'infra', kind: 'SimMachine', name: id } },
    status: { ...(nodeRef ? { nodeRef: { name: `rr-${id}` } } : {}), addresses: [{ type: 'InternalIP', address: nodes[id]!.address }] },
  } as Machine;
}

async function memberNames(through: string): Promise<string[]> {
  const list = await talosAt(nodes[through]!.address, 'os:reader', (talos) => talos.etcdMemberList());
  return unwrapSingle(list, 'EtcdMemberList').members.map((m) => m.hostname).sort();
}

async function remove(victim: Machine, others: Machine[]): Promise<{ outcome: MemberRemovalOutcome }> {
  const outcome = await removeEtcdMember({
    victim, others, isHealthy: () => true, talosAt, signal: new AbortController().signal,
    addressOf: (m) => m.status?.addresses?.[0]?.address,
  });
  return { outcome };
}

beforeAll(async () => {
  [sim, cluster] = await Promise.all([TalosSim.start(), makeClusterFixture('remediation')]);
  for (const id of ['cp-1', 'cp-2', 'cp-3']) nodes[id] = await sim.bootNode(cluster.machineConfig('controlplane', `rr-${id}`), { id });
  const admin = TalosClient.fromTalosconfig(await cluster.talosconfig([nodes['cp-1']!.address]));
  try {
    unwrapSingle(await admin.bootstrap(), 'Bootstrap');
  } finally {
    admin.close();
  }
  for (const id of ['cp-1', 'cp-2', 'cp-3']) await sim.waitFor(id, (n) => Boolean(n.etcdMemberId), 30_000);
  expect(await memberNames('cp-1')).toEqual(['rr-cp-1', 'rr-cp-2', 'rr-cp-3']);
}, SIM_BUILD_TIMEOUT_MS);

afterAll(async () => {
  await sim?.shutdown();
});

describe('removing a deleting Machine\'s etcd member', () => {
  it('a stopped victim without a Node name, while its member belongs to no other Machine: nothing removed', async () => {
    await sim.stopNode('cp-3');
    const { outcome } = await remove(machineOf('cp-3', { nodeRef: false }), [machineOf('cp-1'), machineOf('cp-2')]);
    expect(outcome).toEqual({ removed: false, waiting: 'Waiting to remove the etcd member of Machine m-cp-3: Machine m-cp-3 has no Node to tell its etcd member by, and member rr-cp-3 belongs to no other Machine' });
    expect(await memberNames('cp-1')).toEqual(['rr-cp-1', 'rr-cp-2', 'rr-cp-3']);
  });

  it('a stopped victim: its member, found by its Node name, is removed by ID through a healthy peer', async () => {
    const id = (await sim.inspect('cp-3')).etcdMemberId;
    const { outcome } = await remove(machineOf('cp-3'), [machineOf('cp-1'), machineOf('cp-2')]);
    expect(outcome).toMatchObject({ removed: true, how: 'removedThroughPeer', peer: 'm-cp-1', member: { hostname: 'rr-cp-3', id } });
    expect(await memberNames('cp-2')).toEqual(['rr-cp-1', 'rr-cp-2']);
    expect((await sim.inspect('cp-1')).etcd).toMatchObject({ quorum: true });
  });

  it('again (the Machine was not gone yet): no member of that name is left', async () => {
    const { outcome } = await remove(machineOf('cp-3'), [machineOf('cp-1'), machineOf('cp-2')]);
    expect(outcome).toEqual({ removed: true, how: 'noMember' });
  });

  it('a victim that answers hands off leadership and leaves by itself', async () => {
    nodes['cp-4'] = await sim.bootNode(cluster.machineConfig('controlplane', 'rr-cp-4'), { id: 'cp-4' });
    await sim.waitFor('cp-4', (n) => Boolean(n.etcdMemberId), 30_000);
    expect(await memberNames('cp-1')).toEqual(['rr-cp-1', 'rr-cp-2', 'rr-cp-4']);
    const { outcome } = await remove(machineOf('cp-4'), [machineOf('cp-1'), machineOf('cp-2')]);
    expect(outcome).toEqual({ removed: true, how: 'left' });
    expect(await memberNames('cp-1')).toEqual(['rr-cp-1', 'rr-cp-2']);
  });
});
