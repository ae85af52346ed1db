// The TalosControlPlane reconciler: fetch → owner Cluster → patch helper → pause (as KCP, before
// deletion too: only Paused is written) → (always) status + conditions + one patch → deletion (the
// Machines' pre-terminate hooks released), or the story: finalizer, certificates, endpoint,
// adoption of orphaned Machines, the pre-terminate hook on each Machine (a deleting one's etcd
// member removed after its drain), orphan etcd members, remediation of a
// Machine MachineHealthCheck marked, else the next step (create a Machine, bootstrap etcd, remove
// one, wait), kubeconfig, the workload's kube-proxy once a Kubernetes version is rolled out. A
// failure ends in the conditions' messages and a Warning Event, then retries with backoff.
import type { Informer } from '../kube/cache/informer';
import type { KubeClient } from '../kube/client/client';
import type { EventRecorder } from '../kube/patch/events';
import type { ObjectKey } from '../kube/meta/object';
import { reconcileInFrame } from '../kube/controller/reconcile-frame';
import { isNotFound } from '../kube/client/api-error';
import { PAUSED_ANNOTATION } from '../kube/controller/predicates';
import type { ReconcileContext, ReconcileResult, Reconciler } from '../kube/controller/reconciler';
import type { Unstructured, UnstructuredClient } from '../kube/client/unstructured';
import { deepCopy } from '../util/json';
import { errorMessage } from '../util/errors';
import { ClusterKind, MachineKind } from '../api/capi/v1beta2/resources';
import { CLUSTER_NAME_LABEL, CONTROL_PLANE_LABEL, type Cluster, type Machine } from '../api/capi/v1beta2/types';
import { V1BETA1 as BOOTSTRAP_V1BETA1 } from '../api/bootstrap/resources';
import { V1BETA1 } from '../api/controlplane/resources';
import { TALOS_CONTROL_PLANE_FINALIZER } from '../api/controlplane/group';
import { infrastructureRefOf } from '../api/controlplane/spec';
import type { TalosControlPlane } from '../api/controlplane/v1beta1/types';
import type { TalosConfig } from '../api/bootstrap/v1beta1/types';
import { refersToKind } from '../kube/meta/owners';
import { isDeleting, Machines, not, OWNER_REMEDIATED_CONDITION, ownedBy } from '../cluster/machines';
import { clusterSecretNames } from '../cluster/secrets';
import { InvalidSecretsBundle } from '../cluster/bundle-secret';
import { TALOS_ADMIN, TALOS_READER, TalosAccess, type TalosRole } from '../cluster/talos-access';
import { type ConnectWorkload, WorkloadNodes } from '../cluster/workload-nodes';
import type { IssuedCertificate } from '../talos/config/secrets/certificates';
import { memberIdHex, TalosClient, unwrapSingle, type EtcdMember, type TalosEvent } from '../talos/api';
import { ControlPlane, hasNode } from './control-plane';
import { bootstrapEtcdOnce, etcdServiceHealthy } from './etcd';
import { Expectations } from './expectations';
import { reconcileKubeconfig } from './kubeconfig';
import { createMachineObjects } from './create-machine';
import { machineName, machineObjects, type RandomIndex } from './machine-objects';
import { joiningMachines, nextStep, type ChangeReason, type NextStep } from './scale';
import { rolloutAfterOf, type MachineParts } from './rollout';
import { forfeitIfRunning, removeControlPlaneMachine, type TalosAt } from './scale-down';
import { patchMachineConditions, removeMachineCondition, says, syncMachineConditions } from './machine-conditions';
import { machinePatch, metadataPatch } from './machine-template';
import {
  etcdRemovalBlock, isMarkedForRemediation, planRemediation, recoveredFromRemediation, REMEDIATION_FOR_ANNOTATION,
  REMEDIATION_IN_PROGRESS_ANNOTATION, remediationInProgress, type RemediationData, type RemediationPlan,
} from './remediation';
import { removeEtcdMember } from './etcd-member-removal';
import { hasCleanupHook, hookPatch, machinesWithoutHook, preTerminateStep } from './pre-terminate';
import { orphanMembers, orphanRemovalBlock } from './orphan-members';
import { adoptableMachines, adoptionPatch, adoptionRefusal } from './adoption';
import { upgradeInPlace } from './in-place-runner';
import { syncKubeProxy } from './kube-proxy-sync';
import { countEtcdOperation, countRolloutStep } from '../metrics/provider-metrics';
import { etcdWell, ServiceWatch, type OpenEvents } from './service-watch';
import { checkCertificates, MissingSecretsBundle, readSecretsBundle, type CertificatesCheck } from './certificates';
import { markDeleting, markPaused, OWNED_CONDITIONS, updateStatus, type StatusFacts } from './status';

/** Talos API calls made while reconciling are short: a node that does not answer is tried again later. */
const TALOS_CALL_TIMEOUT_MS = 10_000;
/** How soon a join is looked at again: nothing in Kubernetes says when a node's etcd member is up. */
const JOIN_POLL_MS = 1_000;
/** The longest requeue for a renewal far ahead (a timer of days is no use to anyone). */
const MAX_RENEWAL_WAIT_MS = 24 * 60 * 60 * 1000;

/** The earlier of a pass's requeue and a renewal due at `at`. */
function sooner(result: ReconcileResult | void, at: number | undefined): ReconcileResult | void {
  if (at === undefined) return result;
  const wait = Math.min(MAX_RENEWAL_WAIT_MS, Math.max(1_000, at - Date.now()));
  return result?.requeueAfter !== undefined && result.requeueAfter <= wait ? result : { ...(result ?? {}), requeueAfter: wait };
}

/** How soon a deletion waiting for worker Machines (whose events do not reach this controller) looks again. */
const DELETION_POLL_MS = 5_000;

