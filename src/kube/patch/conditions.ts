// metav1.Condition helpers for the Cluster API v1beta2 contract (status.conditions).
// lastTransitionTime changes only when status changes, so re-setting a condition is idempotent.

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message?: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export type ConditionInput = Omit<Condition, 'lastTransitionTime'> & { lastTransitionTime?: string };

/** Seconds precision, as metav1.Time serialises. */
export function nowTimestamp(now: Date = new Date()): string {
  return new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function getCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * Returns a new list with `input` set. The transition time is kept when the status is unchanged,
 * else it is `input.lastTransitionTime` or now. Order of existing conditions is preserved.
 */
export function setCondition(conditions: readonly Condition[] | undefined, input: ConditionInput, now?: Date): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === input.type);
  const existing = index >= 0 ? list[index] : undefined;
  const transitioned = !existing || existing.status !== input.status;
  const lastTransitionTime = transitioned
    ? (input.lastTransitionTime ?? nowTimestamp(now))
    : existing.lastTransitionTime;
  // metav1.Condition requires `message` (empty allowed); CRD validation rejects conditions without it.
  const next: Condition = { ...withoutUndefined(input), message: input.message ?? '', lastTransitionTime } as Condition;
  if (index >= 0) list[index] = next;
  else list.push(next);
  return list;
}

export interface SummaryOptions {
  type?: string;
  /** Conditions to summarise, in priority order. Missing ones count as Unknown. */
  forConditionTypes: readonly string[];
  /** Types where True is the bad state (e.g. "Deleting", "Paused"). */
  negativePolarity?: readonly string[];
  observedGeneration?: number;
}

/**
 * Ready-style summary: False if any input is in its bad state, Unknown if any is unknown, else True.
 * The reason and message name the first issue in priority order; further issues are listed.
 */
export function summaryCondition(conditions: readonly Condition[] | undefined, options: SummaryOptions): ConditionInput {
  const negative = new Set(options.negativePolarity ?? []);
  const issues: Array<{ type: string; status: ConditionStatus; reason: string; message: string }> = [];
  const unknowns: typeof issues = [];
  for (const type of options.forConditionTypes) {
    const condition = getCondition(conditions, type);
    const status = condition?.status ?? 'Unknown';
    const entry = { type, status, reason: condition?.reason ?? 'NotReported', message: condition?.message ?? '' };
    const bad = negative.has(type) ? status === 'True' : status === 'False';
    if (bad) issues.push(entry);
    else if (status === 'Unknown') unknowns.push(entry);
  }
  const type = options.type ?? 'Ready';
  const describe = (list: typeof issues) =>
    list.map((i) => (i.message ? `* ${i.type}: ${i.message}` : `* ${i.type}: ${i.reason}`)).join('\n');
  if (issues.length) {
    return { type, status: 'False', reason: issues[0]!.reason, message: describe([...issues, ...unknowns]), observedGeneration: options.observedGeneration };
  }
  if (unknowns.length) {
    return { type, status: 'Unknown', reason: unknowns[0]!.reason, message: describe(unknowns), observedGeneration: options.observedGeneration };
  }
  return { type, status: 'True', reason: type, message: '', observedGeneration: options.observedGeneration };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
