// The TalosConfig's conditions, in both shapes: metav1 conditions (Cluster API
// v1beta2 contract) and the deprecated v1beta1 ones, with CABPT's reasons so
// that dashboards and alerts written for CABPT keep working. Plus kstatus's
// abnormal-true Stalled (what Flux and Argo CD read as Failed): Ready=False alone
// says InProgress, which for a config no retry can fix is never going to end.
import type { Condition } from '../api/meta';
import type { TalosConfig, TalosConfigStatus } from '../api/bootstrap/v1beta1/types';
import { setCondition, summaryCondition, type ConditionInput } from '../kube/patch/conditions';
import { markFalseV1Beta1, markTrueV1Beta1, setV1Beta1, summaryV1Beta1, type ConditionSeverity } from '../kube/patch/conditions-v1beta1';

export const DATA_SECRET_AVAILABLE = 'DataSecretAvailable';
export const CLIENT_CONFIG_AVAILABLE = 'ClientConfigAvailable';
export const PAUSED = 'Paused';
export const READY = 'Ready';
/** kstatus's condition: present (True) only while the current generation failed for good. */
export const STALLED = 'Stalled';

/** Condition types this controller is the authority for (its values win in the patch helper). */
export const OWNED_CONDITIONS = [DATA_SECRET_AVAILABLE, CLIENT_CONFIG_AVAILABLE, PAUSED, READY, STALLED] as const;

export const Reasons = {
  available: 'Available',
  notAvailable: 'NotAvailable',
  internalError: 'InternalError',
  invalidConfig: 'InvalidConfig',
  /** The `<cluster>-talos` Secret is missing (after use), unreadable or not whole: fix the Secret. */
  invalidSecretsBundle: 'InvalidSecretsBundle',
  /** A Secret we would write exists and belongs to someone else. */
  secretConflict: 'SecretConflict',
  /** Another TalosConfig already bootstraps this config's Machine or MachinePool. */
  ownerHasAnotherConfig: 'OwnerHasAnotherConfig',
  paused: 'Paused',
  notPaused: 'NotPaused',
  // v1beta1 reasons (CABPT's)
  waitingForClusterInfrastructure: 'WaitingForClusterInfrastructure',
  dataSecretGenerationFailed: 'DataSecretGenerationFailed',
  clientConfigGenerationFailed: 'ClientConfigGenerationFailed',
} as const;

function status(config: TalosConfig): TalosConfigStatus {
  config.status ??= {};
  return config.status;
}

function set(config: TalosConfig, input: ConditionInput): void {
  const s = status(config);
  s.conditions = setCondition(s.conditions as Condition[] | undefined, { ...input, observedGeneration: config.metadata.generation }) as Condition[];
}

function setLegacy(config: TalosConfig, type: string, ok: boolean, reason?: string, severity: ConditionSeverity = 'Info', message = ''): void {
  const s = status(config);
  s.deprecated ??= {};
  s.deprecated.v1beta1 ??= {};
  const current = s.deprecated.v1beta1.conditions;
  s.deprecated.v1beta1.conditions = ok ? markTrueV1Beta1(current, type) : markFalseV1Beta1(current, type, reason ?? '', severity, message);
}

export function markDataSecretAvailable(config: TalosConfig): void {
  set(config, { type: DATA_SECRET_AVAILABLE, status: 'True', reason: Reasons.available, message: '' });
  setLegacy(config, DATA_SECRET_AVAILABLE, true);
}

export function markWaiting(config: TalosConfig, message: string): void {
  set(config, { type: DATA_SECRET_AVAILABLE, status: 'False', reason: Reasons.notAvailable, message });
  setLegacy(config, DATA_SECRET_AVAILABLE, false, Reasons.waitingForClusterInfrastructure, 'Info', message);
}

/** Why a pass failed, as a condition reason. */
export type FailureReason =
  | typeof Reasons.invalidConfig
  | typeof Reasons.internalError
  | typeof Reasons.invalidSecretsBundle
  | typeof Reasons.secretConflict
  | typeof Reasons.ownerHasAnotherConfig;

export function markGenerationFailed(config: TalosConfig, message: string, reason: FailureReason): void {
  const full = `Data secret generation failed: ${message}`;
  set(config, { type: DATA_SECRET_AVAILABLE, status: 'False', reason, message: full });
  setLegacy(config, DATA_SECRET_AVAILABLE, false, Reasons.dataSecretGenerationFailed, 'Error', full);
}

