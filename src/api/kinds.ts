// REST coordinates of every kind the providers read or write, in one place so
// that informers, clients and RBAC speak of the same versions.
import type { ResourceKind } from '../kube/resource';

const capi = (kind: string, plural: string): ResourceKind => ({ group: 'cluster.x-k8s.io', version: 'v1beta2', kind, plural, namespaced: true });

export const ClusterKind = capi('Cluster', 'clusters');
export const MachineKind = capi('Machine', 'machines');
export const MachinePoolKind = capi('MachinePool', 'machinepools');

/** The bootstrap provider's storage (hub) version. */
export const TalosConfigKind: ResourceKind = {
  group: 'bootstrap.cluster.x-k8s.io', version: 'v1beta1', kind: 'TalosConfig', plural: 'talosconfigs', namespaced: true,
};
export const TalosConfigTemplateKind: ResourceKind = {
  group: 'bootstrap.cluster.x-k8s.io', version: 'v1beta1', kind: 'TalosConfigTemplate', plural: 'talosconfigtemplates', namespaced: true,
};

export { SecretKind } from '../kube/resource';
