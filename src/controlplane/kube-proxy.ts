// kube-proxy follows the control plane's Kubernetes version, as `talosctl upgrade-k8s` has it: Talos
// deploys the kube-proxy DaemonSet (kube-system/kube-proxy, container kube-proxy) from its bootstrap
// manifests once and never updates it, so once every control-plane Machine runs the spec's version
// — the rollout is over, in place or by replacement — the container's image is moved to that
// version (same repository, new tag). The version last brought to (or found without a DaemonSet)
// is remembered on the TalosControlPlane, so the DaemonSet is read once per version, not on every
// pass. No DaemonSet, or none with a kube-proxy container (kube-proxy disabled, or run by the CNI
// or the user): left alone. Pure; kube-proxy-sync.ts does the I/O.
import type { ResourceKind } from '../kube/client/resource';
import type { KubeObject } from '../kube/meta/object';
import { kubernetesVersionOf } from '../api/controlplane/spec';
import { retagImage } from '../talos/config/kubernetes-images';
import type { ControlPlane } from './control-plane';

/** On the TalosControlPlane: the Kubernetes version the workload's kube-proxy was last brought to. */
export const KUBE_PROXY_VERSION_ANNOTATION = 'controlplane.cluster.x-k8s.io/kube-proxy-version';

/** Where Talos's bootstrap manifests put kube-proxy. */
export const KUBE_PROXY = { namespace: 'kube-system', name: 'kube-proxy', container: 'kube-proxy' } as const;

export const DaemonSetKind: ResourceKind = { group: 'apps', version: 'v1', kind: 'DaemonSet', plural: 'daemonsets', namespaced: true };

export interface DaemonSet extends KubeObject {
  spec?: { template?: { spec?: { containers?: { name: string; image?: string }[] } } };
}

/** A JSON Patch operation (RFC 6902), the kinds used here. */
export interface JsonPatchOperation {
  op: 'test' | 'replace';
  path: string;
  value: unknown;
}

/** Every control-plane Machine is at `version` (a deleting one too) and every Node of a running one reports that kubelet. */
function kubernetesRolledOut(view: ControlPlane, version: string): boolean {
  if (!view.etcdBootstrapped || view.activeMachines.size === 0) return false;
  const atVersion = (reasons: readonly { kind: string }[]) => !reasons.some((reason) => reason.kind === 'version');
  return [...view.machines].every((m) => atVersion(view.outdatedBecause(m))) && [...view.activeMachines].every((m) => view.kubeletVersion(m) === version);
}

/** The version kube-proxy is to be brought to in this pass; undefined while the rollout is under way or once it was. */
export function kubeProxyVersionDue(view: ControlPlane): string | undefined {
  const version = kubernetesVersionOf(view.tcp.spec);
  if (view.tcp.metadata.annotations?.[KUBE_PROXY_VERSION_ANNOTATION] === version) return undefined;
  return kubernetesRolledOut(view, version) ? version : undefined;
}

/** What the DaemonSet read from the workload cluster (undefined: there is none) needs for `version`. */
export type KubeProxyChange =
  | { action: 'leave'; why: string }
  | { action: 'none' }
  | { action: 'retag'; from: string; to: string; patch: JsonPatchOperation[] };

export function kubeProxyChange(daemonSet: DaemonSet | undefined, version: string): KubeProxyChange {
  const where = `DaemonSet ${KUBE_PROXY.namespace}/${KUBE_PROXY.name}`;
  if (!daemonSet) return { action: 'leave', why: `the workload cluster has no ${where} (kube-proxy disabled, or run by the CNI or the user)` };
  const containers = daemonSet.spec?.template?.spec?.containers ?? [];
  const index = containers.findIndex((c) => c.name === KUBE_PROXY.container);
  const from = containers[index]?.image;
  if (index < 0 || !from) return { action: 'leave', why: `${where} has no ${KUBE_PROXY.container} container with an image (not Talos's: it is someone else's to upgrade)` };
  const to = retagImage(from, version);
  if (to === from) return { action: 'none' };
  const path = `/spec/template/spec/containers/${index}`;
  // The tests make the patch fail, rather than write the wrong container, if the DaemonSet changed since it was read.
  return {
    action: 'retag', from, to,
    patch: [
      { op: 'test', path: `${path}/name`, value: KUBE_PROXY.container },
      { op: 'test', path: `${path}/image`, value: from },
      { op: 'replace', path: `${path}/image`, value: to },
    ],
  };
}
