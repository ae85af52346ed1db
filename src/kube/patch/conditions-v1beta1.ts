// The deprecated Cluster API v1beta1 condition shape (with severity), still written under
// status.deprecated.v1beta1.conditions (v1beta2 objects) or status.conditions (older contracts).
import { type ConditionStatus, nowTimestamp } from './conditions';
import { compareCodeUnits } from '../../util/compare';

export type ConditionSeverity = 'Error' | 'Warning' | 'Info' | '';

export interface V1Beta1Condition {
  type: string;
  status: ConditionStatus;
  severity?: ConditionSeverity;
  reason?: string;
  message?: string;
  lastTransitionTime: string;
}

export const READY_V1BETA1 = 'Ready';

const SEVERITY_RANK: Record<ConditionSeverity, number> = { Error: 3, Warning: 2, Info: 1, '': 0 };

export function getV1Beta1(conditions: readonly V1Beta1Condition[] | undefined, type: string): V1Beta1Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * Sets a condition, keeping lastTransitionTime when the status did not change. v1beta1 lists are
 * kept sorted with Ready first, then by type, as Cluster API does.
 */
export function setV1Beta1(
  conditions: readonly V1Beta1Condition[] | undefined, input: Omit<V1Beta1Condition, 'lastTransitionTime'>, now?: Date,
): V1Beta1Condition[] {
  const existing = getV1Beta1(conditions, input.type);
  const lastTransitionTime = existing && existing.status === input.status ? existing.lastTransitionTime : nowTimestamp(now);
  const next: V1Beta1Condition = { type: input.type, status: input.status, lastTransitionTime };
  // Severity only means something on False conditions.
  if (input.status === 'False' && input.severity) next.severity = input.severity;
  if (input.reason) next.reason = input.reason;
  if (input.message) next.message = input.message;
  const list = (conditions ?? []).filter((c) => c.type !== input.type);
  list.push(next);
  return sortV1Beta1(list);
}

export function markTrueV1Beta1(conditions: readonly V1Beta1Condition[] | undefined, type: string, now?: Date): V1Beta1Condition[] {
  return setV1Beta1(conditions, { type, status: 'True' }, now);
}

export function markFalseV1Beta1(
  conditions: readonly V1Beta1Condition[] | undefined, type: string, reason: string, severity: ConditionSeverity,
  message: string, now?: Date,
): V1Beta1Condition[] {
  return setV1Beta1(conditions, { type, status: 'False', reason, severity, message }, now);
}

export function sortV1Beta1(conditions: V1Beta1Condition[]): V1Beta1Condition[] {
  return conditions.sort((a, b) => {
    if (a.type === READY_V1BETA1) return b.type === READY_V1BETA1 ? 0 : -1;
    if (b.type === READY_V1BETA1) return 1;
    return compareCodeUnits(a.type, b.type);
  });
}

/**
 * The v1beta1 Ready summary: False (with the reason/severity of the worst False condition) if any
 * is False, Unknown if any is Unknown, else True. `types` limits which conditions count.
 */
export function summaryV1Beta1(
  conditions: readonly V1Beta1Condition[] | undefined, types?: readonly string[],
): Omit<V1Beta1Condition, 'lastTransitionTime'> {
  const considered = (conditions ?? []).filter(
    (c) => c.type !== READY_V1BETA1 && (!types || types.includes(c.type)),
  );
  const falses = considered.filter((c) => c.status === 'False');
  if (falses.length) {
    const worst = falses.reduce((a, b) => (SEVERITY_RANK[b.severity ?? ''] > SEVERITY_RANK[a.severity ?? ''] ? b : a));
    const message = falses.length > 1 ? `${worst.message ?? worst.reason ?? ''} (and ${falses.length - 1} more)` : worst.message;
    return { type: READY_V1BETA1, status: 'False', reason: worst.reason, severity: worst.severity ?? 'Info', message };
  }
  const unknown = considered.find((c) => c.status === 'Unknown');
  if (unknown) return { type: READY_V1BETA1, status: 'Unknown', reason: unknown.reason, message: unknown.message };
  return { type: READY_V1BETA1, status: 'True' };
}
