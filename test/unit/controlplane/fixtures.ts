// Frozen objects for the control-plane unit tests, shaped as the caches hold them.
import type { Cluster, Machine } from '../../../src/api/capi/v1beta2/types';
import type { TalosControlPlane } from '../../../src/api/controlplane/v1beta1/types';
import type { ConditionStatus } from '../../../src/kube/patch/conditions';
import { ControlPlane } from '../../../src/controlplane/control-plane';
import type { MachineParts } from '../../../src/controlplane/rollout';
import { IN_PLACE_UPGRADE_ANNOTATION, progressAnnotation, type InPlaceProgress } from '../../../src/controlplane/in-place-progress';
import type { NodeServices, ServiceState } from '../../../src/controlplane/service-watch';
import { deepFreeze } from '../../../src/util/json';

export interface TcpShape {
  replicas?: number;
  bootstrapped?: boolean;
  init?: boolean;
  initialized?: boolean;
  version?: string;
  maxSurge?: number;
  onDelete?: boolean;
  /** The InPlace rollout strategy (its v1alpha3 annotation). */
  inPlace?: boolean;
}

export function tcp(overrides: TcpShape = {}): TalosControlPlane {
  return deepFreeze({
    apiVersion: 'controlplane.cluster.x-k8s.io/v1beta1', kind: 'TalosControlPlane',
    metadata: { name: 'cp', namespace: 'ns', uid: 'tcp-uid', generation: 2 },
    spec: {
      version: overrides.version ?? '1.34.1', replicas: overrides.replicas ?? 3,
      ...(overrides.onDelete ? { rollout: { strategy: { type: 'OnDelete' } } } : {}),
      ...(overrides.inPlace ? { rollout: { strategy: { type: 'InPlace' } } } : {}),
      ...(overrides.maxSurge !== undefined ? { rollout: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: overrides.maxSurge } } } } : {}),
      machineTemplate: { spec: { infrastructureRef: { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: 'SimMachineTemplate', name: 'tmpl' } } },
      controlPlaneConfig: {
        ...(overrides.init ? { init: { generateType: 'init', talosVersion: 'v1.13' } } : {}),
        controlplane: { talosVersion: 'v1.13', configPatches: [{ op: 'add', path: '/machine/install/disk', value: '/dev/vda' }] },
      },
    },
    status: {
      ...(overrides.bootstrapped ? { bootstrapped: true } : {}),
      ...(overrides.initialized ? { initialization: { controlPlaneInitialized: true } } : {}),
    },
  }) as TalosControlPlane;
}

export const cluster: Cluster = deepFreeze({
  apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster', metadata: { name: 'c', namespace: 'ns', uid: 'cluster-uid' },
  spec: { controlPlaneEndpoint: { host: '127.0.100.1', port: 6443 } },
});

export interface MachineShape {
  created?: string;
  address?: string;
  node?: boolean;
  ready?: ConditionStatus;
  available?: ConditionStatus;
  version?: string;
  deleting?: boolean;
  annotations?: Record<string, string>;
  /** MachineHealthCheck marked it for its owner to remediate (HealthCheckSucceeded and OwnerRemediated False). */
  markedForRemediation?: boolean;
}

export function machine(name: string, shape: MachineShape = {}): Machine {
  const conditions = [
    ...(shape.ready ? [{ type: 'Ready', status: shape.ready, reason: 'R', lastTransitionTime: 't' }] : []),
    ...(shape.available ? [{ type: 'Available', status: shape.available, reason: 'R', lastTransitionTime: 't' }] : []),
    ...(shape.markedForRemediation ? [
      { type: 'HealthCheckSucceeded', status: 'False', reason: 'UnhealthyNode', lastTransitionTime: 't' },
      { type: 'OwnerRemediated', status: 'False', reason: 'WaitingForRemediation', lastTransitionTime: 't' },
    ] : []),
  ];
  return deepFreeze({
    apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Machine',
    metadata: {
      name, namespace: 'ns', creationTimestamp: shape.created ?? '2026-01-01T00:00:00Z',
      ...(shape.annotations ? { annotations: shape.annotations } : {}),
      ...(shape.deleting ? { deletionTimestamp: '2026-01-02T00:00:00Z' } : {}),
    },
    spec: { clusterName: 'c', bootstrap: {}, infrastructureRef: { apiGroup: 'infra', kind: 'SimMachine', name }, version: shape.version ?? 'v1.34.1' },
    status: {
      ...(shape.address ? { addresses: [{ type: 'Hostname', address: name }, { type: 'InternalIP', address: shape.address }] } : {}),
      ...(shape.node ? { nodeRef: { name } } : {}),
      conditions,
    },
  }) as Machine;
}

/** A view over a working copy of the TalosControlPlane (status writable, as in a reconcile). */
export function view(controlPlane: TalosControlPlane, machines: Machine[] = [], parts?: ReadonlyMap<string, MachineParts>): ControlPlane {
  return new ControlPlane(structuredClone(controlPlane), cluster, machines, parts);
}

/** A minute of the first hour of 2026, as a creation timestamp. */
export const at = (minute: number) => `2026-01-01T00:${String(minute).padStart(2, '0')}:00Z`;

const CONTROL_PLANE_SERVICES = ['apid', 'containerd', 'cri', 'etcd', 'kubelet', 'machined', 'trustd'];

/** What a healthy control-plane node's Events stream says, but for `overrides`. */
export const wellServices = (overrides: Record<string, Partial<ServiceState>> = {}): NodeServices => ({
  reachable: true,
  services: new Map(CONTROL_PLANE_SERVICES.map((id) => [id, { state: 'RUNNING', healthy: true, healthUnknown: false, message: '', ...overrides[id] }])),
});

/** The annotations of a Machine recording in-place progress. */
export const withProgress = (progress: InPlaceProgress) => ({ [IN_PLACE_UPGRADE_ANNOTATION]: progressAnnotation(progress) });
