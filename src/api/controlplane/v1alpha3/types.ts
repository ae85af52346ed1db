// controlplane.cluster.x-k8s.io/v1alpha3: CACPPT's only API version, served and
// stored as is. The spec and the v1beta1-contract status fields keep CACPPT's
// shape (seed manifests and users' tooling read them); the status also carries
// what the Cluster API v1beta2 control-plane contract reads.
import type { Condition, ObjectMeta, V1Beta1Condition } from '../../meta';
import type { TalosConfigSpec } from '../../bootstrap/spec';
import { CONTROLPLANE_GROUP } from '../group';

export const VERSION = 'v1alpha3';
export const API_VERSION = `${CONTROLPLANE_GROUP}/${VERSION}`;

/** corev1.ObjectReference, as CACPPT names the infrastructure template. */
export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

/**
 * The TalosConfig spec of each control-plane Machine. Unlike a TalosConfig, `generateType` may be
 * left out (the seed manifests do): the Machine's role decides it.
 */
export type ControlPlaneTalosConfigSpec = Omit<TalosConfigSpec, 'generateType'> & { generateType?: string };

export interface ControlPlaneConfig {
  /** Deprecated in CACPPT since v0.4: the first Machine's config, used when set. */
  init?: ControlPlaneTalosConfigSpec;
  controlplane: ControlPlaneTalosConfigSpec;
}

export interface RollingUpdate {
  /** 0 or 1 (an int-or-string on the wire, as upstream): how many Machines above `replicas` a rollout may create. */
  maxSurge?: number | string;
  /** 0 or 1: how many Machines below `replicas` a rollout may leave. Not in CACPPT; seed manifests set it. */
  maxUnavailable?: number | string;
}

export interface RolloutStrategy {
  /** `RollingUpdate` or `OnDelete` (see ROLLOUT_STRATEGY_TYPES); typed as string for objects stored before validation. */
  type?: string;
  rollingUpdate?: RollingUpdate;
}

/** How MachineHealthCheck remediation of control-plane Machines is retried (KCP's `remediation`). */
export interface RemediationPolicy {
  /** How many times a Machine and its replacements are remediated in a row; unset: no limit. */
  maxRetry?: number;
  /** The least time between two remediations of one retry chain (default 0). */
  retryPeriodSeconds?: number;
  /** A remediation this long after the previous one starts a new retry chain (default 3600). */
  minHealthyPeriodSeconds?: number;
}

export interface TalosControlPlaneSpec {
  replicas?: number;
  /** Kubernetes version of the control-plane Machines (`v1.30.0`; the `v` may be left out). */
  version: string;
  infrastructureTemplate: ObjectReference;
  controlPlaneConfig: ControlPlaneConfig;
  rolloutStrategy?: RolloutStrategy;
  remediation?: RemediationPolicy;
}

/** One entry of `status.versions` (v1beta2 contract): how many Machines run a Kubernetes version. */
export interface StatusVersion {
  version: string;
  replicas?: number;
}

/** The last remediation of a control-plane Machine (`status.lastRemediation`, as KCP's). */
export interface LastRemediation {
  machine: string;
  /** When it started (RFC 3339). */
  time: string;
  /** How many remediations before it in the same retry chain. */
  retryCount: number;
}

export interface TalosControlPlaneStatus {
  /** Label selector of the control-plane Machines, in string form (scale subresource). */
  selector?: string;
  /** Control-plane Machines that exist. */
  replicas?: number;
  /** Lowest Kubernetes version among the Machines (deprecated by the v1beta2 contract in favour of `versions`). */
  version?: string;
  /** v1beta1 contract: Machines with the current spec (Cluster API's fallback for upToDateReplicas). */
  updatedReplicas?: number;
  readyReplicas?: number;
  /** v1beta1 contract: replicas - readyReplicas. */
  unavailableReplicas?: number;
  /** v1beta1 contract: the control plane answers; kept for users' tooling. */
  initialized?: boolean;
  ready?: boolean;
  /** etcd has been bootstrapped (the Talos Bootstrap call succeeded or etcd data was found). */
  bootstrapped?: boolean;
  failureReason?: string;
  failureMessage?: string;
  /** Cluster API v1beta1-style conditions (CACPPT's). */
  conditions?: V1Beta1Condition[];
  observedGeneration?: number;

  /** v1beta2 contract. */
  initialization?: { controlPlaneInitialized?: boolean };
  availableReplicas?: number;
  upToDateReplicas?: number;
  /** Oldest version first. */
  versions?: StatusVersion[];
  lastRemediation?: LastRemediation;
  /** v1beta2-contract conditions (Available, RollingOut, ScalingUp, ScalingDown, Paused, …), where Cluster API reads them first. */
  v1beta2?: { conditions?: Condition[] };
}

export interface TalosControlPlane {
  apiVersion: typeof API_VERSION;
  kind: 'TalosControlPlane';
  metadata: ObjectMeta;
  spec: TalosControlPlaneSpec;
  status?: TalosControlPlaneStatus;
}
