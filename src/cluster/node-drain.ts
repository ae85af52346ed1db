// Cordon, drain and uncordon a workload cluster's Node, as a node is readied for a reboot: the
// Node marked unschedulable, then every pod on it that a reboot would stop and something else
// would run again evicted through the Eviction API (which honours PodDisruptionBudgets) — not
// DaemonSet pods (their controller puts them straight back) nor mirror pods (the node's own
// static pods), nor pods already finished or on their way out. A budget that refuses an eviction
// is no failure: the drain says which pod waits and is tried again.
import { isApiErrorCode, isNotFound } from '../kube/client/api-error';
import type { KubeClient } from '../kube/client/client';
import { NodeKind, resourcePath, type ResourceKind } from '../kube/client/resource';
import type { KubeObject } from '../kube/meta/object';

export const PodKind: ResourceKind = { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true };

/** The annotation the kubelet puts on the API's copy of a static pod. */
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

export interface WorkloadPod extends KubeObject {
  status?: { phase?: string };
}

/** The pods a drain evicts, of those bound to the Node. */
export function podsToEvict(pods: readonly WorkloadPod[]): WorkloadPod[] {
  return pods.filter((pod) => !pod.metadata.deletionTimestamp &&
    !(MIRROR_POD_ANNOTATION in (pod.metadata.annotations ?? {})) &&
    !(pod.metadata.ownerReferences ?? []).some((owner) => owner.kind === 'DaemonSet' && owner.controller === true) &&
    pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed');
}

// `workload` is a client of the workload cluster (its kubeconfig's admin identity), not of the
// management cluster: the operator's RBAC has nothing to grant for these calls.

export async function setUnschedulable(workload: KubeClient, nodeName: string, unschedulable: boolean, signal?: AbortSignal): Promise<void> {
  await workload.patch(NodeKind, '', nodeName, { spec: { unschedulable: unschedulable || null } }, 'merge', { signal });
}

/** Cordons the Node and evicts its pods; undefined once every pod is evicted, else which one a budget holds back. */
export async function drainNode(workload: KubeClient, nodeName: string, signal?: AbortSignal): Promise<string | undefined> {
  await setUnschedulable(workload, nodeName, true, signal);
  const { items } = await workload.list<WorkloadPod>(PodKind, { fieldSelector: `spec.nodeName=${nodeName}`, signal });
  for (const pod of podsToEvict(items)) {
    const { namespace = '', name = '' } = pod.metadata;
    try {
      await workload.request('POST', resourcePath(PodKind, namespace, name, 'eviction'), {
        body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } }, signal,
      });
    } catch (error) {
      if (isNotFound(error)) continue;
      if (isApiErrorCode(error, 429)) return `pod ${namespace}/${name} to be evicted (a PodDisruptionBudget refuses it for now)`;
      throw error;
    }
  }
  return undefined;
}
