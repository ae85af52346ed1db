// controlplane.cluster.x-k8s.io/v1beta1: the storage version (the hub), in the shape of Cluster
// API's KubeadmControlPlane v1beta2 and of CACPPT's proposed v1beta1 (upstream PR #251): the
// Machines' template under `machineTemplate`, the rollout, remediation and naming settings, and a
// status that speaks the v1beta2 control-plane contract at its own place (metav1 conditions in
// `status.conditions`, the v1beta1-contract fields under `deprecated.v1beta1`). v1alpha3 is
// served too and converted losslessly (./conversion.ts).
import type { Condition, ObjectMeta, ObjectMetaTemplate, V1Beta1Condition } from '../../meta';
import type { ContractVersionedObjectReference, MachineDeletion, MachineSpec } from '../../capi/v1beta2/types';
import type { ControlPlaneConfig, RolloutStrategy as V1alpha3RolloutStrategy, StatusVersion } from '../v1alpha3/types';
import { CONTROLPLANE_GROUP } from '../group';

/** The rollingUpdate keeps v1alpha3's shape. */
export type { ControlPlaneConfig, RollingUpdate, StatusVersion } from '../v1alpha3/types';
/** A reference by API group (the version is the one the group's contract label names), as Cluster API v1beta2. */
export type { ContractVersionedObjectReference } from '../../capi/v1beta2/types';

export const VERSION = 'v1beta1';
export const API_VERSION = `${CONTROLPLANE_GROUP}/${VERSION}`;

export interface MachineTemplateSpec {
  /** The infrastructure machine template cloned for each control-plane Machine (same namespace). */
  infrastructureRef: ContractVersionedObjectReference;
  /** Copied onto each Machine, existing ones included (no rollout). */
  deletion?: MachineDeletion;
  /** Copied onto each new Machine. */
  readinessGates?: MachineSpec['readinessGates'];
}

export interface TalosControlPlaneMachineTemplate {
  /** Labels and annotations of every control-plane Machine (kept in sync in place, without a rollout). */
  metadata?: ObjectMetaTemplate;
  spec: MachineTemplateSpec;
}

export interface InPlaceStrategy {
  /** `Stop` (default: the rollout waits until the step succeeds) or `Replace` (the Machine is replaced); see IN_PLACE_ON_FAILURE_VALUES. */
  onFailure?: string;
}

/** v1alpha3's strategy with the type InPlace (ROLLOUT_STRATEGY_TYPES) and its parameters. */
export interface RolloutStrategy extends V1alpha3RolloutStrategy {
  /** In-place upgrade parameters, used when type is InPlace. */
  inPlace?: InPlaceStrategy;
}

export interface Rollout {
  /** Machines created before this time are rolled out (RFC 3339). */
  after?: string;
  strategy?: RolloutStrategy;
}

export interface Remediation {
  /** How many times a Machine and its replacements are remediated; unset means no limit. */
  maxRetry?: number;
  /** The least time between the remediation of a Machine and that of its replacement (default 0). */
  retryPeriodSeconds?: number;
  /** How long a replacement must stay healthy for its remediation chain to start over (default 3600). */
  minHealthyPeriodSeconds?: number;
}

export interface MachineNaming {
  /** Go-template-like name of new Machines; must contain `{{ .random }}` (e.g. `{{ .cluster.name }}-cp-{{ .random }}`). */
  template?: string;
}

export interface TalosControlPlaneSpec {
  replicas?: number;
  /** Kubernetes version of the control-plane Machines (`v1.30.0`; the `v` may be left out). */
  version: string;
  machineTemplate: TalosControlPlaneMachineTemplate;
  controlPlaneConfig: ControlPlaneConfig;
  rollout?: Rollout;
  remediation?: Remediation;
  machineNaming?: MachineNaming;
}

/** The last remediation this control plane made (KCP's status.lastRemediation). */
export interface LastRemediation {
  machine: string;
  /** RFC 3339. */
  time: string;
  retryCount: number;
}

export interface DeprecatedV1Beta1Status {
  conditions?: V1Beta1Condition[];
  updatedReplicas?: number;
  unavailableReplicas?: number;
  failureReason?: string;
  failureMessage?: string;
}

export interface TalosControlPlaneStatus {
  /** v1beta2-contract conditions: Available, Initialized, RollingOut, ScalingUp, ScalingDown, Paused, … */
  conditions?: Condition[];
  initialization?: { controlPlaneInitialized?: boolean };
  /** Label selector of the control-plane Machines, in string form (scale subresource). */
  selector?: string;
  replicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  upToDateReplicas?: number;
  /** Lowest Kubernetes version among the Machines (deprecated by the contract in favour of `versions`). */
  version?: string;
  /** Oldest version first. */
  versions?: StatusVersion[];
  observedGeneration?: number;
  lastRemediation?: LastRemediation;
  /** etcd has been bootstrapped (the Talos Bootstrap call succeeded or etcd data was found). */
  bootstrapped?: boolean;
  deprecated?: { v1beta1?: DeprecatedV1Beta1Status };
}

export interface TalosControlPlane {
  apiVersion: typeof API_VERSION;
  kind: 'TalosControlPlane';
  metadata: ObjectMeta;
  spec: TalosControlPlaneSpec;
  status?: TalosControlPlaneStatus;
}