export function markClientConfig(config: TalosConfig, error?: string, reason: FailureReason = Reasons.internalError): void {
  if (error === undefined) {
    set(config, { type: CLIENT_CONFIG_AVAILABLE, status: 'True', reason: Reasons.available, message: '' });
    setLegacy(config, CLIENT_CONFIG_AVAILABLE, true);
    return;
  }
  const message = `talosconfig generation failure: ${error}`;
  set(config, { type: CLIENT_CONFIG_AVAILABLE, status: 'False', reason, message });
  setLegacy(config, CLIENT_CONFIG_AVAILABLE, false, Reasons.clientConfigGenerationFailed, 'Error', message);
}

export function markPaused(config: TalosConfig, paused: boolean): void {
  set(config, paused
    ? { type: PAUSED, status: 'True', reason: Reasons.paused, message: 'Reconciliation is paused (Cluster spec.paused or the cluster.x-k8s.io/paused annotation)' }
    : { type: PAUSED, status: 'False', reason: Reasons.notPaused, message: '' });
}

/** Failures no retry cures: the spec, or a Secret or config beside it, must change first. */
const TERMINAL_REASONS: ReadonlySet<string> = new Set<FailureReason>([
  Reasons.invalidConfig, Reasons.invalidSecretsBundle, Reasons.secretConflict, Reasons.ownerHasAnotherConfig,
]);

/** The failure that stalls this config: a terminal one, recorded for the generation it has now. */
function stallingFailure(config: TalosConfig): Condition | undefined {
  return (config.status?.conditions as Condition[] | undefined)?.find((c) =>
    (c.type === DATA_SECRET_AVAILABLE || c.type === CLIENT_CONFIG_AVAILABLE) && c.status === 'False'
    && TERMINAL_REASONS.has(c.reason) && c.observedGeneration === config.metadata.generation);
}

/**
 * Stalled=True in both lists while a terminal failure stands, absent otherwise (abnormal-true).
 * Set over the one already there, so that its transition time holds from pass to pass.
 */
function setStalled(config: TalosConfig): void {
  const s = status(config);
  const legacy = s.deprecated?.v1beta1;
  const failure = stallingFailure(config);
  if (failure) {
    set(config, { type: STALLED, status: 'True', reason: failure.reason, message: failure.message ?? '' });
    if (legacy) legacy.conditions = setV1Beta1(legacy.conditions, { type: STALLED, status: 'True', reason: failure.reason, message: failure.message });
    return;
  }
  if (s.conditions?.some((c) => c.type === STALLED)) s.conditions = s.conditions.filter((c) => c.type !== STALLED);
  if (legacy?.conditions?.some((c) => c.type === STALLED)) legacy.conditions = legacy.conditions.filter((c) => c.type !== STALLED);
}

/**
 * The summary conditions of a pass: Ready summarises DataSecretAvailable (and ClientConfigAvailable
 * where this config reports it); Stalled says whether the failure behind it is for good.
 */
export function setReadySummary(config: TalosConfig): void {
  setStalled(config);
  const s = status(config);
  const conditions = s.conditions as Condition[] | undefined;
  const types = conditions?.some((c) => c.type === CLIENT_CONFIG_AVAILABLE) ? [DATA_SECRET_AVAILABLE, CLIENT_CONFIG_AVAILABLE] : [DATA_SECRET_AVAILABLE];
  const ready = summaryCondition(conditions, { type: READY, forConditionTypes: types });
  set(config, ready);
  const legacy = s.deprecated?.v1beta1?.conditions;
  if (legacy?.some((c) => c.type === DATA_SECRET_AVAILABLE)) {
    s.deprecated!.v1beta1!.conditions = setV1Beta1(legacy, summaryV1Beta1(legacy, [DATA_SECRET_AVAILABLE]));
    return;
  }
  // Nothing reported yet (no owner, no Cluster): Ready says so in the v1beta1 list too, or kstatus
  // would read a v1alpha3 view without conditions as Current.
  s.deprecated ??= {};
  s.deprecated.v1beta1 ??= {};
  s.deprecated.v1beta1.conditions = setV1Beta1(legacy, { type: READY, status: ready.status, reason: ready.reason, message: ready.message });
}