/** How long a secrets bundle found whole is taken as still whole before it is read again. */
const CERTIFICATES_RECHECK_MS = 60_000;
/** How soon a control plane that cannot adopt a Machine looks again (an orphan's changes do not reach this controller). */
const ADOPTION_RETRY_MS = 30_000;
/** How soon a removal that waits for a node (unreachable, or a peer unhealthy) is tried again. */
const REMOVAL_RETRY_MS = 5_000;

export interface ControlPlaneReaders {
  controlPlanes: Informer<TalosControlPlane>;
  clusters: Informer<Cluster>;
  machines: Informer<Machine>;
  /** The bootstrap provider's TalosConfig cache (v1beta1), to see whether a Machine's config is outdated. */
  talosConfigs?: Informer<TalosConfig>;
  /** The cache of an infrastructure machine kind, known only from the template at run time. */
  infraMachines?: (group: string, kind: string, signal: AbortSignal) => Promise<Informer<Unstructured>>;
}

export interface ControlPlaneDependencies {
  client: KubeClient;
  unstructured: UnstructuredClient;
  readers: ControlPlaneReaders;
  recorder: EventRecorder;
  random?: RandomIndex;
  /** Asks for a pass of a TalosControlPlane (what its nodes' streams or its workload Nodes said changed). */
  enqueue?: (key: ObjectKey) => void;
  /** How a workload cluster is read from its kubeconfig (default: a client of its apiserver). */
  connectWorkload?: ConnectWorkload;
}

const ownerKey = (tcp: TalosControlPlane) => `${tcp.metadata.namespace}/${tcp.metadata.name}`;
const keyOf = (owner: string): ObjectKey => {
  const [namespace = '', name = ''] = owner.split('/');
  return { namespace, name };
};

/** The Cluster that owns the control plane (Cluster API sets the reference), by name. */
export function ownerClusterName(tcp: TalosControlPlane): string | undefined {
  return tcp.metadata.ownerReferences?.find((ref) => refersToKind(ref, ClusterKind))?.name;
}

const endpointIsValid = (cluster: Cluster) => Boolean(cluster.spec?.controlPlaneEndpoint?.host) && (cluster.spec?.controlPlaneEndpoint?.port ?? 0) > 0;

export class TalosControlPlaneReconciler implements Reconciler {
  private readonly access = new TalosAccess();
  private readonly services: ServiceWatch;
  /** Each control plane's Nodes in its workload cluster, read through `<cluster>-kubeconfig`. */
  private readonly nodes: WorkloadNodes;
  /** Where each followed control plane's streams get their certificates from. */
  private readonly watchTargets = new Map<string, { uid: string; namespace: string; clusterName: string }>();
  /** When each control plane's kubeconfig certificate is due for renewal (read again after a restart). */
  private readonly kubeconfigRenewAt = new Map<string, number>();
  /** When each control plane's secrets bundle was last found whole. */
  private readonly certificatesWellAt = new Map<string, number>();

  /** Stops every Events stream (the manager stopped). */
  close(): void {
    this.services.close();
    this.nodes.close();
  }
  private readonly expectations = new Expectations();

  constructor(private readonly deps: ControlPlaneDependencies) {
    this.services = new ServiceWatch((owner) => this.openEvents(owner), (owner) => deps.enqueue?.(keyOf(owner)));
    this.nodes = new WorkloadNodes((owner) => deps.enqueue?.(keyOf(owner)), { connect: deps.connectWorkload });
  }

