// The SimCluster reconciler: owner Cluster → a control-plane endpoint on a loopback address of
// its own (kept in spec) → provisioned, failure domains → and, as soon as etcd is bootstrapped on
// one of the cluster's simulated control-plane nodes, a workload cluster (kube-apiserver and
// friends) at that endpoint with the Kubernetes CA of that node's config and the objects of its
// bootstrap manifests (the kube-proxy DaemonSet). Etcd bootstrap happens
// on the node (a Talos API call), which Kubernetes does not see: while waiting, the SimCluster
// looks again every ETCD_POLL_MS.
import type { KubeClient } from '../../../src/kube/client/client';
import type { EventRecorder } from '../../../src/kube/patch/events';
import type { Informer } from '../../../src/kube/cache/informer';
import type { ObjectKey } from '../../../src/kube/meta/object';
import type { ReconcileContext, ReconcileResult, Reconciler } from '../../../src/kube/controller/reconciler';
import { CLUSTER_NAME_LABEL, type Cluster, type Machine } from '../../../src/api/capi/v1beta2/types';
import { INFRA_GROUP, SIM_CLUSTER_FINALIZER, SimClusterKind, SimMachineKind, type SimCluster, type SimMachine } from './api';
import { allocateEndpoint, hasEndpoint } from './endpoint';
import { kubernetesCaOf, type PemPair } from './machine-config';
import { bootstrapManifestsOf, type BootstrapManifest } from './bootstrap-manifests';
import { addFinalizer, capiOwnerName, mark, markPaused, reconcileWithPatch, removeFinalizer } from './reconcile-frame';
import type { SimNodes } from './sim-control';
import type { WorkloadClusters } from './workloads';

export const ETCD_POLL_MS = 500;
export const WORKLOAD_CONDITION = 'WorkloadApiserverAvailable';
const OWNED_CONDITIONS = ['Ready', 'Paused', WORKLOAD_CONDITION] as const;

export interface SimClusterDependencies {
  client: KubeClient;
  recorder: EventRecorder;
  sim: SimNodes;
  workloads: WorkloadClusters;
  readers: { simClusters: Informer<SimCluster>; simMachines: Informer<SimMachine>; machines: Informer<Machine>; clusters: Informer<Cluster> };
}

export class SimClusterReconciler implements Reconciler {
  /** Endpoints handed out by this process but maybe not yet in the cache: never given twice. */
  private readonly allocated = new Set<string>();
  private allocating: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: SimClusterDependencies) {}

  async reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const cached = this.deps.readers.simClusters.get(key.namespace, key.name);
    if (!cached) return;
    return reconcileWithPatch(this.deps.client, SimClusterKind, cached, ctx, OWNED_CONDITIONS, (c) => this.story(c, ctx));
  }

  private async story(simCluster: SimCluster, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const namespace = simCluster.metadata.namespace ?? '';
    const clusterName = capiOwnerName(simCluster, 'Cluster');
    if (simCluster.metadata.deletionTimestamp) {
      mark(simCluster, { type: 'Ready', status: 'False', reason: 'Deleting', message: 'stopping the workload cluster' });
      if (clusterName) await this.deps.workloads.stop(`${namespace}/${clusterName}`);
      removeFinalizer(simCluster, SIM_CLUSTER_FINALIZER);
      return;
    }
    const cluster = clusterName ? this.deps.readers.clusters.get(namespace, clusterName) : undefined;
    if (!cluster) {
      mark(simCluster, { type: 'Ready', status: 'False', reason: 'WaitingForClusterOwner', message: 'waiting for Cluster API to set the Cluster owner reference' });
      return;
    }
    if (markPaused(simCluster, cluster)) return;
    addFinalizer(simCluster, SIM_CLUSTER_FINALIZER);

    const spec = (simCluster.spec ??= {});
    const endpoint = hasEndpoint(spec.controlPlaneEndpoint) ? spec.controlPlaneEndpoint : await this.allocate();
    if (spec.controlPlaneEndpoint !== endpoint) {
      spec.controlPlaneEndpoint = endpoint;
      ctx.log.info({ endpoint }, 'control-plane endpoint allocated');
    }
    const status = (simCluster.status ??= {});
    status.initialization = { provisioned: true };
    if (spec.failureDomains?.length) status.failureDomains = spec.failureDomains;
    else delete status.failureDomains;
    mark(simCluster, { type: 'Ready', status: 'True', reason: 'Provisioned', message: '' });

    const clusterKey = `${namespace}/${clusterName}`;
    let workload = this.deps.workloads.get(clusterKey);
    if (!workload) {
      const bootstrapped = await this.bootstrappedControlPlane(cluster);
      if (!bootstrapped) {
        mark(simCluster, { type: WORKLOAD_CONDITION, status: 'False', reason: 'WaitingForEtcd', message: 'waiting for etcd to be bootstrapped on a control-plane node' });
        return { requeueAfter: ETCD_POLL_MS };
      }
      const started = Date.now();
      workload = await this.deps.workloads.start(clusterKey, this.deps.workloads.dirFor(namespace, simCluster.metadata.name!), endpoint, bootstrapped.ca, bootstrapped.manifests);
      ctx.log.info({ server: workload.server, ms: Date.now() - started }, 'workload cluster started');
      this.deps.recorder.event(simCluster, 'Normal', 'WorkloadApiserverStarted', `Workload apiserver serving at ${workload.server}`);
    }
    status.workloadServer = workload.server;
    mark(simCluster, { type: WORKLOAD_CONDITION, status: 'True', reason: 'Running', message: '' });
  }

  // One allocation at a time, against every endpoint the cache knows plus our own recent ones.
  private allocate(): Promise<{ host: string; port: number }> {
    const next = this.allocating.then(async () => {
      const taken = new Set(this.allocated);
      for (const c of this.deps.readers.simClusters.list()) if (c.spec?.controlPlaneEndpoint?.host) taken.add(c.spec.controlPlaneEndpoint.host);
      const endpoint = await allocateEndpoint(taken);
      this.allocated.add(endpoint.host);
      return endpoint;
    });
    this.allocating = next.catch(() => undefined);
    return next;
  }

  /** The Kubernetes CA and bootstrap manifests of the first control-plane node of this cluster whose etcd is bootstrapped. */
  private async bootstrappedControlPlane(cluster: Cluster): Promise<{ ca: PemPair; manifests: BootstrapManifest[] } | undefined> {
    const namespace = cluster.metadata.namespace ?? '';
    const machines = this.deps.readers.machines.list({ namespace, labels: { [CLUSTER_NAME_LABEL]: cluster.metadata.name! } });
    for (const machine of machines) {
      const ref = machine.spec.infrastructureRef;
      if (ref.apiGroup !== INFRA_GROUP || ref.kind !== SimMachineKind.kind) continue;
      const nodeId = this.deps.readers.simMachines.get(namespace, ref.name)?.status?.nodeId;
      if (!nodeId) continue;
      const node = await this.deps.sim.inspect(nodeId);
      if (!node?.etcd?.bootstrapped || !node.appliedConfig) continue;
      const ca = kubernetesCaOf(node.appliedConfig);
      if (ca) return { ca, manifests: bootstrapManifestsOf(node.appliedConfig) };
    }
    return undefined;
  }
}
