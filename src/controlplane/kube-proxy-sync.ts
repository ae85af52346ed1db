// Brings the workload cluster's kube-proxy DaemonSet to the control plane's Kubernetes version once
// the rollout is over (kube-proxy.ts decides when and what): read it through the workload client,
// retag its kube-proxy container's image (a `KubeProxyUpgraded` Event naming old → new), or, when
// there is none to upgrade, leave it and say so in a `KubeProxyNotManaged` Event — once per version,
// since the version is then recorded on the TalosControlPlane (the pass's patch writes it).
import type { KubeClient } from '../kube/client/client';
import { isNotFound } from '../kube/client/api-error';
import type { ReconcileContext } from '../kube/controller/reconciler';
import type { EventRecorder } from '../kube/patch/events';
import type { ControlPlane } from './control-plane';
import { DaemonSetKind, KUBE_PROXY, KUBE_PROXY_VERSION_ANNOTATION, kubeProxyChange, kubeProxyVersionDue, type DaemonSet } from './kube-proxy';

/** Nothing is done before the workload cluster is followed (`workload` undefined): the kubeconfig written. */
export async function syncKubeProxy(view: ControlPlane, workload: KubeClient | undefined, recorder: EventRecorder, ctx: ReconcileContext): Promise<void> {
  const version = kubeProxyVersionDue(view);
  if (!version || !workload) return;
  const { namespace, name } = KUBE_PROXY;
  const daemonSet = await workload.get<DaemonSet>(DaemonSetKind, namespace, name, ctx.signal).catch((error: unknown) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
  const change = kubeProxyChange(daemonSet, version);
  if (change.action === 'retag') {
    await workload.patch(DaemonSetKind, namespace, name, change.patch, 'json', { signal: ctx.signal });
    recorder.event(view.tcp, 'Normal', 'KubeProxyUpgraded', `Set the image of DaemonSet ${namespace}/${name} in the workload cluster: ${change.from} → ${change.to} (every control-plane Machine runs Kubernetes ${version})`);
    ctx.log.info({ from: change.from, to: change.to }, 'kube-proxy upgraded');
  } else if (change.action === 'leave') {
    recorder.event(view.tcp, 'Normal', 'KubeProxyNotManaged', `Left kube-proxy alone at Kubernetes ${version}: ${change.why}`);
    ctx.log.info({ version, why: change.why }, 'kube-proxy left alone');
  }
  view.tcp.metadata.annotations = { ...(view.tcp.metadata.annotations ?? {}), [KUBE_PROXY_VERSION_ANNOTATION]: version };
}
