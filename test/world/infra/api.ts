// The simulated infrastructure provider's API (infrastructure.cluster.x-k8s.io/v1alpha1): a
// SimCluster gives a Cluster its control-plane endpoint (and, once etcd is up, a workload
// apiserver behind it); a SimMachine is one simulated Talos node booted from the Machine's
// bootstrap data. Field names follow the Cluster API v1beta2 infrastructure contract.
import type { ResourceKind } from '../../../src/kube/client/resource';
import type { Condition, ObjectMeta } from '../../../src/api/meta';
import type { APIEndpoint, MachineAddress } from '../../../src/api/capi/v1beta2/types';
import type { NodeState } from '../../support/talos-sim';

export const INFRA_GROUP = 'infrastructure.cluster.x-k8s.io';
export const INFRA_VERSION = 'v1alpha1';
export const INFRA_API_VERSION = `${INFRA_GROUP}/${INFRA_VERSION}`;

const kind = (name: string, plural: string): ResourceKind => ({ group: INFRA_GROUP, version: INFRA_VERSION, kind: name, plural, namespaced: true });

export const SimClusterKind = kind('SimCluster', 'simclusters');
export const SimMachineKind = kind('SimMachine', 'simmachines');
export const SimClusterTemplateKind = kind('SimClusterTemplate', 'simclustertemplates');
export const SimMachineTemplateKind = kind('SimMachineTemplate', 'simmachinetemplates');

/** Removed only after the SimMachine's simulated node is gone. */
export const SIM_MACHINE_FINALIZER = 'simmachine.infrastructure.cluster.x-k8s.io';
/** Removed only after the SimCluster's workload cluster processes are stopped. */
export const SIM_CLUSTER_FINALIZER = 'simcluster.infrastructure.cluster.x-k8s.io';

/** The runtime mode the simulator validates a node's config for. */
export const TALOS_MODES = ['metal', 'container', 'cloud'] as const;
export type TalosMode = (typeof TALOS_MODES)[number];

/** Cluster API v1beta2 FailureDomain. */
export interface FailureDomain {
  name: string;
  controlPlane?: boolean;
  attributes?: Record<string, string>;
}

export interface SimClusterSpec {
  /** Filled in by the controller when empty; kept once set. */
  controlPlaneEndpoint?: APIEndpoint;
  failureDomains?: FailureDomain[];
}

export interface SimClusterStatus {
  initialization?: { provisioned?: boolean };
  failureDomains?: FailureDomain[];
  /** URL of the workload cluster's apiserver once it runs. */
  workloadServer?: string;
  conditions?: Condition[];
  observedGeneration?: number;
}

export interface SimCluster {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: SimClusterSpec;
  status?: SimClusterStatus;
}

export interface SimMachineSpec {
  /** sim://<namespace>/<name>; set by the controller. */
  providerID?: string;
  failureDomain?: string;
  /** How long the node's boot sequence stays in progress. */
  bootDelayMs?: number;
  talosMode?: TalosMode;
}

export interface SimMachineStatus {
  initialization?: { provisioned?: boolean };
  addresses?: MachineAddress[];
  failureDomain?: string;
  /** The simulator's node ID. */
  nodeId?: string;
  nodeState?: NodeState;
  /** Talos's loader/validator message when the node rejected its config. */
  bootError?: string;
  conditions?: Condition[];
  observedGeneration?: number;
}

export interface SimMachine {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: SimMachineSpec;
  status?: SimMachineStatus;
}
