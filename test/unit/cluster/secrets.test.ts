import { clusterOwnedSecret, clusterSecretNames, fromBase64, kubeconfigSecret, ownedSecret } from '../../../src/cluster/secrets';
import type { Cluster } from '../../../src/api/capi/v1beta2/types';
import type { ResourceKind } from '../../../src/kube/client/resource';

const cluster = { apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster', metadata: { name: 'c', namespace: 'ns', uid: 'cu' }, spec: {} } as Cluster;
const ControlPlaneKind: ResourceKind = { group: 'controlplane.cluster.x-k8s.io', version: 'v1alpha3', kind: 'TalosControlPlane', plural: 'taloscontrolplanes', namespaced: true };

test('the cluster Secrets are named from the cluster', () => {
  expect(clusterSecretNames('c')).toEqual({ bundle: 'c-talos', kubernetesCA: 'c-ca', talosconfig: 'c-talosconfig', kubeconfig: 'c-kubeconfig' });
});

test('a cluster-owned Secret: label, Cluster as controller, values encoded, encoded values kept byte for byte', () => {
  const secret = clusterOwnedSecret(cluster, 'c-ca', { 'tls.crt': 'CRT' }, { 'tls.key': 'S0VZ' });
  expect(secret.metadata).toEqual({
    name: 'c-ca',
    namespace: 'ns',
    labels: { 'cluster.x-k8s.io/cluster-name': 'c' },
    ownerReferences: [{ apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster', name: 'c', uid: 'cu', controller: true, blockOwnerDeletion: true }],
  });
  expect(secret.type).toBe('Opaque');
  expect(fromBase64(secret.data!['tls.crt'])).toBe('CRT');
  expect(secret.data!['tls.key']).toBe('S0VZ');
});

test('the kubeconfig Secret as Cluster API reads it, controlled by the control plane', () => {
  const controlPlane = { metadata: { name: 'cp', namespace: 'ns', uid: 'cpu' } };
  const secret = kubeconfigSecret(cluster, controlPlane, ControlPlaneKind, 'apiVersion: v1\n');
  expect(secret.metadata.name).toBe('c-kubeconfig');
  expect(secret.type).toBe('cluster.x-k8s.io/secret');
  expect(secret.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'TalosControlPlane', name: 'cp', controller: true });
  expect(fromBase64(secret.data!.value)).toBe('apiVersion: v1\n');
});

test('an owner without a uid cannot own a Secret', () => {
  expect(() => ownedSecret({ name: 'x', clusterName: 'c', owner: { metadata: { name: 'o' } }, ownerKind: ControlPlaneKind })).toThrow('lacks name or uid');
});
