// The slice of Cluster API core v1beta2 (cluster.x-k8s.io/v1beta2) that our
// providers read and write. Field names follow the Cluster API v1.12 CRDs;
// everything else on these objects is left untyped on purpose.
import type { Condition, ObjectMeta, ObjectMetaTemplate } from '../../meta';

export const GROUP = 'cluster.x-k8s.io';
export const VERSION = 'v1beta2';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** v1beta2 references carry the API group, not a version: the CRD's contract label picks the version. */
export interface ContractVersionedObjectReference {
  apiGroup: string;
  kind: string;
  name: string;
}

export interface APIEndpoint {
  host?: string;
  port?: number;
}

export interface NetworkRanges {
  cidrBlocks: string[];
}

export interface ClusterNetwork {
  apiServerPort?: number;
  pods?: NetworkRanges;
  services?: NetworkRanges;
  serviceDomain?: string;
}

export interface ClusterSpec {
  paused?: boolean;
  clusterNetwork?: ClusterNetwork;
  controlPlaneEndpoint?: APIEndpoint;
  controlPlaneRef?: ContractVersionedObjectReference;
  infrastructureRef?: ContractVersionedObjectReference;
}

/** A failure domain the infrastructure offers (v1beta2: a list, no longer a map). */
export interface FailureDomain {
  name: string;
  controlPlane?: boolean;
  attributes?: Record<string, string>;
}

export interface ClusterStatus {
  initialization?: { infrastructureProvisioned?: boolean; controlPlaneInitialized?: boolean };
  failureDomains?: FailureDomain[];
  conditions?: Condition[];
  observedGeneration?: number;
  phase?: string;
}

export interface Cluster {
  apiVersion: typeof API_VERSION;
  kind: 'Cluster';
  metadata: ObjectMeta;
  spec?: ClusterSpec;
  status?: ClusterStatus;
}

export interface Bootstrap {
  configRef?: ContractVersionedObjectReference;
  dataSecretName?: string;
}

/** How long Cluster API waits for each stage of deleting a Machine's Node. */
export interface MachineDeletion {
  nodeDrainTimeoutSeconds?: number;
  nodeVolumeDetachTimeoutSeconds?: number;
  nodeDeletionTimeoutSeconds?: number;
}

export interface MachineSpec {
  clusterName: string;
  bootstrap: Bootstrap;
  infrastructureRef: ContractVersionedObjectReference;
  version?: string;
  providerID?: string;
  failureDomain?: string;
  deletion?: MachineDeletion;
  readinessGates?: { conditionType: string; polarity?: 'Positive' | 'Negative' }[];
}

export const MACHINE_ADDRESS_TYPES = ['Hostname', 'ExternalIP', 'InternalIP', 'ExternalDNS', 'InternalDNS'] as const;
export type MachineAddressType = (typeof MACHINE_ADDRESS_TYPES)[number];

export interface MachineAddress {
  type: MachineAddressType;
  address: string;
}

export interface MachineStatus {
  initialization?: { bootstrapDataSecretCreated?: boolean; infrastructureProvisioned?: boolean };
  addresses?: MachineAddress[];
  nodeRef?: { name: string };
  phase?: string;
  conditions?: Condition[];
  observedGeneration?: number;
}

export interface Machine {
  apiVersion: typeof API_VERSION;
  kind: 'Machine';
  metadata: ObjectMeta;
  spec: MachineSpec;
  status?: MachineStatus;
}

export interface MachinePoolSpec {
  clusterName: string;
  replicas?: number;
  template: { metadata?: ObjectMetaTemplate; spec: MachineSpec };
  failureDomains?: string[];
}

export interface MachinePoolStatus {
  initialization?: { bootstrapDataSecretCreated?: boolean; infrastructureProvisioned?: boolean };
  replicas?: number;
  readyReplicas?: number;
  phase?: string;
  conditions?: Condition[];
  observedGeneration?: number;
}

export interface MachinePool {
  apiVersion: typeof API_VERSION;
  kind: 'MachinePool';
  metadata: ObjectMeta;
  spec: MachinePoolSpec;
  status?: MachinePoolStatus;
}

/** The label Cluster API puts on objects that belong to a cluster. */
export const CLUSTER_NAME_LABEL = 'cluster.x-k8s.io/cluster-name';
/** Machine label marking control-plane Machines. */
export const CONTROL_PLANE_LABEL = 'cluster.x-k8s.io/control-plane';
/** Annotation Cluster API sets on objects it sends in a topology (ClusterClass) server-side-apply dry-run. */
export const TOPOLOGY_DRY_RUN_ANNOTATION = 'topology.cluster.x-k8s.io/dry-run';
