import { status } from '@grpc/grpc-js';
import { DEFAULT_RETRY_POLICY, METHOD_SAFETY, retryDelayMs, type MachineMethod } from '../../../src/talos/api/retry';

const ask = (method: MachineMethod, code = status.UNAVAILABLE, extra: Partial<Parameters<typeof retryDelayMs>[0]> = {}) =>
  retryDelayMs({ method, code, attempt: 1, remainingMs: 10_000, ...extra });

describe('retry policy', () => {
  it.each(['Version', 'ServiceList', 'EtcdMemberList', 'EtcdStatus', 'List', 'Kubeconfig', 'ImageServiceList'] as MachineMethod[])(
    'retries the read %s on UNAVAILABLE',
    (method) => {
      expect(ask(method)).toBe(DEFAULT_RETRY_POLICY.initialBackoffMs);
    },
  );

  it.each([
    'Bootstrap',
    'Reset',
    'ApplyConfiguration',
    'Upgrade',
    'Reboot',
    'EtcdRemoveMemberByID',
    'EtcdLeaveCluster',
    'EtcdForfeitLeadership',
    'Events',
    'ImageServicePull',
    'LifecycleServiceUpgrade',
  ] as MachineMethod[])('never retries %s', (method) => {
    expect(ask(method)).toBeUndefined();
  });

  it('classifies every method it knows', () => {
    expect(Object.keys(METHOD_SAFETY)).toHaveLength(19);
  });

  it.each([status.DEADLINE_EXCEEDED, status.PERMISSION_DENIED, status.INTERNAL, status.UNKNOWN, status.FAILED_PRECONDITION])(
    'does not retry a read on code %d',
    (code) => {
      expect(ask('Version', code)).toBeUndefined();
    },
  );

  it('backs off exponentially up to the cap, and stops after maxAttempts', () => {
    const policy = { maxAttempts: 6, initialBackoffMs: 100, maxBackoffMs: 350 };
    const delays = [1, 2, 3, 4, 5, 6].map((attempt) => retryDelayMs({ method: 'Version', code: status.UNAVAILABLE, attempt, remainingMs: 1e6 }, policy));
    expect(delays).toEqual([100, 200, 350, 350, 350, undefined]);
  });

  it('does not wait past the deadline', () => {
    expect(ask('Version', status.UNAVAILABLE, { remainingMs: 150 })).toBeUndefined();
  });

  it('does not retry a stream that already delivered messages', () => {
    expect(ask('List', status.UNAVAILABLE, { messagesDelivered: 1 })).toBeUndefined();
  });

  it('does not retry a permanent failure (our certificate expired)', () => {
    expect(ask('Version', status.UNAVAILABLE, { permanent: true })).toBeUndefined();
  });
});
