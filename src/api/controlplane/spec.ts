// Reading a TalosControlPlane's spec (the v1beta1 hub) with CACPPT's and KCP's defaults applied.
// The CRD defaults replicas and the rollout strategy on write; these helpers apply the same
// defaults again (objects stored before the CRD had them, or built in code) and the one no schema
// can hold: the `v` prefix on the version.
import { CLUSTER_NAME_LABEL, CONTROL_PLANE_LABEL } from '../capi/v1beta2/types';
import type { TalosConfigSpec } from '../bootstrap/spec';
import { DEFAULT_MAX_SURGE, DEFAULT_REPLICAS, IN_PLACE, IN_PLACE_REPLACE, ON_DELETE, ROLLING_UPDATE, type RolloutStrategyType } from './group';
import type { ContractVersionedObjectReference, Remediation, TalosControlPlane, TalosControlPlaneSpec } from './v1beta1/types';

/** KCP's default: a remediation an hour after the previous one starts a new retry chain. */
export const DEFAULT_MIN_HEALTHY_PERIOD_SECONDS = 3600;

export function replicasOf(spec: TalosControlPlaneSpec): number {
  return spec.replicas ?? DEFAULT_REPLICAS;
}

/** OnDelete or InPlace only when asked for; anything else (empty, or a value stored before validation) rolls. */
export function rolloutStrategyTypeOf(spec: TalosControlPlaneSpec): RolloutStrategyType {
  const type = spec.rollout?.strategy?.type;
  return type === ON_DELETE || type === IN_PLACE ? type : ROLLING_UPDATE;
}

/**
 * Whether a Kubernetes version change is made on the running nodes (`rollout.strategy.type:
 * InPlace`; the annotation ROLLOUT_STRATEGY_ANNOTATION on v1alpha3); what cannot be changed in
 * place is replaced one Machine at a time, as RollingUpdate.
 */
export function upgradesInPlace(tcp: Pick<TalosControlPlane, 'spec'>): boolean {
  return rolloutStrategyTypeOf(tcp.spec) === IN_PLACE;
}

/**
 * Whether a Machine whose in-place upgrade failed at a step is replaced instead
 * (`rollout.strategy.inPlace.onFailure: Replace`, under InPlace); anything else (unset, Stop, a value
 * stored before validation) stops the rollout at the failed step until it succeeds.
 */
export function replacesAfterInPlaceFailure(tcp: Pick<TalosControlPlane, 'spec'>): boolean {
  return upgradesInPlace(tcp) && tcp.spec.rollout?.strategy?.inPlace?.onFailure === IN_PLACE_REPLACE;
}

/** 0 or 1 from an int-or-string; undefined for anything else (the CRD refuses it, older objects may hold it). */
function zeroOrOne(value: number | string | undefined): 0 | 1 | undefined {
  const text = value === undefined ? undefined : String(value).trim();
  return text === '0' ? 0 : text === '1' ? 1 : undefined;
}

/** How many Machines above `replicas` a rolling update may create: 0 or 1, default 1. */
export function maxSurgeOf(spec: TalosControlPlaneSpec): 0 | 1 {
  return zeroOrOne(spec.rollout?.strategy?.rollingUpdate?.maxSurge) ?? DEFAULT_MAX_SURGE;
}

/**
 * How many Machines below `replicas` a rolling update may leave: 0 or 1. Unset, it is what the
 * surge implies: a surge of 1 needs no gap, a surge of 0 must remove first.
 */
export function maxUnavailableOf(spec: TalosControlPlaneSpec): 0 | 1 {
  return zeroOrOne(spec.rollout?.strategy?.rollingUpdate?.maxUnavailable) ?? (maxSurgeOf(spec) === 1 ? 0 : 1);
}

/**
 * Whether a rolling update step creates the replacement before it removes an outdated Machine:
 * whenever it may surge, and whenever no Machine may be unavailable. (Surge 0 with unavailable 0
 * cannot proceed as written; the CRD refuses it, and an object stored before that rule creates first.)
 */
export function createsBeforeRemoving(spec: TalosControlPlaneSpec): boolean {
  return maxSurgeOf(spec) === 1 || maxUnavailableOf(spec) === 0;
}

/** The Kubernetes version Machines get: CACPPT's webhook adds the `v` Cluster API requires. */
export function kubernetesVersionOf(spec: TalosControlPlaneSpec): string {
  return spec.version.startsWith('v') ? spec.version : `v${spec.version}`;
}

/** The infrastructure machine template (in the TalosControlPlane's namespace). */
export function infrastructureRefOf(tcp: Pick<TalosControlPlane, 'spec'>): ContractVersionedObjectReference {
  return tcp.spec.machineTemplate.spec.infrastructureRef;
}

/**
 * The TalosConfig spec of a new control-plane Machine: the deprecated `init` config for the first
 * Machine when one is given (as CACPPT), else `controlplane`. generateType, which the seeds leave
 * out, is the role's.
 */
export function talosConfigSpecForMachine(spec: TalosControlPlaneSpec, firstMachine: boolean): TalosConfigSpec {
  const { init, controlplane } = spec.controlPlaneConfig;
  const useInit = firstMachine && init !== undefined && Object.keys(init).length > 0;
  const chosen = useInit ? init : controlplane;
  return { ...structuredClone(chosen), generateType: chosen.generateType || (useInit ? 'init' : 'controlplane') };
}

/** `status.selector`: the Cluster's control-plane Machines, in the string form CACPPT writes. */
export function controlPlaneSelector(clusterName: string): string {
  return `${CLUSTER_NAME_LABEL}=${clusterName},${CONTROL_PLANE_LABEL}=`;
}

/** `spec.remediation` with its defaults: maxRetry unset means no limit. */
export type EffectiveRemediation = Required<Omit<Remediation, 'maxRetry'>> & Pick<Remediation, 'maxRetry'>;

export function remediationPolicyOf(spec: TalosControlPlaneSpec): EffectiveRemediation {
  const policy = spec.remediation ?? {};
  return {
    ...(policy.maxRetry !== undefined ? { maxRetry: policy.maxRetry } : {}),
    retryPeriodSeconds: policy.retryPeriodSeconds ?? 0,
    minHealthyPeriodSeconds: policy.minHealthyPeriodSeconds ?? DEFAULT_MIN_HEALTHY_PERIOD_SECONDS,
  };
}
