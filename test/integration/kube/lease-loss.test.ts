// Two managers with leader election against the real apiserver. The leader's Lease is rewritten to
// name the other replica while the leader is mid-reconcile; the old leader's write, made after it
// knows the lease is gone, must never reach the apiserver, and the old manager stops with
// 'leadership-lost' (its process exits 1). The new leader reconciles the same object and its write lands.
import { randomBytes } from 'node:crypto';
import { isNotFound } from '../../../src/kube/client/api-error';
import type { Lease } from '../../../src/kube/manager/leader-election';
import { Manager, type ManagerExit } from '../../../src/kube/manager/manager';
import type { ObjectKey } from '../../../src/kube/meta/object';
import type { ReconcileContext } from '../../../src/kube/controller/reconciler';
import { ConfigMapKind, LeaseKind } from '../../../src/kube/client/resource';
import { microTime } from '../../../src/kube/patch/events';
import { configMap, createConfigMap, createNamespace, eventually, testClient } from './helpers';

const client = testClient();
const leaseName = `lease-loss-${randomBytes(3).toString('hex')}`;
const managers: Manager[] = [];

interface SlowWrite {
  entered: Promise<void>;
  /** Settles with the write's error (undefined when it landed). */
  finished: Promise<unknown>;
}

/** A reconciler that, for the trigger object, waits for `gate` and then writes a marker named after its identity. */
function startReplica(namespace: string, identity: string, gate: Promise<void>): { manager: Manager; write: SlowWrite } {
  let entered!: () => void;
  let finished!: (error: unknown) => void;
  const write: SlowWrite = {
    entered: new Promise((resolve) => (entered = resolve)),
    finished: new Promise((resolve) => (finished = resolve)),
  };
  const manager = new Manager({
    client, namespace, healthAddr: '', metricsAddr: '',
    leaderElection: { id: leaseName, namespace, identity, leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 300 },
  });
  managers.push(manager);
  manager.controller('slow-writer').for(ConfigMapKind).complete({
    async reconcile(key: ObjectKey, ctx: ReconcileContext) {
      if (key.name !== 'trigger') return;
      entered();
      await gate; // deliberately deaf to the signal: only the client can stop the write
      try {
        await client.create(ConfigMapKind, configMap(namespace, `written-by-${identity}`, { by: identity }), ctx.signal);
        finished(undefined);
      } catch (error) {
        finished(error);
      }
    },
  });
  return { manager, write };
}

async function exists(namespace: string, name: string): Promise<boolean> {
  try {
    await client.get(ConfigMapKind, namespace, name);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

afterAll(async () => {
  await Promise.all(managers.map((manager) => manager.stop()));
});

it('aborts the old leader\'s in-flight reconcile when its Lease is taken, so its late write never lands', async () => {
  const namespace = await createNamespace(client, 'lease-loss');
  let openOldLeaderGate!: () => void;
  const oldLeaderGate = new Promise<void>((resolve) => (openOldLeaderGate = resolve));
  const a = startReplica(namespace, 'replica-a', oldLeaderGate);
  await a.manager.start();
  await eventually(() => a.manager.isLeader, 20_000);
  const b = startReplica(namespace, 'replica-b', Promise.resolve());
  await b.manager.start();
  const aExit: Promise<ManagerExit> = a.manager.done;
  const exitCodes: number[] = [];
  a.manager.handleSignals((code) => exitCodes.push(code));

  await createConfigMap(client, configMap(namespace, 'trigger', {}));
  await a.write.entered;
  expect(b.manager.isLeader).toBe(false);

  // Take the Lease for replica-b, as a replica that saw it expire would.
  const lease = await client.get<Lease>(LeaseKind, namespace, leaseName);
  const now = microTime();
  await client.replace(LeaseKind, { ...lease, spec: { ...lease.spec, holderIdentity: 'replica-b', acquireTime: now, renewTime: now } });
  await eventually(() => b.manager.isLeader && !a.manager.isLeader, 20_000);

  // The old leader knows it lost; only now does its reconcile try to write.
  openOldLeaderGate();
  const writeError = await a.write.finished;
  expect(writeError).toMatchObject({ name: 'AbortError' });
  expect(await exists(namespace, 'written-by-replica-a')).toBe(false);
  expect(await aExit).toBe('leadership-lost');
  await new Promise((resolve) => setImmediate(resolve));
  expect(exitCodes).toEqual([1]); // the process would exit 1 and restart as a follower

  // The new leader reconciled the same object and wrote.
  expect(await b.write.finished).toBeUndefined();
  expect(await exists(namespace, 'written-by-replica-b')).toBe(true);
  expect(await exists(namespace, 'written-by-replica-a')).toBe(false);
}, 90_000);
