// Wires the SimCluster and SimMachine reconcilers into a manager. SimMachines hear about their
// Machine (owner reference, bootstrap data name) and Cluster (pause); SimClusters about their
// Cluster.
import type { Controller } from '../../../src/kube/controller/controller';
import type { EventRecorder } from '../../../src/kube/patch/events';
import type { Informer } from '../../../src/kube/cache/informer';
import type { Manager } from '../../../src/kube/manager/manager';
import type { KubeObject, ObjectKey } from '../../../src/kube/meta/object';
import { ClusterKind, MachineKind } from '../../../src/api/capi/v1beta2/resources';
import { CLUSTER_NAME_LABEL, type Cluster, type ContractVersionedObjectReference, type Machine } from '../../../src/api/capi/v1beta2/types';
import { INFRA_GROUP, SimClusterKind, SimMachineKind, type SimCluster, type SimMachine } from './api';
import { SimClusterReconciler } from './sim-cluster';
import type { SimNodes } from './sim-control';
import { SimMachineReconciler } from './sim-machine';
import type { Kubelets, WorkloadClusters } from './workloads';

export const SIM_CLUSTER_CONTROLLER = 'simcluster';
export const SIM_MACHINE_CONTROLLER = 'simmachine';

export interface SimInfraControllerOptions {
  sim: SimNodes;
  workloads: WorkloadClusters;
  kubelets: Kubelets;
  recorder?: EventRecorder;
  kubeletHeartbeatMs?: number;
}

/** The object of ours an infrastructureRef names, if it names one. */
export function refKeys(ref: ContractVersionedObjectReference | undefined, kind: string, namespace: string): ObjectKey[] {
  if (!ref || ref.apiGroup !== INFRA_GROUP || ref.kind !== kind || !ref.name) return [];
  return [{ namespace, name: ref.name }];
}

export function setupSimInfraControllers(manager: Manager, options: SimInfraControllerOptions): Controller[] {
  const informer = <T extends KubeObject>(kind: Parameters<Manager['informer']>[0]) => manager.informer(kind) as unknown as Informer<T>;
  const readers = {
    simClusters: informer<SimCluster>(SimClusterKind),
    simMachines: informer<SimMachine>(SimMachineKind),
    machines: informer<Machine>(MachineKind),
    clusters: informer<Cluster>(ClusterKind),
  };
  const recorder = options.recorder ?? manager.recorder();
  const namespaceOf = (obj: KubeObject) => obj.metadata.namespace ?? '';

  const simMachinesOfCluster = (cluster: Cluster): ObjectKey[] =>
    readers.machines
      .list({ namespace: namespaceOf(cluster), labels: { [CLUSTER_NAME_LABEL]: cluster.metadata.name ?? '' } })
      .flatMap((m) => refKeys(m.spec.infrastructureRef, SimMachineKind.kind, namespaceOf(m)));

  const clusterController = manager
    .controller(SIM_CLUSTER_CONTROLLER)
    .for(SimClusterKind)
    .watches<Cluster>(ClusterKind, (c) => refKeys(c.spec?.infrastructureRef, SimClusterKind.kind, namespaceOf(c)))
    .complete(new SimClusterReconciler({ client: manager.client, recorder, sim: options.sim, workloads: options.workloads, readers }));

  const machineController = manager
    .controller(SIM_MACHINE_CONTROLLER)
    .for(SimMachineKind)
    .watches<Machine>(MachineKind, (m) => refKeys(m.spec.infrastructureRef, SimMachineKind.kind, namespaceOf(m)))
    .watches<Cluster>(ClusterKind, simMachinesOfCluster)
    .complete(
      new SimMachineReconciler({
        client: manager.client, recorder, sim: options.sim, workloads: options.workloads, kubelets: options.kubelets, readers,
        kubeletHeartbeatMs: options.kubeletHeartbeatMs,
      }),
    );
  return [clusterController, machineController];
}
