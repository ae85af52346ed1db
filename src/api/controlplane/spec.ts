// Reading a TalosControlPlane's spec with CACPPT's defaults applied. The CRD
// defaults replicas and the rollout strategy on write; these helpers apply the
// same defaults again (objects stored before the CRD had them, or built in
// code) and the two no schema can hold: the `v` prefix on the version and the
// template's namespace.
import { CLUSTER_NAME_LABEL, CONTROL_PLANE_LABEL } from '../capi/v1beta2/types';
import type { TalosConfigSpec } from '../bootstrap/spec';
import { DEFAULT_MAX_SURGE, DEFAULT_REPLICAS, IN_PLACE, ON_DELETE, ROLLING_UPDATE, ROLLOUT_STRATEGY_ANNOTATION, type RolloutStrategyType } from './group';
import type { ObjectReference, TalosControlPlane, TalosControlPlaneSpec } from './v1alpha3/types';

export function replicasOf(spec: TalosControlPlaneSpec): number {
  return spec.replicas ?? DEFAULT_REPLICAS;
}

/** OnDelete only when asked for; anything else (empty, or a value stored before validation) rolls. */
export function rolloutStrategyTypeOf(spec: TalosControlPlaneSpec): RolloutStrategyType {
  return spec.rolloutStrategy?.type === ON_DELETE ? ON_DELETE : ROLLING_UPDATE;
}

/**
 * Whether a Kubernetes version change is made on the running nodes (the annotation
 * `controlplane.cluster.x-k8s.io/rollout-strategy: InPlace` on v1alpha3); what cannot be changed
 * in place still rolls as the rollout strategy says.
 */
export function upgradesInPlace(tcp: Pick<TalosControlPlane, 'metadata'>): boolean {
  return tcp.metadata.annotations?.[ROLLOUT_STRATEGY_ANNOTATION] === IN_PLACE;
}

/** 0 or 1 from an int-or-string; undefined for anything else (the CRD refuses it, older objects may hold it). */
function zeroOrOne(value: number | string | undefined): 0 | 1 | undefined {
  const text = value === undefined ? undefined : String(value).trim();
  return text === '0' ? 0 : text === '1' ? 1 : undefined;
}

/** How many Machines above `replicas` a rolling update may create: 0 or 1, default 1. */
export function maxSurgeOf(spec: TalosControlPlaneSpec): 0 | 1 {
  return zeroOrOne(spec.rolloutStrategy?.rollingUpdate?.maxSurge) ?? DEFAULT_MAX_SURGE;
}

/**
 * How many Machines below `replicas` a rolling update may leave: 0 or 1. Unset, it is what the
 * surge implies: a surge of 1 needs no gap, a surge of 0 must remove first.
 */
export function maxUnavailableOf(spec: TalosControlPlaneSpec): 0 | 1 {
  return zeroOrOne(spec.rolloutStrategy?.rollingUpdate?.maxUnavailable) ?? (maxSurgeOf(spec) === 1 ? 0 : 1);
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

/** The infrastructure template, its namespace defaulting to the TalosControlPlane's. */
export function infrastructureTemplateOf(tcp: Pick<TalosControlPlane, 'metadata' | 'spec'>): ObjectReference {
  const ref = tcp.spec.infrastructureTemplate;
  return { ...ref, namespace: ref.namespace || tcp.metadata.namespace };
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
