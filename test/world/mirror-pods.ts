// The API's copies of a simulated node's static pods, as a kubelet posts them: one mirror pod per
// control-plane static pod (`<pod>-<node>` in kube-system, labelled k8s-app and tier as Talos
// renders them, annotated with the config version Talos rendered it at), bound to the Node and
// owned by it, then its status (Running, Ready as the node says, the Node's address as host IP).
// A pod whose image or config version changed is deleted and created again, as a kubelet does
// when a static pod's manifest changes. Pure: what to post, and whether it changed.
import type { StaticPodView } from '../support/talos-sim';

/** What the kubelet last posted for a pod: a change to any of these is posted again. */
export const postedKey = (pod: StaticPodView): string => `${pod.image}|${pod.configVersion}|${pod.ready}`;
/** A change to these means a new pod (deleted and created), not a status update. */
export const specKey = (pod: StaticPodView): string => `${pod.image}|${pod.configVersion}`;

export const mirrorPodName = (pod: StaticPodView, nodeName: string): string => `${pod.name}-${nodeName}`;

export function mirrorPodObject(pod: StaticPodView, node: { name: string; uid: string }) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: mirrorPodName(pod, node.name),
      namespace: 'kube-system',
      labels: { 'k8s-app': pod.name, tier: 'control-plane' },
      annotations: {
        'kubernetes.io/config.mirror': `${pod.name}@${pod.configVersion}`,
        'kubernetes.io/config.source': 'file',
        'talos.dev/config-version': String(pod.configVersion),
      },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid, controller: true }],
    },
    spec: { nodeName: node.name, containers: [{ name: pod.name, image: pod.image }], hostNetwork: true },
  };
}

export function mirrorPodStatus(pod: StaticPodView, hostIP: string | undefined, now: string) {
  const ready = pod.ready ? 'True' : 'False';
  return {
    phase: 'Running',
    ...(hostIP ? { hostIP, podIP: hostIP } : {}),
    conditions: [
      { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
      { type: 'Initialized', status: 'True', lastTransitionTime: now },
      { type: 'ContainersReady', status: ready, lastTransitionTime: now },
      { type: 'Ready', status: ready, lastTransitionTime: now, ...(pod.ready ? {} : { reason: 'ContainersNotReady', message: pod.message ?? '' }) },
    ],
  };
}
