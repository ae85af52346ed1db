// What Talos's bootstrap manifests put into a new workload cluster, as far as the world needs it:
// the kube-proxy DaemonSet (kube-system/kube-proxy, container kube-proxy) with the image the
// bootstrapped node's machine config names, unless kube-proxy is disabled there. Talos applies them
// once, when the cluster is bootstrapped, and never updates them; so are they here: created if
// absent (a restarted provider finds them there), never changed. Only the object: no DaemonSet
// controller runs, so no pods.
import { isAlreadyExists } from '../../../src/kube/client/api-error';
import type { KubeClient } from '../../../src/kube/client/client';
import type { ResourceKind } from '../../../src/kube/client/resource';
import type { KubeObject } from '../../../src/kube/meta/object';
import { kubeProxyImageOf } from './machine-config';

const DaemonSetKind: ResourceKind = { group: 'apps', version: 'v1', kind: 'DaemonSet', plural: 'daemonsets', namespaced: true };

export interface BootstrapManifest {
  kind: ResourceKind;
  object: KubeObject;
}

function kubeProxyDaemonSet(image: string): KubeObject {
  const labels = { 'k8s-app': 'kube-proxy', tier: 'node' };
  return {
    apiVersion: 'apps/v1', kind: 'DaemonSet',
    metadata: { name: 'kube-proxy', namespace: 'kube-system', labels },
    spec: {
      selector: { matchLabels: { 'k8s-app': 'kube-proxy' } },
      template: {
        metadata: { labels },
        spec: {
          hostNetwork: true,
          priorityClassName: 'system-node-critical',
          tolerations: [{ operator: 'Exists' }],
          containers: [{ name: 'kube-proxy', image }],
        },
      },
    },
  } as KubeObject;
}

/** The objects the bootstrap manifests of the bootstrapped node's config create. */
export function bootstrapManifestsOf(configYaml: string): BootstrapManifest[] {
  const image = kubeProxyImageOf(configYaml);
  return image === undefined ? [] : [{ kind: DaemonSetKind, object: kubeProxyDaemonSet(image) }];
}

/** Creates each object that does not exist yet; one that does is left as it is. */
export async function applyBootstrapManifests(workload: KubeClient, manifests: readonly BootstrapManifest[]): Promise<void> {
  for (const { kind, object } of manifests) {
    try {
      await workload.create(kind, object);
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
  }
}
