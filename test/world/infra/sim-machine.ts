// The SimMachine reconciler: owner Machine → its bootstrap data Secret → one simulated Talos node
// (stable ID, booted once) → status from the node's state → a kubelet while the node runs and
// the workload apiserver is up. Node states change outside Kubernetes (faults, stop/start
// through the simulator's control API), and nothing tells us: a booted SimMachine is looked at
// again every RESYNC_MS, which is cheap (one local HTTP GET) and bounds how long a stopped node's
// kubelet keeps heartbeating.
import type { KubeClient } from '../../../src/kube/client/client';
import type { EventRecorder } from '../../../src/kube/patch/events';
import type { Informer } from '../../../src/kube/cache/informer';
import type { ObjectKey } from '../../../src/kube/meta/object';
import type { ReconcileContext, ReconcileResult, Reconciler } from '../../../src/kube/controller/reconciler';
import { SecretKind } from '../../../src/kube/client/resource';
import { isNotFound } from '../../../src/kube/client/api-error';
import type { Cluster, Machine } from '../../../src/api/capi/v1beta2/types';
import type { SimNode } from '../../support/talos-sim';
import { SIM_MACHINE_FINALIZER, SimMachineKind, type SimMachine } from './api';
import { isControlPlaneConfig, kubeletVersionOf } from './machine-config';
import { addressesOf, BOOT_FAILED_REASON, kubeletPlan, nodeIdFor, observeNode, providerIdFor } from './machine-status';
import { addFinalizer, capiOwnerName, mark, markPaused, reconcileWithPatch, removeFinalizer } from './reconcile-frame';
import type { SimNodes } from './sim-control';
import type { Kubelets, WorkloadClusters } from './workloads';

/** How often a booted SimMachine looks at its node again. */
export const RESYNC_MS = 1500;
/** How often a SimMachine waiting for its bootstrap data Secret looks again (Secrets are not watched). */
const SECRET_RETRY_MS = 1000;
const OWNED_CONDITIONS = ['Ready', 'Paused'] as const;

export interface SimMachineDependencies {
  client: KubeClient;
  recorder: EventRecorder;
  sim: SimNodes;
  workloads: WorkloadClusters;
  kubelets: Kubelets;
  readers: { simMachines: Informer<SimMachine>; machines: Informer<Machine>; clusters: Informer<Cluster> };
  kubeletHeartbeatMs?: number;
}

interface SecretObject {
  metadata: { name?: string };
  data?: Record<string, string>;
}

const machineKey = (m: SimMachine) => `${m.metadata.namespace}/${m.metadata.name}`;

export class SimMachineReconciler implements Reconciler {
  constructor(private readonly deps: SimMachineDependencies) {}

