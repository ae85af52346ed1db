// `<cluster>-kubeconfig`, as the control-plane contract asks: type cluster.x-k8s.io/secret, the
// cluster-name label, key `value`, controlled by the TalosControlPlane. Its content is the admin
// kubeconfig a control-plane node issues through the Talos Kubeconfig RPC: the node holds the
// Kubernetes CA and the cluster endpoint of its own config, so what Cluster API gets is exactly
// what the node's apiserver trusts, and the operator never handles the Kubernetes CA key.
// Written once (create-if-absent); renewal is not done yet.
import type { KubeClient } from '../kube/client/client';
import { V1ALPHA3 } from '../api/controlplane/resources';
import { createIfAbsent } from '../cluster/create-if-absent';
import { clusterSecretNames, kubeconfigSecret } from '../cluster/secrets';
import type { ControlPlane } from './control-plane';

export async function ensureKubeconfig(
  client: KubeClient,
  view: ControlPlane,
  issue: () => Promise<string>,
  signal?: AbortSignal,
): Promise<{ created: boolean }> {
  const name = clusterSecretNames(view.clusterName).kubeconfig;
  const { created } = await createIfAbsent(
    client, view.namespace, name,
    async () => kubeconfigSecret(view.cluster, view.tcp, V1ALPHA3.talosControlPlane, await issue()),
    { signal },
  );
  return { created };
}
