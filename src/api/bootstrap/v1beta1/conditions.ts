// Condition types and reasons a TalosConfig reports. The metav1 reasons are
// Cluster API v1beta2's; the deprecated (v1beta1-contract) reasons are CABPT's.

/** Summary condition; CABPT never sets it (its summary call errors), we do. */
export const READY_CONDITION = 'Ready';
/** The bootstrap data Secret exists. */
export const DATA_SECRET_AVAILABLE_CONDITION = 'DataSecretAvailable';
/** The cluster's `<cluster>-talosconfig` Secret is up to date. */
export const CLIENT_CONFIG_AVAILABLE_CONDITION = 'ClientConfigAvailable';
/** Reconciliation is paused (Cluster `spec.paused` or the paused annotation). */
export const PAUSED_CONDITION = 'Paused';

export const REASON_AVAILABLE = 'Available';
export const REASON_NOT_AVAILABLE = 'NotAvailable';
export const REASON_INTERNAL_ERROR = 'InternalError';
export const REASON_READY = 'Ready';
export const REASON_NOT_READY = 'NotReady';
export const REASON_READY_UNKNOWN = 'ReadyUnknown';
export const REASON_PAUSED = 'Paused';
export const REASON_NOT_PAUSED = 'NotPaused';

/** Reasons of the deprecated v1beta1-style conditions. */
export const DEPRECATED_REASON_WAITING_FOR_CLUSTER_INFRASTRUCTURE = 'WaitingForClusterInfrastructure';
export const DEPRECATED_REASON_DATA_SECRET_GENERATION_FAILED = 'DataSecretGenerationFailed';
export const DEPRECATED_REASON_CLIENT_CONFIG_GENERATION_FAILED = 'ClientConfigGenerationFailed';

/** Finalizer CABPT used to add; only ever removed. */
export const LEGACY_FINALIZER = 'talosconfig.bootstrap.cluster.x-k8s.io';
