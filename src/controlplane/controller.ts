// Wires the TalosControlPlane reconciler into the manager: TalosControlPlane is the primary; the
// Machines it controls map back to it, and so does an orphaned control-plane Machine (no
// controller: one to adopt) through its Cluster; a Cluster maps to the control plane it references
// when something the control plane waits for changes (pause, endpoint, infrastructure).
import type { Controller } from '../kube/controller/controller';
import type { Informer } from '../kube/cache/informer';
import type { Manager } from '../kube/manager/manager';
import type { KubeObject, ObjectKey } from '../kube/meta/object';
import type { Predicate } from '../kube/controller/predicates';
import { ClusterKind, MachineKind } from '../api/capi/v1beta2/resources';
import { CLUSTER_NAME_LABEL, CONTROL_PLANE_LABEL, type Cluster, type Machine } from '../api/capi/v1beta2/types';
import { CONTROLPLANE_GROUP, TALOS_CONTROL_PLANE_KIND } from '../api/controlplane/group';
import { V1BETA1 } from '../api/controlplane/resources';
import type { TalosControlPlane } from '../api/controlplane/v1beta1/types';
import { V1BETA1 as BOOTSTRAP_V1BETA1 } from '../api/bootstrap/resources';
import type { TalosConfig } from '../api/bootstrap/v1beta1/types';
import type { Unstructured } from '../kube/client/unstructured';
import { TalosControlPlaneReconciler } from './reconciler';

/** How long a pass waits for a new infrastructure kind's cache before it goes on without it. */
const INFRA_SYNC_TIMEOUT_MS = 30_000;

export const CONTROL_PLANE_CONTROLLER = 'taloscontrolplane';

/** The TalosControlPlane a Cluster's controlPlaneRef names, if it names one. */
export function controlPlaneKeyOf(cluster: Cluster): ObjectKey[] {
  const ref = cluster.spec?.controlPlaneRef;
  if (!ref || ref.apiGroup !== CONTROLPLANE_GROUP || ref.kind !== TALOS_CONTROL_PLANE_KIND || !ref.name) return [];
  return [{ namespace: cluster.metadata.namespace ?? '', name: ref.name }];
}

/** The control plane an orphaned control-plane Machine may be adopted by: its Cluster's (none for a Machine with a controller). */
export function orphanControlPlaneKeys(clusters: Pick<Informer<Cluster>, 'get'>): (machine: Machine) => ObjectKey[] {
  return (machine) => {
    const labels = machine.metadata.labels ?? {};
    const clusterName = labels[CLUSTER_NAME_LABEL];
    if (!clusterName || !(CONTROL_PLANE_LABEL in labels) || (machine.metadata.ownerReferences ?? []).some((ref) => ref.controller === true)) return [];
    const cluster = clusters.get(machine.metadata.namespace ?? '', clusterName);
    return cluster ? controlPlaneKeyOf(cluster) : [];
  };
}

const endpointOf = (cluster: Cluster) => `${cluster.spec?.controlPlaneEndpoint?.host ?? ''}:${cluster.spec?.controlPlaneEndpoint?.port ?? 0}`;

/** Cluster updates a control plane waits for; creates and deletes always pass. */
export function clusterChangesForControlPlane(): Predicate<Cluster> {
  return {
    update: (oldCluster, cluster) =>
      (oldCluster.spec?.paused ?? false) !== (cluster.spec?.paused ?? false) ||
      endpointOf(oldCluster) !== endpointOf(cluster) ||
      (oldCluster.status?.initialization?.infrastructureProvisioned ?? false) !== (cluster.status?.initialization?.infrastructureProvisioned ?? false),
  };
}

export function setupControlPlaneController(manager: Manager): Controller {
  const informer = <T extends KubeObject>(kind: Parameters<Manager['informer']>[0]) => manager.informer(kind) as unknown as Informer<T>;
  const controlPlanes = informer<TalosControlPlane>(V1BETA1.talosControlPlane);
  const clusters = informer<Cluster>(ClusterKind);
  // The reconciler asks for passes through the controller built from it.
  const late: { controller?: Controller } = {};
  const reconciler = new TalosControlPlaneReconciler({
    enqueue: (key) => late.controller?.enqueue(key),
    client: manager.client,
    unstructured: manager.unstructured,
    recorder: manager.recorder(),
    readers: {
      controlPlanes,
      clusters,
      machines: informer<Machine>(MachineKind),
      talosConfigs: informer<TalosConfig>(BOOTSTRAP_V1BETA1.talosConfig),
      infraMachines: async (group, kind, signal) => {
        const infra = (await manager.informerFor({ group, kind }, signal)) as unknown as Informer<Unstructured>;
        await infra.waitForSync(INFRA_SYNC_TIMEOUT_MS, signal);
        return infra;
      },
    },
  });
  controlPlanes.addHandlers({ delete: (tcp) => reconciler.forget(tcp) });
  void manager.done.then(() => reconciler.close());
  late.controller = manager
    .controller(CONTROL_PLANE_CONTROLLER)
    .for(V1BETA1.talosControlPlane)
    .owns<Machine>(MachineKind)
    .watches<Machine>(MachineKind, orphanControlPlaneKeys(clusters))
    .watches<Cluster>(ClusterKind, controlPlaneKeyOf, { predicates: [clusterChangesForControlPlane()] })
    .complete(reconciler);
  return late.controller;
}
