// bootstrap.cluster.x-k8s.io/v1alpha3: the shape CABPT v0.6 stores and the
// seed manifests use; Cluster API v1beta1-contract status (`ready`,
// `dataSecretName`). Served, not stored: ../conversion.ts maps it to v1beta1.
import type { Condition, ObjectMeta, V1Beta1Condition } from '../../meta';
import { BOOTSTRAP_GROUP } from '../group';
import type { TalosConfigSpec } from '../spec';

export type { TalosConfigSpec } from '../spec';

export const VERSION = 'v1alpha3';
export const API_VERSION = `${BOOTSTRAP_GROUP}/${VERSION}`;

export interface TalosConfigStatus {
  /** The bootstrap data Secret exists (v1beta1 contract). */
  ready?: boolean;
  dataSecretName?: string;
  /** Deprecated in CABPT (the talosconfig lives in `<cluster>-talosconfig`); never written, kept for round trips. */
  talosConfig?: string;
  failureReason?: string;
  failureMessage?: string;
  observedGeneration?: number;
  /** Cluster API v1beta1-style conditions. */
  conditions?: V1Beta1Condition[];
  /** The metav1 conditions that v1beta1 keeps at `status.conditions`. */
  v1beta2Status?: { conditions?: Condition[] };
}

export interface TalosConfig {
  apiVersion: typeof API_VERSION;
  kind: 'TalosConfig';
  metadata: ObjectMeta;
  spec: TalosConfigSpec;
  status?: TalosConfigStatus;
}

export interface TalosConfigTemplate {
  apiVersion: typeof API_VERSION;
  kind: 'TalosConfigTemplate';
  metadata: ObjectMeta;
  spec: { template: { spec: TalosConfigSpec } };
}
