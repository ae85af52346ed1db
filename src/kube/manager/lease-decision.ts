// Pure leader-election decisions over coordination.k8s.io/v1 Lease records (client-go semantics).
// Expiry is judged by when *we* last saw the record change, not by the holder's clock.

export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}

export interface ObservedLease {
  spec: LeaseSpec;
  /** Local monotonic time (ms) when this spec was first seen. */
  observedAt: number;
}

export type LeaseVerdict = 'acquire' | 'renew' | 'held-by-other';

function sameSpec(a: LeaseSpec, b: LeaseSpec): boolean {
  return (
    (a.holderIdentity ?? '') === (b.holderIdentity ?? '') && a.renewTime === b.renewTime &&
    a.acquireTime === b.acquireTime && a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.leaseTransitions === b.leaseTransitions
  );
}

/** Updates the observation: the clock restarts only when the record changed. */
export function observe(previous: ObservedLease | undefined, spec: LeaseSpec, now: number): ObservedLease {
  if (previous && sameSpec(previous.spec, spec)) return previous;
  return { spec, observedAt: now };
}

export function decide(observed: ObservedLease, identity: string, now: number, defaultLeaseDurationMs: number): LeaseVerdict {
  const holder = observed.spec.holderIdentity ?? '';
  if (holder === identity) return 'renew';
  if (!holder) return 'acquire';
  const durationMs = (observed.spec.leaseDurationSeconds ?? defaultLeaseDurationMs / 1000) * 1000;
  return observed.observedAt + durationMs > now ? 'held-by-other' : 'acquire';
}

/** The spec to write when acquiring or renewing. */
export function nextSpec(current: LeaseSpec | undefined, identity: string, leaseDurationMs: number, nowIso: string): LeaseSpec {
  const renewing = (current?.holderIdentity ?? '') === identity && !!current?.acquireTime;
  return {
    holderIdentity: identity,
    leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
    acquireTime: renewing ? current!.acquireTime : nowIso,
    renewTime: nowIso,
    leaseTransitions: renewing ? (current?.leaseTransitions ?? 0) : (current ? (current.leaseTransitions ?? 0) + 1 : 0),
  };
}

/** The spec to write when stepping down, so that another candidate can take over at once. */
export function releasedSpec(current: LeaseSpec, nowIso: string): LeaseSpec {
  return { ...current, holderIdentity: null, leaseDurationSeconds: 1, acquireTime: nowIso, renewTime: nowIso };
}
