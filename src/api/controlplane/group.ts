// The control-plane API group and the values its spec accepts, shared by the
// types, the CRD schema and the spec helpers so they cannot drift.

export const CONTROLPLANE_GROUP = 'controlplane.cluster.x-k8s.io';

export const TALOS_CONTROL_PLANE_KIND = 'TalosControlPlane';
export const TALOS_CONTROL_PLANE_TEMPLATE_KIND = 'TalosControlPlaneTemplate';

/** Set on every TalosControlPlane so its Machines are cleaned up before it goes (CACPPT's name). */
export const TALOS_CONTROL_PLANE_FINALIZER = 'talos.controlplane.cluster.x-k8s.io';

export const ROLLING_UPDATE = 'RollingUpdate';
export const ON_DELETE = 'OnDelete';
/**
 * Kubernetes version changes go onto the running nodes through the Talos API instead of new
 * Machines. v1alpha3 has no enum value for it: it is asked for with ROLLOUT_STRATEGY_ANNOTATION.
 */
export const IN_PLACE = 'InPlace';
/** RollingUpdate replaces outdated Machines by itself; OnDelete only when the user deletes one. */
export const V1ALPHA3_ROLLOUT_STRATEGY_TYPES = [ROLLING_UPDATE, ON_DELETE] as const;
/** v1beta1 adds InPlace: upgrades through the Talos API where the change allows it (v1alpha3: an annotation). */
export const ROLLOUT_STRATEGY_TYPES = [ROLLING_UPDATE, ON_DELETE, IN_PLACE] as const;
export type RolloutStrategyType = (typeof ROLLOUT_STRATEGY_TYPES)[number];
/** On a v1alpha3 TalosControlPlane, `InPlace` asks for in-place upgrades (v1beta1: spec.rollout.strategy.type). */
export const ROLLOUT_STRATEGY_ANNOTATION = `${CONTROLPLANE_GROUP}/rollout-strategy`;

/** A failed step of a node's in-place upgrade stops the rollout until the fault clears (the default). */
export const IN_PLACE_STOP = 'Stop';
/** A failed step of a node's in-place upgrade has its Machine replaced instead. */
export const IN_PLACE_REPLACE = 'Replace';
/** v1beta1 spec.rollout.strategy.inPlace.onFailure (v1alpha3: IN_PLACE_ON_FAILURE_ANNOTATION). */
export const IN_PLACE_ON_FAILURE_VALUES = [IN_PLACE_STOP, IN_PLACE_REPLACE] as const;
/** On a v1alpha3 TalosControlPlane, `Stop` or `Replace`: what a failed in-place step does (v1beta1: spec.rollout.strategy.inPlace.onFailure). */
export const IN_PLACE_ON_FAILURE_ANNOTATION = `${CONTROLPLANE_GROUP}/in-place-on-failure`;

export const DEFAULT_REPLICAS = 1;
export const DEFAULT_MAX_SURGE = 1;
