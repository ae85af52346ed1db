// When a failed call may be sent again. Only reads that change nothing are
// retried, and only on UNAVAILABLE (the node or connection was not there).
// Anything that changes a node (Bootstrap, Reset, ApplyConfiguration,
// Upgrade, Reboot, etcd membership changes) is sent at most once: a lost reply
// does not mean the node did not act, and doing it twice can be harmful
// (a second Reset, a second member removal after a re-join).
import { status as GrpcStatus } from '@grpc/grpc-js';

/** read: idempotent, retried; mutation: sent once; watch: long-lived stream, the caller re-subscribes. */
export type CallSafety = 'read' | 'mutation' | 'watch';

export const METHOD_SAFETY = {
  Version: 'read',
  ServiceList: 'read',
  EtcdMemberList: 'read',
  EtcdStatus: 'read',
  List: 'read',
  Kubeconfig: 'read',
  Events: 'watch',
  Bootstrap: 'mutation',
  ApplyConfiguration: 'mutation',
  Upgrade: 'mutation',
  Reboot: 'mutation',
  Reset: 'mutation',
  EtcdRemoveMemberByID: 'mutation',
  EtcdLeaveCluster: 'mutation',
  EtcdForfeitLeadership: 'mutation',
  ImageServiceList: 'read',
  ImageServicePull: 'mutation',
  LifecycleServiceUpgrade: 'mutation',
  ResourceGet: 'read',
} as const satisfies Record<string, CallSafety>;

export type MachineMethod = keyof typeof METHOD_SAFETY;

export interface RetryPolicy {
  /** Total attempts for a read, the first included. */
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, initialBackoffMs: 200, maxBackoffMs: 2000 };

export interface RetryQuestion {
  method: MachineMethod;
  code: GrpcStatus;
  /** Attempts made so far (1 after the first failure). */
  attempt: number;
  /** Time left before the call's deadline. */
  remainingMs: number;
  /** Stream messages already handed to the caller; a stream is only retried before the first one. */
  messagesDelivered?: number;
  /** Set when the failure is known not to heal by retrying (e.g. our client certificate has expired). */
  permanent?: boolean;
}

/** Milliseconds to wait before the next attempt, or undefined when the failure is final. */
export function retryDelayMs(question: RetryQuestion, policy: RetryPolicy = DEFAULT_RETRY_POLICY): number | undefined {
  if (METHOD_SAFETY[question.method] !== 'read') return undefined;
  if (question.code !== GrpcStatus.UNAVAILABLE || question.permanent) return undefined;
  if ((question.messagesDelivered ?? 0) > 0) return undefined;
  if (question.attempt >= policy.maxAttempts) return undefined;
  const delay = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (question.attempt - 1));
  // Waiting only to hit the deadline would turn UNAVAILABLE into DEADLINE_EXCEEDED and hide the cause.
  return delay < question.remainingMs ? delay : undefined;
}
