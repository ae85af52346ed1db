// The choices of removeEtcdMember that the simulator test (test/talos/etcd-member-removal.test.ts)
// does not reach: a leave that fails falls back to the peer, a member name seen twice is left alone,
// no healthy peer answering waits, and a refused removal fails.
import type { Machine } from '../../../src/api/capi/v1beta2/types';
import { talosAddressOf } from '../../../src/controlplane/control-plane';
import { EtcdMemberRemovalFailed, removeEtcdMember } from '../../../src/controlplane/etcd-member-removal';
import type { EtcdMember, TalosClient } from '../../../src/talos/api';
import { machine } from './fixtures';

const ok = <T>(value: T) => [{ ok: true as const, node: '', value }];
const member = (id: string, hostname: string): EtcdMember => ({ id, hostname, peerUrls: [], clientUrls: [], isLearner: false });
const running = [{ id: 'etcd', state: 'Running', health: { unknown: false, healthy: false, lastMessage: '' }, events: [] }];

interface FakeNode { unreachable?: boolean; leaveFails?: boolean; members?: EtcdMember[]; removeFails?: boolean }

function fakeTalos(nodes: Record<string, FakeNode>) {
  const calls: string[] = [];
  const talosAt = async <T>(address: string, _role: string, call: (talos: TalosClient) => Promise<T>): Promise<T> => {
    const node = nodes[address] ?? { unreachable: true };
    if (node.unreachable) throw new Error('connect ECONNREFUSED');
    return call({
      serviceList: async () => ok(running),
      etcdForfeitLeadership: async () => { calls.push(`forfeit ${address}`); return ok({ member: '' }); },
      etcdLeaveCluster: async () => {
        calls.push(`leave ${address}`);
        if (node.leaveFails) throw new Error('etcdserver: no leader');
        return ok({});
      },
      etcdMemberList: async () => ok({ members: node.members ?? [], legacyMembers: [] }),
      etcdRemoveMemberByID: async (id: string) => {
        calls.push(`remove ${id} through ${address}`);
        if (node.removeFails) throw new Error('etcdserver: re-configuration failed due to not enough started members');
        return ok({});
      },
    } as unknown as TalosClient);
  };
  return { talosAt, calls };
}

const a = machine('a', { address: '10.0.0.1', node: true });
const b = machine('b', { address: '10.0.0.2', node: true });
const c = machine('c', { address: '10.0.0.3', node: true });
const MEMBERS = [member('1', 'a'), member('2', 'b'), member('3', 'c')];

async function remediate(nodes: Record<string, FakeNode>, { healthy = ['b', 'c'], others = [b, c] }: { healthy?: string[]; others?: Machine[] } = {}) {
  const talos = fakeTalos(nodes);
  const outcome = await removeEtcdMember({
    victim: a, others, isHealthy: (m) => healthy.includes(m.metadata.name!), talosAt: talos.talosAt, signal: new AbortController().signal,
    addressOf: talosAddressOf,
  });
  return { outcome, calls: talos.calls };
}

describe('removeEtcdMember', () => {
  it('a victim that answers but cannot leave has its member removed through a healthy peer', async () => {
    const { outcome, calls } = await remediate({ '10.0.0.1': { leaveFails: true }, '10.0.0.2': { members: MEMBERS }, '10.0.0.3': { members: MEMBERS } });
    expect(outcome).toMatchObject({ removed: true, how: 'removedThroughPeer', peer: 'b', member: { id: '1', hostname: 'a' } });
    expect(calls).toEqual(['forfeit 10.0.0.1', 'leave 10.0.0.1', 'remove 1 through 10.0.0.2']);
  });

  it('goes through the first healthy peer that answers, never an unhealthy one', async () => {
    const { outcome, calls } = await remediate({ '10.0.0.2': { members: MEMBERS }, '10.0.0.3': { members: MEMBERS } }, { healthy: ['c'] });
    expect(outcome).toMatchObject({ removed: true, peer: 'c' });
    expect(calls).toEqual(['remove 1 through 10.0.0.3']);
    const skipped = await remediate({ '10.0.0.2': { unreachable: true }, '10.0.0.3': { members: MEMBERS } });
    expect(skipped.outcome).toMatchObject({ removed: true, peer: 'c' });
  });

  it('two members named after the victim\'s Node: neither is removed, it waits', async () => {
    const { outcome, calls } = await remediate({ '10.0.0.2': { members: [...MEMBERS, member('9', 'A')] } });
    expect(outcome).toEqual({ removed: false, waiting: 'Waiting to remove the etcd member of Machine a: 2 etcd members are named a' });
    expect(calls).toEqual([]);
  });

  it('no healthy peer answers: waits, saying why the victim could not leave and what the peers said', async () => {
    const { outcome } = await remediate({});
    expect(outcome).toEqual({
      removed: false,
      waiting: 'Waiting for a healthy etcd member to remove Machine a\'s member through (it could not leave by itself: connect ECONNREFUSED): Machine b: connect ECONNREFUSED; Machine c: connect ECONNREFUSED',
    });
  });

  it('a removal etcd refuses fails and says so', async () => {
    await expect(remediate({ '10.0.0.2': { members: MEMBERS, removeFails: true } })).rejects.toThrow(EtcdMemberRemovalFailed);
  });
});
