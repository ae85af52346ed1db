import type { Machine } from '../../../src/api/capi/v1beta2/types';
import { removeControlPlaneMachine, type TalosAt } from '../../../src/controlplane/scale-down';
import type { ServiceInfo, TalosClient } from '../../../src/talos/api';
import { talosAddressOf } from '../../../src/controlplane/control-plane';
import { machine } from './fixtures';

type NodeState = 'healthy' | 'unhealthy' | 'left' | 'unreachable';

/** Talos nodes by address: what ServiceList answers, and a log of every etcd call made. */
function fakeTalos(nodes: Record<string, NodeState>, options: { forfeitFails?: boolean } = {}) {
  const calls: string[] = [];
  const etcd = (state: NodeState): ServiceInfo[] => state === 'left'
    ? [{ id: 'etcd', state: 'Finished', health: { unknown: false, healthy: false, lastMessage: '' }, events: [] }]
    : [{ id: 'etcd', state: 'Running', health: { unknown: false, healthy: state === 'healthy', lastMessage: '' }, events: [] }];
  const ok = <T>(value: T) => [{ ok: true as const, node: '', value }];
  const readRoles = new Set<string>();
  const talosAt: TalosAt = async (address, role, call) => {
    const state = nodes[address];
    if (state === 'unreachable') throw new Error('connect ECONNREFUSED');
    const client = {
      serviceList: async () => { readRoles.add(role); return ok(etcd(state!)); },
      etcdForfeitLeadership: async () => {
        calls.push(`forfeit ${address} as ${role}`);
        if (options.forfeitFails) throw new Error('etcdserver: no leader');
        return ok({ member: '' });
      },
      etcdLeaveCluster: async () => { calls.push(`leave ${address} as ${role}`); return ok({}); },
    } as unknown as TalosClient;
    return call(client);
  };
  return { talosAt, calls, readRoles };
}

const node = (name: string, address: string) => machine(name, { address, node: true });
const signal = new AbortController().signal;

async function remove(victim: Machine, others: Machine[], talos: ReturnType<typeof fakeTalos>) {
  const deleted: string[] = [];
  const outcome = await removeControlPlaneMachine({
    victim, others, signal, talosAt: talos.talosAt, addressOf: (m: Machine) => talosAddressOf(m),
    deleteMachine: async (m) => { deleted.push(m.metadata.name!); },
  });
  return { outcome, deleted };
}

describe('removeControlPlaneMachine', () => {
  const a = node('a', '10.0.0.1');
  const b = node('b', '10.0.0.2');
  const c = node('c', '10.0.0.3');

  it('hands off leadership on the victim (as os:admin; reads as os:reader) and deletes its Machine; it does not leave etcd (its hook does, after the drain)', async () => {
    const talos = fakeTalos({ '10.0.0.1': 'healthy', '10.0.0.2': 'healthy', '10.0.0.3': 'healthy' });
    const { outcome, deleted } = await remove(a, [b, c], talos);
    expect(outcome).toEqual({ removed: true, forfeited: true });
    expect(talos.calls).toEqual(['forfeit 10.0.0.1 as os:admin']);
    expect([...talos.readRoles]).toEqual(['os:reader']);
    expect(deleted).toEqual(['a']);
  });

  it('never removes a Machine while another one is unhealthy or unreachable: it waits and says which', async () => {
    const sick = await remove(a, [b, c], fakeTalos({ '10.0.0.1': 'healthy', '10.0.0.2': 'unhealthy', '10.0.0.3': 'healthy' }));
    expect(sick.outcome).toEqual({ removed: false, waiting: 'Waiting to remove Machine a: every other member must be healthy first (etcd on Machine b (10.0.0.2) is not healthy)' });
    expect(sick.deleted).toEqual([]);
    const gone = await remove(a, [b, c], fakeTalos({ '10.0.0.1': 'healthy', '10.0.0.2': 'healthy', '10.0.0.3': 'unreachable' }));
    expect(gone.outcome).toMatchObject({ removed: false, waiting: expect.stringContaining('Machine c (10.0.0.3) does not answer the Talos API') });
  });

  it('an unreachable victim leads nothing: deleted without a forfeit (its hook removes its member through a peer)', async () => {
    const talos = fakeTalos({ '10.0.0.1': 'unreachable', '10.0.0.2': 'healthy', '10.0.0.3': 'healthy' });
    const { outcome, deleted } = await remove(a, [b, c], talos);
    expect(outcome).toEqual({ removed: true, forfeited: false });
    expect(deleted).toEqual(['a']);
    expect(talos.calls).toEqual([]);
  });

  it('a failed forfeit stops the deletion', async () => {
    const talos = fakeTalos({ '10.0.0.1': 'healthy', '10.0.0.2': 'healthy', '10.0.0.3': 'healthy' }, { forfeitFails: true });
    const deleted: string[] = [];
    await expect(removeControlPlaneMachine({ victim: a, others: [b, c], signal, talosAt: talos.talosAt, addressOf: (m: Machine) => talosAddressOf(m), deleteMachine: async (m) => { deleted.push(m.metadata.name!); } }))
      .rejects.toThrow('etcdserver: no leader');
    expect(deleted).toEqual([]);
  });

  it('a victim whose etcd already left is deleted without a forfeit', async () => {
    const talos = fakeTalos({ '10.0.0.1': 'left', '10.0.0.2': 'healthy', '10.0.0.3': 'healthy' });
    const { outcome, deleted } = await remove(a, [b, c], talos);
    expect(outcome).toEqual({ removed: true, forfeited: false });
    expect(talos.calls).toEqual([]);
    expect(deleted).toEqual(['a']);
  });

  it('a victim that never reported an address holds no member: deleted at once, the others not even asked', async () => {
    const talos = fakeTalos({ '10.0.0.2': 'unhealthy' });
    const { outcome, deleted } = await remove(machine('new'), [b], talos);
    expect(outcome).toEqual({ removed: true, forfeited: false });
    expect(deleted).toEqual(['new']);
  });
});
