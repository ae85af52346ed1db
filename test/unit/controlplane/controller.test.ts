import type { Cluster, Machine } from '../../../src/api/capi/v1beta2/types';
import { orphanControlPlaneKeys } from '../../../src/controlplane/controller';

const cluster = {
  apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster', metadata: { name: 'c', namespace: 'ns' },
  spec: { controlPlaneRef: { apiGroup: 'controlplane.cluster.x-k8s.io', kind: 'TalosControlPlane', name: 'c-cp' } },
} as Cluster;
const clusters = { get: (namespace: string, name: string) => (namespace === 'ns' && name === 'c' ? cluster : undefined) };

function controlPlaneMachine(ownerReferences: NonNullable<Machine['metadata']['ownerReferences']>, labels: Record<string, string> = { 'cluster.x-k8s.io/cluster-name': 'c', 'cluster.x-k8s.io/control-plane': '' }): Machine {
  return { apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Machine', metadata: { name: 'm', namespace: 'ns', labels, ownerReferences }, spec: { clusterName: 'c', bootstrap: {}, infrastructureRef: { apiGroup: 'i', kind: 'K', name: 'm' } } } as Machine;
}

describe('orphanControlPlaneKeys', () => {
  const map = orphanControlPlaneKeys(clusters);

  it('an orphaned control-plane Machine maps to its Cluster\'s control plane (to be adopted)', () => {
    expect(map(controlPlaneMachine([]))).toEqual([{ namespace: 'ns', name: 'c-cp' }]);
    expect(map(controlPlaneMachine([{ apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster', name: 'c', uid: 'u' }]))).toEqual([{ namespace: 'ns', name: 'c-cp' }]);
  });

  it('a Machine with a controller, a worker, or one of an unknown Cluster maps to nothing', () => {
    expect(map(controlPlaneMachine([{ apiVersion: 'controlplane.cluster.x-k8s.io/v1beta2', kind: 'KubeadmControlPlane', name: 'k', uid: 'u', controller: true }]))).toEqual([]);
    expect(map(controlPlaneMachine([], { 'cluster.x-k8s.io/cluster-name': 'c' }))).toEqual([]);
    expect(map(controlPlaneMachine([], { 'cluster.x-k8s.io/cluster-name': 'other', 'cluster.x-k8s.io/control-plane': '' }))).toEqual([]);
  });
});