  async reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const cached = this.deps.readers.controlPlanes.get(key.namespace, key.name);
    if (!cached) return;
    const clusterName = ownerClusterName(cached);
    if (!clusterName) {
      ctx.log.debug('waiting for Cluster API to set the owner Cluster');
      return;
    }
    const cluster = this.deps.readers.clusters.get(key.namespace, clusterName);
    if (!cluster) {
      ctx.log.info({ cluster: clusterName }, 'waiting for the Cluster');
      return;
    }
    const tcp = deepCopy(cached);
    const uid = tcp.metadata.uid ?? '';
    // Our own bootstrap, not yet back through the cache, counts: it is written again below.
    if (this.expectations.wasEtcdBootstrapped(uid)) tcp.status = { ...(tcp.status ?? {}), bootstrapped: true };
    const clusterMachines = this.controlPlaneMachinesOf(tcp, clusterName);
    const machines = Machines.of(clusterMachines).filter(ownedBy(tcp));
    const parts = await this.partsOf(tcp, machines, ctx.signal);
    const view = new ControlPlane(tcp, cluster, machines, parts, BOOTSTRAP_V1BETA1.talosConfig.version, this.nodes.nodesOf(ownerKey(tcp)));
    const paused = cluster.spec?.paused === true || PAUSED_ANNOTATION in (tcp.metadata.annotations ?? {});
    const facts: StatusFacts = { kubeconfigWritten: tcp.status?.initialization?.controlPlaneInitialized === true };
    return reconcileInFrame(
      { client: this.deps.client, kind: V1BETA1.talosControlPlane, obj: tcp, ctx, ownedConditions: OWNED_CONDITIONS },
      {
        // As KCP, pause wins over everything, deletion too (clusterctl move pauses, then moves and deletes).
        ignoresSpec: paused,
        run: async () => {
          if (paused) {
            markPaused(view);
            return;
          }
          if (tcp.metadata.deletionTimestamp) return this.reconcileDelete(view, ctx);
          if (!(tcp.metadata.finalizers ?? []).includes(TALOS_CONTROL_PLANE_FINALIZER)) {
            tcp.metadata.finalizers = [...(tcp.metadata.finalizers ?? []), TALOS_CONTROL_PLANE_FINALIZER];
          }
          return this.reconcileControlPlane(view, clusterMachines, facts, ctx);
        },
        failed: (error) => {
          facts.failure = errorMessage(error);
          ctx.log.warn({ err: facts.failure }, 'reconcile failed');
          this.deps.recorder.event(tcp, 'Warning', 'ReconcileFailed', facts.failure);
          return { retry: true };
        },
        summarize: () => {
          if (!paused) updateStatus(view, facts);
        },
      },
    );
  }

  /** The TalosControlPlane is gone: drop what was remembered for it and stop following its nodes. */
  forget(tcp: TalosControlPlane): void {
    this.services.forget(ownerKey(tcp));
    this.nodes.forget(ownerKey(tcp));
    this.watchTargets.delete(ownerKey(tcp));
    const uid = tcp.metadata.uid;
    if (!uid) return;
    this.expectations.forget(uid);
    this.access.forget(uid);
    this.kubeconfigRenewAt.delete(uid);
    this.certificatesWellAt.delete(uid);
  }

  /** Every control-plane Machine of the cluster in the control plane's namespace, whoever owns it. */
  private controlPlaneMachinesOf(tcp: TalosControlPlane, clusterName: string): Machine[] {
    return this.deps.readers.machines.list({
      namespace: tcp.metadata.namespace,
      labels: { [CLUSTER_NAME_LABEL]: clusterName, [CONTROL_PLANE_LABEL]: '' },
    });
  }

  /** Each Machine's TalosConfig and infrastructure machine from the caches (absent ones count as up to date). */
  private async partsOf(tcp: TalosControlPlane, machines: Machines, signal: AbortSignal): Promise<Map<string, MachineParts>> {
    const parts = new Map<string, MachineParts>();
    const { talosConfigs, infraMachines } = this.deps.readers;
    const template = infrastructureRefOf(tcp);
    const infraKind = template.kind.endsWith('Template') ? template.kind.slice(0, -'Template'.length) : undefined;
    const infra = infraMachines && infraKind ? await infraMachines(template.apiGroup, infraKind, signal) : undefined;
    for (const machine of machines) {
      const namespace = machine.metadata.namespace ?? '';
      const configName = machine.spec.bootstrap.configRef?.name;
      const infraRef = machine.spec.infrastructureRef;
      parts.set(machine.metadata.name ?? '', {
        talosConfig: configName ? talosConfigs?.get(namespace, configName) : undefined,
        infraMachine: infra && infraRef.kind === infraKind ? infra.get(namespace, infraRef.name) : undefined,
      });
    }
    return parts;
  }

  private async reconcileControlPlane(view: ControlPlane, clusterMachines: readonly Machine[], facts: StatusFacts, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    facts.certificates = await this.certificatesOf(view, ctx);
    // As KCP: nothing is created before the infrastructure is provisioned, so that the Machines
    // see what it offers (the endpoint, the failure domains to spread them over).
    if (view.cluster.status?.initialization?.infrastructureProvisioned !== true) {
      facts.waiting = `Waiting for Cluster ${view.clusterName}'s infrastructure to be provisioned`;
      return;
    }
    if (!endpointIsValid(view.cluster)) {
      facts.waiting = `Waiting for Cluster ${view.clusterName} to have a control-plane endpoint`;
      return;
    }
    // As KCP: orphaned control-plane Machines are adopted first, and the pass waits for the cache to see it.
    if (await this.adoptMachines(view, clusterMachines, facts, ctx)) return { requeueAfter: ADOPTION_RETRY_MS };
    const uid = view.tcp.metadata.uid ?? '';
    const unseen = this.expectations.machineNotYetSeen(uid, view.machines.names()) ?? this.expectations.deletionNotYetSeen(uid, view.activeMachines.names());
    this.followServices(view, facts);
    const etcd = unseen ? { healthy: new Set<string>(), polled: false } : await this.etcdHealth(view, ctx);
    const etcdHealthyOn = etcd.healthy;
    await this.addCleanupHooks(view, ctx);
    // A deleting Machine's etcd member goes first (its pre-terminate hook), then orphan members, then remediation.
    const hook = unseen ? {} : await this.runPreTerminateHook(view, etcdHealthyOn, ctx);
    const orphanRemoved = unseen ? false : await this.removeOrphanMember(view, clusterMachines, etcdHealthyOn, ctx);
    // Remediation goes before the next step (as KCP): a victim taken out ends the pass.
    const remediation = unseen || orphanRemoved ? { acted: false } : await this.remediate(view, etcdHealthyOn, facts, ctx);
    const step: NextStep = unseen ? { action: 'wait', message: `Waiting for the cache to see the change to Machine ${unseen}` }
      : orphanRemoved ? { action: 'wait', message: 'Removed an orphan etcd member: looking again before the next change' }
        : remediation.acted ? { action: 'none' } : nextStep(view, etcdHealthyOn, facts.nodeServices);
    let result: ReconcileResult | void = remediation.result ?? hook.result ?? (orphanRemoved ? { requeueAfter: 1_000 } : undefined);
    switch (step.action) {
      case 'createMachine':
        await this.createMachine(view, step.first, step.reason, ctx);
        facts.waiting = 'Waiting for the new Machine to be provisioned';
        break;
      case 'removeMachine':
        result = await this.removeMachine(view, step.machine, step.reason, facts, ctx);
        break;
      case 'bootstrapEtcd': {
        const outcome = await this.withTalos(view, step.address, TALOS_ADMIN, (talos) => bootstrapEtcdOnce(talos, { signal: ctx.signal }));
        view.tcp.status = { ...(view.tcp.status ?? {}), bootstrapped: true };
        this.expectations.etcdBootstrapped(view.tcp.metadata.uid ?? '');
        const how = outcome === 'bootstrapped' ? 'Bootstrapped etcd' : 'Found etcd already bootstrapped';
        this.deps.recorder.event(view.tcp, 'Normal', 'EtcdBootstrapped', `${how} on Machine ${step.machine.metadata.name} (${step.address})`);
        ctx.log.info({ machine: step.machine.metadata.name, outcome }, 'etcd bootstrap');
        break;
      }
      case 'upgradeInPlace':
      case 'upgradeTalos':
        result = await upgradeInPlace({ ...this.deps, talosAt: this.talosAt(view), workload: this.nodes.clientOf(ownerKey(view.tcp)) }, view, step, facts, ctx) ?? result;
        break;
      case 'wait':
        facts.waiting = step.message;
        // A join seen through a node's Events stream triggers the next pass; one only polled is looked at again soon.
        if (etcd.polled && joiningMachines(view, etcdHealthyOn).length > 0) result = sooner(result, Date.now() + JOIN_POLL_MS);
        break;
      case 'none':
        break;
    }
    if (hook.waiting) facts.waiting = hook.waiting;
    await syncMachineConditions(this.deps.client, view, facts.nodeServices ?? new Map(), ctx.signal);
    await this.syncMachineTemplate(view, ctx);
    // A rollout.after still ahead starts the rollout on time (nothing else wakes the controller then).
    const after = rolloutAfterOf(view.tcp);
    if (after !== undefined && after > Date.now()) result = sooner(result, after);
    if (view.etcdBootstrapped) {
      const renewAt = this.kubeconfigRenewAt.get(uid);
      if (!facts.kubeconfigWritten || renewAt === undefined || Date.now() >= renewAt) await this.reconcileKubeconfig(view, facts, ctx);
      result = sooner(result, this.kubeconfigRenewAt.get(uid));
    }
    await syncKubeProxy(view, this.nodes.clientOf(ownerKey(view.tcp)), this.deps.recorder, ctx);
    return result;
  }

  /**
   * Which Machines run a healthy etcd member: from their nodes' Events streams (see
   * service-watch.ts), and, for a joining Machine whose stream has not answered yet, by asking the
   * node once (each node about itself, so no name matching is needed). `polled` says whether such
   * a Machine was only polled, so the pass looks again soon. Deleting Machines count too: their
   * members vote until their pre-terminate hook removes them.
   */
  private async etcdHealth(view: ControlPlane, ctx: ReconcileContext): Promise<{ healthy: Set<string>; polled: boolean }> {
    const healthy = new Set<string>();
    let polled = false;
    if (!view.etcdBootstrapped) return { healthy, polled };
    for (const machine of view.machines) {
      const address = view.talosAddress(machine);
      const streamed = address ? this.services.servicesAt(address) : undefined;
      if (streamed?.reachable && etcdWell(streamed.services)) healthy.add(machine.metadata.name ?? '');
    }
    for (const machine of joiningMachines(view, healthy)) {
      const address = view.talosAddress(machine);
      if (!address || this.services.servicesAt(address)?.reachable) continue;
      polled = true;
      try {
        const services = unwrapSingle(await this.withTalos(view, address, TALOS_READER, (talos) => talos.serviceList({ signal: ctx.signal })), 'ServiceList');
        if (etcdServiceHealthy(services)) healthy.add(machine.metadata.name ?? '');
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        ctx.log.debug({ machine: machine.metadata.name, err: errorMessage(error) }, 'etcd not answering yet on a joining Machine');
      }
    }
    return { healthy, polled };
  }

  /**
   * Keeps one Events stream per control-plane node with an address (a deleting one's until it is
   * gone: its pre-terminate hook asks after its etcd), and reports what those not deleting say.
   */
  private followServices(view: ControlPlane, facts: StatusFacts): void {
    const owner = ownerKey(view.tcp);
    this.watchTargets.set(owner, { uid: view.tcp.metadata.uid ?? view.clusterName, namespace: view.namespace, clusterName: view.clusterName });
    const addressOf = (machines: Machines) => new Map([...machines].flatMap((m) => {
      const address = view.talosAddress(m);
      return address ? [[m.metadata.name ?? '', address] as const] : [];
    }));
    this.services.follow(owner, new Set(addressOf(view.machines).values()));
    facts.nodeServices = new Map([...addressOf(view.activeMachines)].map(([name, address]) => [name, this.services.servicesAt(address)]));
  }

  /** The Events stream of one node, read with an os:reader certificate. */
  private openEvents(owner: string): OpenEvents {
    return (address, signal) => this.eventsOf(owner, address, signal);
  }

  private async *eventsOf(owner: string, address: string, signal: AbortSignal): AsyncGenerator<TalosEvent> {
    const target = this.watchTargets.get(owner);
    if (!target) return;
    const credentials = await this.access.credentials(target.uid, TALOS_READER, () => this.osCaOf(target.namespace, target.clusterName));
    const talos = new TalosClient({ ...credentials, endpoints: [address] });
    try {
      for await (const reply of talos.events({ tailEvents: -1 }, { signal })) {
        if (!reply.ok) throw reply.error;
        yield reply.value;
      }
    } finally {
      talos.close();
    }
  }

  /** Writes `<cluster>-kubeconfig`, or renews its certificate, through a running control-plane node. */
  private async reconcileKubeconfig(view: ControlPlane, facts: StatusFacts, ctx: ReconcileContext): Promise<void> {
    const node = view.activeMachines.sortedByCreation().find((m) => hasNode(m) && view.talosAddress(m)) ?? view.firstMachine();
    const address = node && view.talosAddress(node);
    if (!address) return;
    const { outcome, kubeconfig, renewAt } = await reconcileKubeconfig(this.deps.client, view, () =>
      this.withTalos(view, address, TALOS_ADMIN, async (talos) => unwrapSingle(await talos.kubeconfig({ signal: ctx.signal }), 'Kubeconfig')), Date.now(), ctx.signal);
    facts.kubeconfigWritten = true;
    this.nodes.follow(ownerKey(view.tcp), kubeconfig);
    const uid = view.tcp.metadata.uid ?? '';
    if (renewAt === undefined) this.kubeconfigRenewAt.delete(uid);
    else this.kubeconfigRenewAt.set(uid, renewAt);
    const name = clusterSecretNames(view.clusterName).kubeconfig;
    if (outcome === 'created') this.deps.recorder.event(view.tcp, 'Normal', 'KubeconfigCreated', `Created Secret ${name}`);
    if (outcome === 'renewed') this.deps.recorder.event(view.tcp, 'Normal', 'KubeconfigRenewed', `Renewed the client certificate in Secret ${name} (half its life had passed)`);
  }

  /** One Machine out, etcd first (see scale-down.ts); a removal that must wait is tried again soon. */
  private async removeMachine(view: ControlPlane, victim: Machine, reason: ChangeReason, facts: StatusFacts, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const name = victim.metadata.name ?? '';
    const others = view.activeMachines.filter((m) => m.metadata.name !== name);
    const outcome = await removeControlPlaneMachine({
      victim, others: [...others], signal: ctx.signal, addressOf: (machine) => view.talosAddress(machine),
      talosAt: this.talosAt(view),
      deleteMachine: (machine) => this.deleteMachine(view, machine.metadata.name!, ctx.signal),
    });
    if (!outcome.removed) {
      facts.waiting = outcome.waiting;
      if (!this.wasWaitingFor(view, outcome.waiting)) {
        this.deps.recorder.event(view.tcp, 'Normal', 'WaitingToRemoveMachine', outcome.waiting);
      }
      return { requeueAfter: REMOVAL_RETRY_MS };
    }
    const why = reason === 'rollout'
      ? `outdated: ${view.outdatedReasons(victim).join('; ')}`
      : `scaling down from ${view.activeMachines.size} to ${view.desiredReplicas} replicas`;
    const etcd = outcome.forfeited ? 'it handed off etcd leadership; its member leaves after the drain' : 'its etcd member, if any, is removed after the drain';
    this.deps.recorder.event(view.tcp, 'Normal', 'MachineRemoved', `Deleted control-plane Machine ${name} (${why}); ${etcd}`);
    ctx.log.info({ machine: name, reason, forfeited: outcome.forfeited }, 'control-plane Machine removed');
    countRolloutStep('removed', reason);
    facts.waiting = `Waiting for Machine ${name} to be deleted`;
  }

  /**
   * Orphaned control-plane Machines of the cluster get this control plane as their controller (see
   * adoption.ts); true when the pass stops there: some were adopted (the next pass sees them in the
   * cache) or one cannot be (said in an Event, once, and in Reconciling).
   */
  private async adoptMachines(view: ControlPlane, clusterMachines: readonly Machine[], facts: StatusFacts, ctx: ReconcileContext): Promise<boolean> {
    const candidates = adoptableMachines(clusterMachines);
    if (candidates.length === 0) return false;
    for (const machine of candidates) {
      const name = machine.metadata.name ?? '';
      const refusal = adoptionRefusal(view.tcp, machine);
      if (refusal) {
        facts.adoptionRefused = refusal;
        if (!this.wasWaitingFor(view, refusal)) {
          this.deps.recorder.event(view.tcp, 'Warning', 'AdoptionFailed', refusal);
          ctx.log.warn({ machine: name, version: machine.spec.version }, 'control-plane Machine not adopted');
        }
        return true;
      }
    }
    for (const machine of candidates) {
      const name = machine.metadata.name ?? '';
      await this.deps.client.patch(MachineKind, view.namespace, name, adoptionPatch(view.tcp, machine), 'merge', { signal: ctx.signal });
      this.deps.recorder.event(view.tcp, 'Normal', 'MachineAdopted', `Adopted control-plane Machine ${name} (it had no controller)`);
      ctx.log.info({ machine: name }, 'control-plane Machine adopted');
    }
    facts.waiting = `Waiting for the cache to see the adopted Machine${candidates.length === 1 ? '' : 's'} ${candidates.map((m) => m.metadata.name).join(', ')}`;
    return true;
  }

  /** Adds (or with `release`, removes) the pre-terminate hook on a Machine; a Machine already gone is no matter. */
  private async patchHook(view: ControlPlane, machine: Machine, release: boolean, ctx: ReconcileContext): Promise<void> {
    try {
      await this.deps.client.patch(MachineKind, view.namespace, machine.metadata.name!, hookPatch(release), 'merge', { signal: ctx.signal });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /** Machines made before the hook existed get it. */
  private async addCleanupHooks(view: ControlPlane, ctx: ReconcileContext): Promise<void> {
    for (const machine of machinesWithoutHook(view)) {
      await this.patchHook(view, machine, false, ctx);
      ctx.log.info({ machine: machine.metadata.name }, 'pre-terminate hook added');
    }
  }

  /**
   * The pre-terminate hook (see pre-terminate.ts): once Cluster API drained a deleting Machine's
   * Node, its etcd member leaves (or is removed through a healthy peer) while the rest keeps
   * quorum, and the hook is released. `waiting` says what it waits for, if it waits.
   */
  private async runPreTerminateHook(view: ControlPlane, healthyOn: ReadonlySet<string>, ctx: ReconcileContext): Promise<{ waiting?: string; result?: ReconcileResult }> {
    const step = preTerminateStep(view);
    if (step.action === 'none') return {};
    const victim = step.machine;
    const name = victim.metadata.name ?? '';
    if (step.action === 'wait') return { waiting: step.message };
    if (step.action === 'release') {
      await this.patchHook(view, victim, true, ctx);
      ctx.log.info({ machine: name, why: step.why }, 'pre-terminate hook released without an etcd change');
      return { waiting: `Waiting for Machine ${name} to be deleted` };
    }
    const members = await this.etcdMemberNames(view, victim, healthyOn, ctx);
    const block = etcdRemovalBlock(view, victim, healthyOn, members, true);
    const waits = (message: string) => {
      if (!this.wasWaitingFor(view, message)) this.deps.recorder.event(view.tcp, 'Normal', 'WaitingToRemoveEtcdMember', message);
      return { waiting: message, result: { requeueAfter: REMOVAL_RETRY_MS } };
    };
    if (block) return waits(block);
    // Peers not being deleted are asked first.
    const others = [...view.activeMachines.sortedByCreation(), ...view.machines.filter(isDeleting).sortedByCreation()].filter((m) => m !== victim);
    const outcome = await removeEtcdMember({
      victim, others, isHealthy: (m) => healthyOn.has(m.metadata.name ?? ''), signal: ctx.signal, addressOf: (machine) => view.talosAddress(machine),
      talosAt: this.talosAt(view),
    });
    if (!outcome.removed) return waits(outcome.waiting);
    await this.patchHook(view, victim, true, ctx);
    const how = outcome.how === 'left' ? 'its etcd member left the cluster'
      : outcome.how === 'removedThroughPeer' ? `its etcd member ${outcome.member.hostname} (${memberIdHex(outcome.member.id)}) was removed through Machine ${outcome.peer}`
        : 'it held no etcd member';
    this.deps.recorder.event(view.tcp, 'Normal', 'EtcdMemberRemoved', `Deleting control-plane Machine ${name} was drained: ${how}; its pre-terminate hook is released`);
    ctx.log.info({ machine: name, how: outcome.how }, 'etcd member of a deleting Machine removed, pre-terminate hook released');
    return { waiting: `Waiting for Machine ${name} to be deleted` };
  }

  /**
   * One etcd member no control-plane Machine accounts for is removed by ID through a healthy peer,
   * while the control plane is otherwise healthy (see orphan-members.ts); true when one was.
   */
  private async removeOrphanMember(view: ControlPlane, clusterMachines: readonly Machine[], healthyOn: ReadonlySet<string>, ctx: ReconcileContext): Promise<boolean> {
    if (orphanRemovalBlock(view, healthyOn)) return false;
    const read = await this.etcdMembers(view, undefined, healthyOn, ctx);
    const orphan = read && orphanMembers(read.members, clusterMachines)[0];
    if (!read || !orphan) return false;
    const id = memberIdHex(orphan.id);
    await this.withTalos(view, read.address, TALOS_ADMIN, (talos) =>
      countEtcdOperation('remove_member', talos.etcdRemoveMemberByID(orphan.id, { signal: ctx.signal }).then((replies) => unwrapSingle(replies, 'EtcdRemoveMemberByID'))));
    const message = `Removed etcd member ${orphan.hostname} (${id}) through Machine ${read.peer}: no control-plane Machine has a Node of that name`;
    this.deps.recorder.event(view.tcp, 'Normal', 'OrphanEtcdMemberRemoved', message);
    ctx.log.info({ member: orphan.hostname, id, peer: read.peer }, 'orphan etcd member removed');
    return true;
  }

  /**
   * `machineTemplate` metadata and deletion timeouts reach the existing Machines, their TalosConfigs
   * and infrastructure machines in place (merge patches, only where something differs).
   */
  private async syncMachineTemplate(view: ControlPlane, ctx: ReconcileContext): Promise<void> {
    const { signal } = ctx;
    for (const machine of view.activeMachines) {
      const name = machine.metadata.name!;
      const patch = machinePatch(view.tcp, machine);
      if (patch) await this.deps.client.patch(MachineKind, view.namespace, name, patch, 'merge', { signal });
      const { talosConfig, infraMachine } = view.partsOf(machine);
      const configPatch = talosConfig && metadataPatch(view.tcp, { metadata: talosConfig.metadata ?? {} });
      if (configPatch) await this.deps.client.patch(BOOTSTRAP_V1BETA1.talosConfig, view.namespace, name, configPatch, 'merge', { signal });
      const infraPatch = infraMachine?.apiVersion && infraMachine.kind ? metadataPatch(view.tcp, infraMachine) : undefined;
      if (infraPatch) await this.deps.unstructured.patch({ apiVersion: infraMachine!.apiVersion!, kind: infraMachine!.kind!, namespace: view.namespace, name }, infraPatch, 'merge', { signal });
      if (patch || configPatch || infraPatch) ctx.log.info({ machine: name }, 'machine template metadata synced in place');
    }
  }

  /**
   * MachineHealthCheck remediation (see remediation.ts), before the next step: a finished one is
   * closed, then the next victim is taken out when every guard passes (`acted`: the next step
   * waits for the next pass). A blocked remediation says why and lets the next step go on, as KCP.
   */
  private async remediate(view: ControlPlane, healthyOn: ReadonlySet<string>, facts: StatusFacts, ctx: ReconcileContext): Promise<{ acted: boolean; result?: ReconcileResult }> {
    for (const recovered of recoveredFromRemediation(view)) await removeMachineCondition(this.deps.client, recovered, OWNER_REMEDIATED_CONDITION, ctx.signal);
    this.finishRemediation(view, healthyOn, ctx);
    const plan = planRemediation(view, new Date());
    if (plan.action === 'none') {
      const inProgress = remediationInProgress(view.tcp);
      if (inProgress) facts.remediation = { reason: 'RemediationInProgress', message: `Machine ${inProgress.machine} was remediated (retry ${inProgress.retryCount}): waiting for its replacement to join` };
      return { acted: false };
    }
    if (plan.action === 'wait') return { acted: false, result: await this.remediationWaits(view, plan, facts, ctx) };
    const members = await this.etcdMemberNames(view, plan.machine, healthyOn, ctx);
    const block = etcdRemovalBlock(view, plan.machine, healthyOn, members);
    if (block) return { acted: false, result: await this.remediationWaits(view, { action: 'wait', machine: plan.machine, wait: 'deferred', message: block }, facts, ctx) };
    return { acted: true, result: await this.remediateMachine(view, plan.machine, plan.data, facts, ctx) };
  }

  /** The remediation is done once its victim is gone and every Machine not marked for remediation has joined. */
  private finishRemediation(view: ControlPlane, healthyOn: ReadonlySet<string>, ctx: ReconcileContext): void {
    const inProgress = remediationInProgress(view.tcp);
    if (!inProgress) return;
    const waiting = view.machines.any((m) => m.metadata.name === inProgress.machine) || view.activeMachines.size < view.desiredReplicas ||
      view.activeMachines.any(not(isMarkedForRemediation), (m) => !view.hasNode(m) || !healthyOn.has(m.metadata.name ?? ''));
    if (waiting) return;
    const annotations = { ...(view.tcp.metadata.annotations ?? {}) };
    delete annotations[REMEDIATION_IN_PROGRESS_ANNOTATION];
    view.tcp.metadata.annotations = annotations;
    this.deps.recorder.event(view.tcp, 'Normal', 'RemediationFinished', `Remediation of Machine ${inProgress.machine} finished: its replacement joined etcd`);
    ctx.log.info({ machine: inProgress.machine }, 'remediation finished');
  }

  /** The etcd members' names, from the first healthy member other than `victim` that answers (undefined: none did). */
  private async etcdMemberNames(view: ControlPlane, victim: Machine, healthyOn: ReadonlySet<string>, ctx: ReconcileContext): Promise<string[] | undefined> {
    return (await this.etcdMembers(view, victim, healthyOn, ctx))?.members.map((member) => member.hostname);
  }

  /** The etcd members, as the first healthy Machine not being deleted (nor `victim`) that answers lists them. */
  private async etcdMembers(view: ControlPlane, victim: Machine | undefined, healthyOn: ReadonlySet<string>, ctx: ReconcileContext): Promise<{ members: EtcdMember[]; peer: string; address: string } | undefined> {
    for (const peer of view.activeMachines.sortedByCreation()) {
      const address = view.talosAddress(peer);
      if (peer === victim || !address || !healthyOn.has(peer.metadata.name ?? '')) continue;
      try {
        const list = unwrapSingle(await this.withTalos(view, address, TALOS_READER, (talos) => talos.etcdMemberList({}, { signal: ctx.signal })), 'EtcdMemberList');
        return { members: list.members, peer: peer.metadata.name ?? '', address };
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        ctx.log.debug({ machine: peer.metadata.name, err: errorMessage(error) }, 'etcd member list not read');
      }
    }
    return undefined;
  }

  /** A remediation that waits: the condition, the victim's OwnerRemediated and (once per message) an Event say why. */
  private async remediationWaits(view: ControlPlane, plan: Extract<RemediationPlan, { action: 'wait' }>, facts: StatusFacts, ctx: ReconcileContext): Promise<ReconcileResult | undefined> {
    const reason = plan.wait === 'inProgress' ? 'RemediationInProgress' : plan.wait === 'refused' ? 'CannotBeRemediated' : 'RemediationBlocked';
    facts.remediation = { reason, message: plan.message };
    if (plan.wait === 'inProgress') return undefined;
    const machineReason = plan.wait === 'refused' ? 'CannotBeRemediated' : 'RemediationDeferred';
    await this.markOwnerRemediated(plan.machine, machineReason, plan.message, ctx);
    if (!this.wasWaitingFor(view, plan.message)) {
      this.deps.recorder.event(view.tcp, 'Warning', 'RemediationBlocked', plan.message);
      ctx.log.info({ machine: plan.machine.metadata.name, why: plan.message }, 'remediation blocked');
    }
    if (plan.wait === 'refused') return undefined;
    return { requeueAfter: plan.retryAt === undefined ? REMOVAL_RETRY_MS : Math.max(1_000, plan.retryAt - Date.now()) };
  }

  /** The victim's OwnerRemediated condition (False: the control plane is on it, with KCP's reasons). */
  private async markOwnerRemediated(victim: Machine, reason: string, message: string, ctx: ReconcileContext): Promise<void> {
    const condition = { type: OWNER_REMEDIATED_CONDITION, status: 'False' as const, reason, message };
    if (!says(victim, condition)) await patchMachineConditions(this.deps.client, victim, [condition], [OWNER_REMEDIATED_CONDITION], ctx.signal);
  }

  /** Takes the victim out of etcd and deletes it (see remediation-removal.ts), recording the remediation. */
  private async remediateMachine(view: ControlPlane, victim: Machine, data: RemediationData, facts: StatusFacts, ctx: ReconcileContext): Promise<ReconcileResult | undefined> {
    const name = victim.metadata.name ?? '';
    const retry = data.retryCount > 0 ? ` (retry ${data.retryCount})` : '';
    if (!this.wasWaitingFor(view, `Remediating Machine ${name}`)) {
      this.deps.recorder.event(view.tcp, 'Normal', 'RemediationStarted', `Remediating Machine ${name}${retry}: MachineHealthCheck marked it unhealthy`);
    }
    // As KCP: leadership moves off the victim (if it answers), then it is deleted; its pre-terminate hook removes its member.
    const forfeited = await forfeitIfRunning(this.talosAt(view), view.talosAddress(victim), ctx.signal);
    await this.markOwnerRemediated(victim, 'MachineDeleting', 'Machine is deleted by its control plane to remediate it', ctx);
    await this.deleteMachine(view, name, ctx.signal);
    view.tcp.metadata.annotations = { ...(view.tcp.metadata.annotations ?? {}), [REMEDIATION_IN_PROGRESS_ANNOTATION]: JSON.stringify(data) };
    view.tcp.status = { ...(view.tcp.status ?? {}), lastRemediation: { machine: name, time: data.timestamp, retryCount: data.retryCount } };
    const etcd = forfeited ? 'it handed off etcd leadership; its member is removed after the drain' : 'its etcd member is removed after the drain';
    this.deps.recorder.event(view.tcp, 'Normal', 'MachineRemediated', `Deleted control-plane Machine ${name}${retry} to remediate it; ${etcd}`);
    ctx.log.info({ machine: name, forfeited, retryCount: data.retryCount }, 'control-plane Machine remediated');
    countRolloutStep('removed', 'remediation');
    facts.remediation = { reason: 'RemediationInProgress', message: `Remediating Machine ${name}${retry}: waiting for it to be deleted` };
    facts.waiting = `Waiting for Machine ${name} to be deleted`;
    return undefined;
  }

  /** Deletes one of the control plane's Machines (one already gone is fine), remembered until the cache sees it deleting. */
  private async deleteMachine(view: ControlPlane, name: string, signal: AbortSignal): Promise<void> {
    try {
      await this.deps.client.delete(MachineKind, view.namespace, name, signal);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    this.expectations.machineDeleted(view.tcp.metadata.uid ?? '', name);
  }

    /** The last pass already said it waits for this (no second Event for the same wait). */
  private wasWaitingFor(view: ControlPlane, message: string): boolean {
    return (view.tcp.status?.conditions ?? []).some((c) => (c.message ?? '').includes(message));
  }

  private async createMachine(view: ControlPlane, first: boolean, reason: ChangeReason, ctx: ReconcileContext): Promise<void> {
    const { signal } = ctx;
    const ref = infrastructureRefOf(view.tcp);
    const template = await this.deps.unstructured.getInGroup({ group: ref.apiGroup, kind: ref.kind }, view.namespace, ref.name, signal);
    const name = machineName(view.tcp, view.clusterName, this.deps.random);
    const failureDomain = view.failureDomainForNewMachine();
    // A Machine made while a remediation is under way replaces its victim: the retry chain goes on it.
    const remediated = view.tcp.metadata.annotations?.[REMEDIATION_IN_PROGRESS_ANNOTATION];
    const annotations = remediated === undefined ? undefined : { [REMEDIATION_FOR_ANNOTATION]: remediated };
    const objects = machineObjects({ tcp: view.tcp, clusterName: view.clusterName, template, name, first, failureDomain, annotations });
    await createMachineObjects(this.deps, objects, signal);
    this.expectations.machineCreated(view.tcp.metadata.uid ?? '', name);
    const count = view.activeMachines.size + 1;
    const outdated = view.machinesToReplace().names();
    const replaced = remediationInProgress(view.tcp)?.machine;
    const why = replaced ? `to replace remediated ${replaced}` : reason === 'rollout' ? `to replace outdated ${outdated.join(', ')}` : `${count} of ${view.desiredReplicas}`;
    const where = failureDomain ? ` in failure domain ${failureDomain}` : '';
    this.deps.recorder.event(view.tcp, 'Normal', 'MachineCreated', `Created control-plane Machine ${name}${where} (${why})`);
    ctx.log.info({ machine: name, first }, 'control-plane Machine created');
    countRolloutStep('created', reason);
  }

  /** Deletion: every owned Machine goes first (Cluster API drains and deletes it), then the finalizer. */
  private async reconcileDelete(view: ControlPlane, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const workers = this.deps.readers.machines
      .list({ namespace: view.namespace, labels: { [CLUSTER_NAME_LABEL]: view.clusterName } })
      .filter((m) => !(CONTROL_PLANE_LABEL in (m.metadata.labels ?? {})));
    if (workers.length > 0) {
      const names = workers.map((m) => m.metadata.name).sort();
      markDeleting(view, 'WaitingForWorkers', `Waiting for ${workers.length} worker Machine${workers.length === 1 ? '' : 's'} to be deleted first: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}`);
      return { requeueAfter: DELETION_POLL_MS };
    }
    markDeleting(view, 'DeletingMachines', view.machines.size > 0 ? `Deleting ${view.machines.size} control-plane Machines` : 'All control-plane Machines are gone');
    // etcd goes with the whole control plane: no member is removed one by one, the hooks are just released.
    for (const machine of view.machines.filter(hasCleanupHook)) await this.patchHook(view, machine, true, ctx);
    for (const machine of view.activeMachines) await this.deleteMachine(view, machine.metadata.name!, ctx.signal);
    if (view.machines.size === 0) {
      view.tcp.metadata.finalizers = (view.tcp.metadata.finalizers ?? []).filter((f) => f !== TALOS_CONTROL_PLANE_FINALIZER);
    }
  }

  /** withTalos for this control plane's nodes, as the removal and upgrade steps take it. */
  private talosAt(view: ControlPlane): TalosAt {
    return (address, role, call) => this.withTalos(view, address, role, call);
  }

  /** One call to the node at `address`, with a short-lived certificate of `role` (see cluster/talos-access.ts). */
  private async withTalos<T>(view: ControlPlane, address: string, role: TalosRole, call: (talos: TalosClient) => Promise<T>): Promise<T> {
    const credentials = await this.access.credentials(view.tcp.metadata.uid ?? view.clusterName, role, () => this.osCaOf(view.namespace, view.clusterName));
    const talos = new TalosClient({ ...credentials, endpoints: [address], defaultTimeoutMs: TALOS_CALL_TIMEOUT_MS });
    try {
      return await call(talos);
    } finally {
      talos.close();
    }
  }

  /** The cluster's Talos API CA, from the secrets bundle the bootstrap provider keeps. */
  private async osCaOf(namespace: string, clusterName: string): Promise<IssuedCertificate> {
    let bundle;
    try {
      bundle = await readSecretsBundle(this.deps.client, namespace, clusterName, new Date());
    } catch (error) {
      if (error instanceof MissingSecretsBundle) throw new Error(`Waiting to reach the Talos API: ${error.message}`, { cause: error });
      throw error;
    }
    const os = bundle.certs.os;
    if (!os?.key) throw new InvalidSecretsBundle(`${namespace}/${clusterSecretNames(clusterName).bundle}`, 'has no Talos API CA key (certs.os)');
    return os;
  }

  /**
   * CertificatesAvailable's facts: the bundle Secret read again unless it was found whole less than
   * CERTIFICATES_RECHECK_MS ago (a pass runs on every change of a Machine; the bundle never changes).
   */
  private async certificatesOf(view: ControlPlane, ctx: ReconcileContext): Promise<CertificatesCheck> {
    const uid = view.tcp.metadata.uid ?? '';
    const wellAt = this.certificatesWellAt.get(uid);
    if (wellAt !== undefined && Date.now() - wellAt < CERTIFICATES_RECHECK_MS) return { available: true };
    const check = await checkCertificates(this.deps.client, view.namespace, view.clusterName, new Date(), ctx.signal);
    if (check.available) this.certificatesWellAt.set(uid, Date.now());
    else this.certificatesWellAt.delete(uid);
    return check;
  }
}
