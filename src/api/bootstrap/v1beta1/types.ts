// bootstrap.cluster.x-k8s.io/v1beta1: the storage version, speaking the
// Cluster API v1beta2 contract (status.initialization.dataSecretCreated,
// metav1 conditions; the v1beta1-contract conditions kept under deprecated).
import type { Condition, ObjectMeta, ObjectMetaTemplate, V1Beta1Condition } from '../../meta';
import { BOOTSTRAP_GROUP } from '../group';
import type { TalosConfigSpec } from '../spec';

export type { TalosConfigSpec } from '../spec';

export const VERSION = 'v1beta1';
export const API_VERSION = `${BOOTSTRAP_GROUP}/${VERSION}`;

export interface TalosConfigInitialization {
  /** Contract field: true once the Machine's bootstrap data Secret exists. */
  dataSecretCreated?: boolean;
}

export interface TalosConfigDeprecatedV1Beta1Status {
  conditions?: V1Beta1Condition[];
  failureReason?: string;
  failureMessage?: string;
}

export interface TalosConfigStatus {
  initialization?: TalosConfigInitialization;
  dataSecretName?: string;
  observedGeneration?: number;
  conditions?: Condition[];
  /**
   * Fields of the Cluster API v1beta1 contract, kept while v1beta1-contract readers exist.
   * (CABPT spells the key `v1beta`; Cluster API and we use `v1beta1`.)
   */
  deprecated?: { v1beta1?: TalosConfigDeprecatedV1Beta1Status };
}

export interface TalosConfig {
  apiVersion: typeof API_VERSION;
  kind: 'TalosConfig';
  metadata: ObjectMeta;
  spec: TalosConfigSpec;
  status?: TalosConfigStatus;
}

export interface TalosConfigTemplateResource {
  /** Labels and annotations copied by Cluster API onto each TalosConfig made from this template. */
  metadata?: ObjectMetaTemplate;
  spec: TalosConfigSpec;
}

export interface TalosConfigTemplate {
  apiVersion: typeof API_VERSION;
  kind: 'TalosConfigTemplate';
  metadata: ObjectMeta;
  spec: { template: TalosConfigTemplateResource };
}
