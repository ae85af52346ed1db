// Two operator processes against the real apiserver: exactly one leads; killing it hands the
// lease over within the lease time; SIGTERM releases the lease for a faster handover.
import { randomBytes } from 'node:crypto';
import { LeaseKind } from '../../../../src/kube/client/resource';
import type { Lease } from '../../../../src/kube/manager/leader-election';
import { type OperatorProcess, startOperator } from '../../../support/operator-process';
import { eventually, testClient } from '../helpers';

const client = testClient();
const leaseName = `kube-le-${randomBytes(3).toString('hex')}`;
const args = ['--leader-elect', `--leader-election-id=${leaseName}`, '--leader-election-namespace=default', '--log-level=info'];
const processes: OperatorProcess[] = [];

const leading = (p: OperatorProcess) => p.metric('leader_election_master_status', { name: leaseName });

async function start(): Promise<OperatorProcess> {
  const operator = await startOperator({ args });
  processes.push(operator);
  return operator;
}

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
});

it('elects exactly one leader, fails over on SIGKILL within the lease time, and hands over fast on SIGTERM', async () => {
  const [a, b] = await Promise.all([start(), start()]);
  await eventually(async () => ((await leading(a)) ?? 0) + ((await leading(b)) ?? 0) === 1, 30_000);
  const [leader, follower] = (await leading(a)) === 1 ? [a, b] : [b, a];
  expect(await leading(follower)).toBe(0);
  expect(await (await fetch(`http://${follower.healthAddress}/readyz`)).status).toBe(200);

  const lease = await client.get<Lease>(LeaseKind, 'default', leaseName);
  expect(lease.spec).toMatchObject({ leaseDurationSeconds: 15 });
  const leaderHolder = lease.spec?.holderIdentity;

  // Crash: the follower may take over only once the lease expired (15 s) plus a retry period.
  leader.signal('SIGKILL');
  const killedAt = Date.now();
  await eventually(async () => (await leading(follower)) === 1, 30_000, 200);
  const takeoverMs = Date.now() - killedAt;
  const afterTakeover = await client.get<Lease>(LeaseKind, 'default', leaseName);
  expect(afterTakeover.spec?.holderIdentity).not.toBe(leaderHolder);
  expect(afterTakeover.spec?.leaseTransitions).toBe((lease.spec?.leaseTransitions ?? 0) + 1);
  // Not before the lease expired: its last renewal was at most one retry period (2 s) before the kill.
  expect(takeoverMs).toBeGreaterThanOrEqual(15_000 - 2_000);

  // Graceful: SIGTERM releases the lease; a standby takes over after about one retry period.
  const standby = await start();
  await eventually(async () => (await leading(standby)) === 0, 20_000);
  const lastRenewed = Date.parse((await client.get<Lease>(LeaseKind, 'default', leaseName)).spec?.renewTime ?? '');
  follower.signal('SIGTERM');
  const terminatedAt = Date.now();
  await eventually(async () => (await leading(standby)) === 1, 30_000, 100);
  const handoverMs = Date.now() - terminatedAt;
  // The standby took a lease that would still have been valid: only a release lets it do that.
  const acquired = Date.parse((await client.get<Lease>(LeaseKind, 'default', leaseName)).spec?.acquireTime ?? '');
  expect(acquired).toBeLessThan(lastRenewed + 15_000);
  expect(await follower.exited).toEqual({ code: 0, signal: null });
  expect(follower.output()).toContain('released lease');

  process.stdout.write(`[leader-election] takeover after SIGKILL ${(takeoverMs / 1000).toFixed(1)} s; handover after SIGTERM ${(handoverMs / 1000).toFixed(1)} s\n`);
}, 120_000);
