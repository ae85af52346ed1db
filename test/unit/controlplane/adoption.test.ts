import type { Machine } from '../../../src/api/capi/v1beta2/types';
import { adoptableMachines, adoptionPatch, adoptionRefusal } from '../../../src/controlplane/adoption';
import { machine, tcp } from './fixtures';

/** A control-plane Machine bootstrapped by a TalosConfig, with the owner references given. */
function orphan(name: string, { version = 'v1.34.1', owners = [] as NonNullable<Machine['metadata']['ownerReferences']>, configKind = 'TalosConfig', deleting = false } = {}): Machine {
  const base = machine(name, { version, deleting });
  return {
    ...base,
    metadata: { ...base.metadata, resourceVersion: '7', ownerReferences: owners },
    spec: { ...base.spec, bootstrap: { configRef: { apiGroup: 'bootstrap.cluster.x-k8s.io', kind: configKind, name } } },
  };
}

const clusterRef = { apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster', name: 'c', uid: 'cluster-uid' };
const otherController = { apiVersion: 'controlplane.cluster.x-k8s.io/v1beta2', kind: 'KubeadmControlPlane', name: 'k', uid: 'kcp-uid', controller: true };

describe('adoption of orphaned control-plane Machines', () => {
  it('adopts Machines without a controller that a TalosConfig bootstraps; never one another controller owns, one being deleted, or one of another bootstrap provider', () => {
    const machines = [
      orphan('free'), orphan('cluster-owned', { owners: [clusterRef] }), orphan('kcp', { owners: [otherController] }),
      orphan('deleting', { deleting: true }), orphan('kubeadm', { configKind: 'KubeadmConfig' }),
    ];
    expect(adoptableMachines(machines).map((m) => m.metadata.name)).toEqual(['free', 'cluster-owned']);
  });

  it('refuses a Machine more than one minor version away, either way', () => {
    const cp = tcp({ version: 'v1.34.1' });
    expect(adoptionRefusal(cp, orphan('m', { version: 'v1.33.9' }))).toBeUndefined();
    expect(adoptionRefusal(cp, orphan('m', { version: 'v1.35.0' }))).toBeUndefined();
    expect(adoptionRefusal(cp, orphan('m', { version: 'v1.32.4' }))).toBe('Machine m is not adopted: its version v1.32.4 is more than one minor version away from the control plane\'s v1.34.1');
    expect(adoptionRefusal(cp, orphan('m', { version: 'v1.36.0' }))).toContain('more than one minor version away');
    expect(adoptionRefusal(cp, orphan('m', { version: 'v2.34.0' }))).toContain('more than one minor version away');
    expect(adoptionRefusal(cp, orphan('m', { version: 'latest' }))).toBe('Machine m is not adopted: its version latest cannot be compared with the control plane\'s v1.34.1');
  });

  it('makes the control plane the controller, keeping the other owner references, guarded by the resourceVersion', () => {
    expect(adoptionPatch(tcp(), orphan('m', { owners: [clusterRef] }))).toEqual({
      metadata: {
        resourceVersion: '7',
        ownerReferences: [clusterRef, { apiVersion: 'controlplane.cluster.x-k8s.io/v1beta1', kind: 'TalosControlPlane', name: 'cp', uid: 'tcp-uid', controller: true, blockOwnerDeletion: true }],
      },
    });
  });
});
