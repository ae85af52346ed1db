import { KubeApiError } from '../../../../src/kube/client/api-error';
import { type Lease, LeaderElector, type LeaseStore } from '../../../../src/kube/manager/leader-election';
import { decide, nextSpec, observe, releasedSpec } from '../../../../src/kube/manager/lease-decision';

describe('lease decisions', () => {
  const spec = { holderIdentity: 'other', leaseDurationSeconds: 15, renewTime: 'r1', acquireTime: 'a', leaseTransitions: 2 };

  it('waits for another holder\'s lease to expire as observed locally', () => {
    const seen = observe(undefined, spec, 1000);
    expect(decide(seen, 'me', 1000 + 14_999, 15_000)).toBe('held-by-other');
    expect(decide(seen, 'me', 1000 + 15_001, 15_000)).toBe('acquire');
  });

  it('restarts the expiry clock when the record changes (the holder renewed), not when it stays the same', () => {
    const first = observe(undefined, spec, 0);
    expect(observe(first, { ...spec }, 10_000)).toBe(first);
    const renewed = observe(first, { ...spec, renewTime: 'r2' }, 10_000);
    expect(renewed.observedAt).toBe(10_000);
    expect(decide(renewed, 'me', 20_000, 15_000)).toBe('held-by-other');
  });

  it('renews its own lease and takes a released (holderless) one at once', () => {
    expect(decide(observe(undefined, { ...spec, holderIdentity: 'me' }, 0), 'me', 0, 15_000)).toBe('renew');
    expect(decide(observe(undefined, releasedSpec(spec, 'now'), 0), 'me', 0, 15_000)).toBe('acquire');
  });

  it('counts transitions only when the holder changes', () => {
    expect(nextSpec(undefined, 'me', 15_000, 't0')).toEqual({
      holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: 't0', renewTime: 't0', leaseTransitions: 0,
    });
    expect(nextSpec(spec, 'me', 15_000, 't1')).toMatchObject({ acquireTime: 't1', leaseTransitions: 3 });
    const mine = nextSpec(spec, 'me', 15_000, 't1');
    expect(nextSpec(mine, 'me', 15_000, 't2')).toMatchObject({ acquireTime: 't1', renewTime: 't2', leaseTransitions: 3 });
  });
});

/** An in-memory Lease with resourceVersion checks, like the apiserver's. */
class MemoryLeaseStore implements LeaseStore {
  lease?: Lease;
  failing = false;
  private version = 0;

  async get() {
    if (this.failing) throw new Error('apiserver unreachable');
    return this.lease && structuredClone(this.lease);
  }
  async create(lease: Lease) {
    if (this.failing) throw new Error('apiserver unreachable');
    if (this.lease) throw new KubeApiError(409, 'POST', '/leases', 'AlreadyExists', 'exists');
    this.lease = { ...structuredClone(lease), metadata: { ...lease.metadata, resourceVersion: String(++this.version) } };
    return structuredClone(this.lease);
  }
  async update(lease: Lease) {
    if (this.failing) throw new Error('apiserver unreachable');
    if (lease.metadata.resourceVersion !== this.lease?.metadata.resourceVersion) throw new KubeApiError(409, 'PUT', '/leases', 'Conflict', 'stale');
    this.lease = { ...structuredClone(lease), metadata: { ...lease.metadata, resourceVersion: String(++this.version) } };
    return structuredClone(this.lease);
  }
}

function elector(store: LeaseStore, identity: string, log: string[], leaseDurationMs = 600) {
  return new LeaderElector({
    store, namespace: 'ns', name: 'lock', identity, leaseDurationMs, renewDeadlineMs: leaseDurationMs * 2 / 3, retryPeriodMs: 50,
    onStartedLeading: () => log.push(`${identity} leads`),
    onStoppedLeading: () => log.push(`${identity} stops`),
  });
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('LeaderElector', () => {
  it('lets exactly one of two candidates lead, and hands over fast when the leader releases', async () => {
    const store = new MemoryLeaseStore();
    const log: string[] = [];
    // A lease far longer than the test may run: the other can lead in time only if it was released.
    const a = elector(store, 'a', log, 600_000);
    const b = elector(store, 'b', log, 600_000);
    a.run();
    b.run();
    await wait(200);
    expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1);
    const [leader, other] = a.isLeader ? [a, b] : [b, a];
    await leader.stop({ release: true });
    while (!other.isLeader) await wait(10);
    expect(store.lease?.spec?.leaseTransitions).toBe(1);
    await other.stop();
    expect(log).toHaveLength(4);
  });

  it('steps down when renewals fail for the renew deadline, and leads again when the API returns', async () => {
    const store = new MemoryLeaseStore();
    const log: string[] = [];
    const a = elector(store, 'a', log);
    a.run();
    await wait(100);
    expect(a.isLeader).toBe(true);
    store.failing = true;
    await wait(600);
    expect(a.isLeader).toBe(false);
    expect(log).toEqual(['a leads', 'a stops']);
    store.failing = false;
    await wait(200);
    expect(a.isLeader).toBe(true);
    await a.stop();
  });

  it('steps down at its next renewal when the Lease names another holder, without waiting for the renew deadline', async () => {
    const store = new MemoryLeaseStore();
    const log: string[] = [];
    const a = new LeaderElector({
      store, namespace: 'ns', name: 'lock', identity: 'a', leaseDurationMs: 60_000, renewDeadlineMs: 30_000, retryPeriodMs: 20,
      onStartedLeading: () => log.push('a leads'),
      onStoppedLeading: () => log.push('a stops'),
    });
    a.run();
    while (!a.isLeader) await wait(5);
    store.lease = { ...store.lease!, spec: { ...store.lease!.spec, holderIdentity: 'thief', renewTime: 'later' } };
    const stolenAt = Date.now();
    try {
      while (a.isLeader && Date.now() - stolenAt < 5_000) await wait(5);
      expect(a.isLeader).toBe(false);
      expect(log).toEqual(['a leads', 'a stops']);
    } finally {
      await a.stop();
    }
  });

  it('rejects timings where renewing could outlive the lease', () => {
    expect(() => new LeaderElector({
      store: new MemoryLeaseStore(), namespace: 'n', name: 'l', identity: 'i', leaseDurationMs: 10, renewDeadlineMs: 10,
      onStartedLeading: () => undefined, onStoppedLeading: () => undefined,
    })).toThrow('lease duration must exceed the renew deadline');
  });
});