  async reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const cached = this.deps.readers.simMachines.get(key.namespace, key.name);
    if (!cached) {
      this.deps.kubelets.stop(`${key.namespace}/${key.name}`);
      return;
    }
    return reconcileWithPatch(this.deps.client, SimMachineKind, cached, ctx, OWNED_CONDITIONS, (m) => this.story(m, ctx));
  }

  private async story(simMachine: SimMachine, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const { namespace = '', name = '' } = simMachine.metadata;
    if (simMachine.metadata.deletionTimestamp) return this.delete(simMachine, ctx);

    const ownerName = capiOwnerName(simMachine, 'Machine');
    const machine = ownerName ? this.deps.readers.machines.get(namespace, ownerName) : undefined;
    if (!machine) {
      mark(simMachine, { type: 'Ready', status: 'False', reason: 'WaitingForMachineOwner', message: 'waiting for Cluster API to set the Machine owner reference' });
      return;
    }
    const cluster = this.deps.readers.clusters.get(namespace, machine.spec.clusterName);
    if (markPaused(simMachine, cluster)) return;
    addFinalizer(simMachine, SIM_MACHINE_FINALIZER);

    const status = (simMachine.status ??= {});
    const nodeId = status.nodeId ?? nodeIdFor(namespace, name);
    let node = await this.deps.sim.inspect(nodeId);
    if (!node && !status.initialization?.provisioned) {
      const booted = await this.boot(simMachine, machine, nodeId, ctx);
      if (!booted) return { requeueAfter: SECRET_RETRY_MS };
      node = booted;
    }

    const previousState = status.nodeState;
    const observed = observeNode(node, status.initialization?.provisioned === true);
    status.initialization = { provisioned: observed.provisioned };
    status.nodeState = observed.nodeState;
    status.bootError = observed.bootError;
    if (observed.addresses) status.addresses = observed.addresses;
    const failureDomain = machine.spec.failureDomain ?? simMachine.spec?.failureDomain;
    if (failureDomain) status.failureDomain = failureDomain;
    if (node) simMachine.spec = { ...simMachine.spec, providerID: providerIdFor(namespace, name) };
    mark(simMachine, { type: 'Ready', ...observed.ready });
    if (observed.ready.reason === BOOT_FAILED_REASON && previousState !== 'failed') {
      this.deps.recorder.event(simMachine, 'Warning', BOOT_FAILED_REASON, observed.ready.message ?? '');
    }

    await this.reconcileKubelet(simMachine, machine, node, ctx);
    return { requeueAfter: RESYNC_MS };
  }

  /** Boots the node from the bootstrap data; undefined while there is none to boot from. */
  private async boot(simMachine: SimMachine, machine: Machine, nodeId: string, ctx: ReconcileContext): Promise<SimNode | undefined> {
    const secretName = machine.spec.bootstrap.dataSecretName;
    if (!secretName) {
      mark(simMachine, { type: 'Ready', status: 'False', reason: 'WaitingForBootstrapData', message: 'waiting for the Machine\'s bootstrap data Secret' });
      return undefined;
    }
    const config = await this.bootstrapData(machine.metadata.namespace ?? '', secretName, ctx.signal);
    if (config === undefined) {
      mark(simMachine, { type: 'Ready', status: 'False', reason: 'WaitingForBootstrapData', message: `bootstrap data Secret ${secretName} has no value yet` });
      return undefined;
    }
    const node = await this.deps.sim.boot(config, {
      id: nodeId,
      hostname: machine.metadata.name,
      mode: simMachine.spec?.talosMode ?? 'metal',
      bootDelayMs: simMachine.spec?.bootDelayMs,
    });
    simMachine.status!.nodeId = node.id;
    ctx.log.info({ node: node.id, address: node.address, state: node.state }, 'simulated node booted');
    if (node.state !== 'failed') this.deps.recorder.event(simMachine, 'Normal', 'NodeCreated', `Booted simulated Talos node ${node.id} at ${node.address}`);
    return node;
  }

  private async bootstrapData(namespace: string, secretName: string, signal: AbortSignal): Promise<string | undefined> {
    try {
      const secret = await this.deps.client.get<SecretObject & { metadata: object }>(SecretKind, namespace, secretName, signal);
      const value = secret.data?.value;
      return value ? Buffer.from(value, 'base64').toString('utf8') : undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private async reconcileKubelet(simMachine: SimMachine, machine: Machine, node: SimNode | undefined, ctx: ReconcileContext): Promise<void> {
    const key = machineKey(simMachine);
    const workload = this.deps.workloads.get(`${machine.metadata.namespace}/${machine.spec.clusterName}`);
    const plan = kubeletPlan(node?.state === 'running', workload?.server, this.deps.kubelets.serverOf(key));
    if (plan === 'stop') {
      this.deps.kubelets.stop(key);
      ctx.log.info({ node: node?.id, state: node?.state }, 'kubelet stopped');
    }
    // A live ApplyConfiguration may change the kubelet image: the running kubelet follows it.
    if (plan === 'keep' && node) {
      await this.deps.kubelets.setKubeletVersion(key, kubeletVersionOf(node.appliedConfig ?? ''));
      await this.deps.kubelets.setStaticPods(key, node.staticPods ?? []);
    }
    if (plan !== 'start' || !node || !workload) return;
    const config = node.appliedConfig ?? '';
    await this.deps.kubelets.start(key, {
      server: workload.server,
      kubernetesCa: workload.kubernetesCa,
      nodeName: node.hostname ?? machine.metadata.name!,
      providerID: providerIdFor(simMachine.metadata.namespace!, simMachine.metadata.name!),
      addresses: addressesOf(node),
      kubeletVersion: kubeletVersionOf(config),
      controlPlane: isControlPlaneConfig(config),
      heartbeatIntervalMs: this.deps.kubeletHeartbeatMs,
    });
    await this.deps.kubelets.setStaticPods(key, node.staticPods ?? []);
    ctx.log.info({ node: node.id, server: workload.server }, 'kubelet started');
  }

  private async delete(simMachine: SimMachine, ctx: ReconcileContext): Promise<void> {
    // seen only while the node cannot be destroyed (e.g. the simulator is unreachable)
    mark(simMachine, { type: 'Ready', status: 'False', reason: 'Deleting', message: 'destroying the simulated node' });
    this.deps.kubelets.stop(machineKey(simMachine));
    const nodeId = simMachine.status?.nodeId ?? nodeIdFor(simMachine.metadata.namespace!, simMachine.metadata.name!);
    await this.deps.sim.destroy(nodeId);
    ctx.log.info({ node: nodeId }, 'simulated node destroyed');
    removeFinalizer(simMachine, SIM_MACHINE_FINALIZER);
  }
}
