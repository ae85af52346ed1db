// The TalosControlPlane's status (v1beta1, the hub), recomputed from the view on every pass: the
// v1beta2 control-plane contract fields Cluster API reads (replicas, readiness counts, versions,
// initialization, the Available/Paused/ScalingUp/ScalingDown/RollingOut conditions and the rest of
// KCP's, CertificatesAvailable among them) and, under deprecated.v1beta1, CACPPT's v1beta1-contract
// counts and conditions, which the v1alpha3 view shows at their old places. Every False or
// waiting condition says what it waits for.
import type { Machine } from '../api/capi/v1beta2/types';
import { controlPlaneSelector } from '../api/controlplane/spec';
import type { StatusVersion, TalosControlPlaneStatus } from '../api/controlplane/v1beta1/types';
import { getCondition, setCondition, type ConditionInput } from '../kube/patch/conditions';
import { markFalseV1Beta1, markTrueV1Beta1, setV1Beta1, summaryV1Beta1, type V1Beta1Condition } from '../kube/patch/conditions-v1beta1';
import type { Machines } from '../cluster/machines';
import { etcdProblem, servicesProblem, type NodeServicesByMachine, type ServiceState } from './service-watch';
import { type ControlPlane, isAvailable } from './control-plane';
import { staticPodsProblem } from './static-pod-health';
import { remediationInProgress } from './remediation';
import { rolloutPathOf } from './in-place';
import { CERTIFICATES_AVAILABLE, certificatesCondition, type CertificatesCheck } from './certificates';

export const AVAILABLE = 'Available';
export const PAUSED = 'Paused';
export const SCALING_UP = 'ScalingUp';
export const SCALING_DOWN = 'ScalingDown';
export const ROLLING_OUT = 'RollingOut';
export const DELETING = 'Deleting';
export const REMEDIATING = 'Remediating';
export const ETCD_CLUSTER_HEALTHY = 'EtcdClusterHealthy';
export const COMPONENTS_HEALTHY = 'ControlPlaneComponentsHealthy';
export const INITIALIZED = 'Initialized';
export const MACHINES_READY = 'MachinesReady';
export const MACHINES_UP_TO_DATE = 'MachinesUpToDate';
/** CACPPT's v1beta1 conditions. */
export const MACHINES_BOOTSTRAPPED = 'MachinesBootstrapped';
export const READY = 'Ready';
/**
 * kstatus's abnormal-true condition (what Flux and Argo CD read as InProgress), in the list kstatus
 * reads (`status.conditions`): present while the control plane is not yet what its spec asks —
 * Ready=True alone says Current as soon as one replica is Ready, in the middle of a scale-up.
 */
export const RECONCILING = 'Reconciling';

/** Condition types this controller is the authority for (its values win in the patch helper). */
export const OWNED_CONDITIONS = [AVAILABLE, PAUSED, SCALING_UP, SCALING_DOWN, ROLLING_OUT, DELETING, REMEDIATING, ETCD_CLUSTER_HEALTHY, COMPONENTS_HEALTHY, INITIALIZED, MACHINES_READY, MACHINES_UP_TO_DATE, CERTIFICATES_AVAILABLE, MACHINES_BOOTSTRAPPED, READY, RECONCILING] as const;

export interface StatusFacts {
  /** `<cluster>-kubeconfig` exists (written by this or an earlier pass). */
  kubeconfigWritten: boolean;
  /** What the last step waits for, if it waits. */
  waiting?: string;
  /** The last step failed: its message. */
  failure?: string;
  /** What each control-plane node's Events stream said. */
  nodeServices?: NodeServicesByMachine;
  /** What this pass found of the cluster's certificates (undefined: not read, the condition stays as it was). */
  certificates?: CertificatesCheck;
  /** Why an orphaned control-plane Machine is not adopted (see adoption.ts): the control plane waits. */
  adoptionRefused?: string;
  /** What the remediation step said (see remediation.ts): under way, or blocked and why. */
  remediation?: { reason: RemediatingReason; message: string };
}

export type RemediatingReason = 'RemediationInProgress' | 'RemediationBlocked' | 'CannotBeRemediated';

function versionParts(version: string): number[] {
  return version.replace(/^v/, '').split(/[.+-]/).slice(0, 3).map((part) => Number.parseInt(part, 10) || 0);
}

export function compareVersions(a: string, b: string): number {
  const [pa, pb] = [versionParts(a), versionParts(b)];
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/** `status.versions`: how many Machines run each Kubernetes version, oldest first. */
export function versionsOf(machines: Iterable<Machine>): StatusVersion[] {
  const counts = new Map<string, number>();
  for (const machine of machines) {
    if (machine.spec.version) counts.set(machine.spec.version, (counts.get(machine.spec.version) ?? 0) + 1);
  }
  return [...counts].sort(([a], [b]) => compareVersions(a, b)).map(([version, replicas]) => ({ version, replicas }));
}

export function updateStatus(view: ControlPlane, facts: StatusFacts, now?: Date): void {
  const tcp = view.tcp;
  const status: TalosControlPlaneStatus = (tcp.status ??= {});
  const machines = [...view.machines];
  const desired = view.desiredReplicas;
  const active = view.activeMachines.size;

  status.selector = controlPlaneSelector(view.clusterName);
  status.replicas = machines.length;
  status.readyReplicas = machines.filter((m) => view.isReady(m)).length;
  status.availableReplicas = machines.filter(isAvailable).length;
  status.upToDateReplicas = machines.filter((m) => view.isUpToDate(m)).length;
  const legacy = ((status.deprecated ??= {}).v1beta1 ??= {});
  legacy.updatedReplicas = status.upToDateReplicas;
  legacy.unavailableReplicas = status.replicas - status.readyReplicas;
  status.versions = versionsOf(machines);
  if (status.versions.length > 0) status.version = status.versions[0]!.version;

  // Initialized once etcd runs and Cluster API can reach the workload cluster; never reset.
  const initialized = status.initialization?.controlPlaneInitialized === true || (view.etcdBootstrapped && facts.kubeconfigWritten);
  status.initialization = { ...(status.initialization ?? {}), controlPlaneInitialized: initialized };
  const available = initialized && status.readyReplicas > 0;

  const generation = tcp.metadata.generation;
  const set = (input: ConditionInput) => {
    status.conditions = setCondition(status.conditions, { ...input, observedGeneration: generation }, now);
  };
  const waitingText = facts.failure ?? facts.waiting;

  // A paused pass writes only Paused (see markPaused): this one is not paused.
  set({ type: PAUSED, status: 'False', reason: 'NotPaused', message: '' });

  set(available
    ? { type: AVAILABLE, status: 'True', reason: 'Available', message: '' }
    : { type: AVAILABLE, status: 'False', reason: 'NotAvailable', message: availabilityWait(view, facts, status.readyReplicas) });

  set(active < desired
    ? { type: SCALING_UP, status: 'True', reason: 'ScalingUp', message: `Scaling up from ${active} to ${desired} replicas${waitingText ? `: ${waitingText}` : ''}` }
    : { type: SCALING_UP, status: 'False', reason: 'NotScalingUp', message: '' });

  set(active > desired
    ? { type: SCALING_DOWN, status: 'True', reason: 'ScalingDown', message: `Scaling down from ${active} to ${desired} replicas${waitingText ? `: ${waitingText}` : ''}` }
    : { type: SCALING_DOWN, status: 'False', reason: 'NotScalingDown', message: '' });

  const outdated = view.machinesNeedingRollout();
  set(outdated.size > 0
    ? { type: ROLLING_OUT, status: 'True', reason: 'RollingOut', message: rolloutMessage(view, outdated, waitingText) }
    : { type: ROLLING_OUT, status: 'False', reason: 'NotRollingOut', message: '' });

  set(initialized
    ? { type: INITIALIZED, status: 'True', reason: 'Initialized', message: '' }
    : { type: INITIALIZED, status: 'False', reason: 'NotInitialized', message: availabilityWait(view, facts, 0) });
  set(machinesCondition(MACHINES_READY, machines, (m) => (view.isReady(m) ? undefined : 'not Ready (its Node is not Ready)'), 'Ready'));
  set(machinesCondition(MACHINES_UP_TO_DATE, [...view.activeMachines], (m) => (view.isUpToDate(m) ? undefined : outdatedText(view, m)), 'UpToDate'));
  set({ type: DELETING, status: 'False', reason: 'NotDeleting', message: '' });
  if (facts.certificates || !getCondition(status.conditions, CERTIFICATES_AVAILABLE)) set(certificatesCondition(facts.certificates));
  set(remediatingCondition(view, facts));
  for (const condition of healthConditions(view, facts)) set(condition);

  const reconciling = facts.adoptionRefused ?? reconcilingMessage(view, status.readyReplicas, waitingText);
  // kstatus reads status.conditions of whichever version it is given: both lists say Reconciling.
  status.conditions = reconciling === undefined
    ? status.conditions?.filter((c) => c.type !== RECONCILING)
    : setCondition(status.conditions, { type: RECONCILING, status: 'True', reason: 'Progressing', message: reconciling, observedGeneration: generation }, now);
  legacy.conditions = withReconciling(legacyConditions(legacy.conditions, view, available, facts, now), reconciling, now);
}

/**
 * Remediating: True while a remediation is under way (the TalosControlPlane carries its
 * annotation, or the step says so), False with the guard's message while one is blocked.
 */
function remediatingCondition(view: ControlPlane, facts: StatusFacts): ConditionInput {
  const type = REMEDIATING;
  const said = facts.remediation;
  if (said?.reason === 'RemediationInProgress') return { type, status: 'True', reason: said.reason, message: said.message };
  const inProgress = remediationInProgress(view.tcp);
  if (inProgress) return { type, status: 'True', reason: 'RemediationInProgress', message: `Remediating Machine ${inProgress.machine}` };
  if (said) return { type, status: 'False', reason: said.reason, message: said.message };
  return { type, status: 'False', reason: 'NotRemediating', message: '' };
}

/** What is still to be done before the control plane matches its spec; undefined when nothing is. */
function reconcilingMessage(view: ControlPlane, readyReplicas: number, waitingText: string | undefined): string | undefined {
  const active = view.activeMachines.size;
  const desired = view.desiredReplicas;
  const waiting = waitingText ? `: ${waitingText}` : '';
  const deleting = view.deletingMachine();
  if (active !== desired) return `Scaling from ${active} to ${desired} replicas${waiting}`;
  const outdated = view.machinesNeedingRollout().size;
  if (outdated > 0) return `Rolling out ${outdated} outdated Machine${outdated === 1 ? '' : 's'}${waiting}`;
  if (deleting) return `Waiting for Machine ${deleting.metadata.name} to be deleted`;
  if (readyReplicas < desired) return `${readyReplicas} of ${desired} replicas Ready${waiting}`;
  return undefined;
}

function withReconciling(conditions: V1Beta1Condition[], message: string | undefined, now?: Date): V1Beta1Condition[] {
  if (message === undefined) return conditions.filter((c) => c.type !== RECONCILING);
  return setV1Beta1(conditions, { type: RECONCILING, status: 'True', reason: 'Progressing', message }, now);
}

/** True when no Machine has a problem; False listing each Machine's (by name); Unknown without Machines. */
function machinesCondition(type: string, machines: readonly Machine[], problem: (machine: Machine) => string | undefined, good: string): ConditionInput {
  if (machines.length === 0) return { type, status: 'Unknown', reason: 'NoMachines', message: 'No control-plane Machines yet' };
  const lines = [...machines]
    .sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1))
    .flatMap((m) => {
      const text = problem(m);
      return text ? [`* Machine ${m.metadata.name}: ${text}`] : [];
    });
  return lines.length === 0 ? { type, status: 'True', reason: good, message: '' } : { type, status: 'False', reason: `Not${good}`, message: lines.join('\n') };
}

type Problem = (services: ReadonlyMap<string, ServiceState>) => string | undefined;

/** One health condition from every node's stream: True when all are well, False naming each problem, Unknown until streams answer. */
function healthCondition(type: string, view: ControlPlane, facts: StatusFacts, problem: Problem): ConditionInput {
  if (!view.etcdBootstrapped) return { type, status: 'Unknown', reason: 'WaitingForBootstrap', message: 'Waiting for etcd to be bootstrapped' };
  const nodes = [...(facts.nodeServices ?? new Map())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const problems: string[] = [];
  const unknown: string[] = [];
  for (const [name, services] of nodes) {
    if (!services) unknown.push(name);
    else if (!services.reachable) problems.push(`* Machine ${name}: Talos API not answering (${services.error})`);
    else {
      const text = problem(services.services);
      if (text) problems.push(`* Machine ${name}: ${text}`);
    }
  }
  if (problems.length > 0) return { type, status: 'False', reason: 'NotHealthy', message: problems.join('\n') };
  if (unknown.length > 0 || nodes.length === 0) return { type, status: 'Unknown', reason: 'HealthUnknown', message: `Waiting to hear from ${unknown.length > 0 ? unknown.join(', ') : 'the control-plane nodes'}` };
  return { type, status: 'True', reason: 'Healthy', message: '' };
}

/** ControlPlaneComponentsHealthy: the Talos services of every node, then the static pods of every Machine. */
function componentsCondition(view: ControlPlane, facts: StatusFacts): ConditionInput {
  const services = healthCondition(COMPONENTS_HEALTHY, view, facts, servicesProblem);
  if (!view.etcdBootstrapped || !view.seesWorkload || services.status === 'Unknown') return services;
  const pods = [...view.activeMachines.sortedByCreation()].flatMap((m) => {
    const problem = staticPodsProblem(view, m);
    return problem ? [`* Machine ${m.metadata.name}: ${problem}`] : [];
  });
  if (pods.length === 0) return services;
  const lines = [...(services.status === 'False' ? [services.message ?? ''] : []), ...pods];
  return { type: COMPONENTS_HEALTHY, status: 'False', reason: 'NotHealthy', message: lines.join('\n') };
}

function healthConditions(view: ControlPlane, facts: StatusFacts): ConditionInput[] {
  return [healthCondition(ETCD_CLUSTER_HEALTHY, view, facts, etcdProblem), componentsCondition(view, facts)];
}

/**
 * A paused pass (Cluster spec.paused or the cluster.x-k8s.io/paused annotation, as clusterctl move
 * sets): Paused=True at the generation seen, and nothing else changed — no count or condition is
 * recomputed from a control plane that is not being looked after.
 */
export function markPaused(view: ControlPlane, now?: Date): void {
  const status = (view.tcp.status ??= {});
  const paused = { type: PAUSED, status: 'True', reason: 'Paused', message: 'The Cluster or the TalosControlPlane is paused' } as const;
  status.conditions = setCondition(status.conditions, { ...paused, observedGeneration: view.tcp.metadata.generation }, now);
}

/** While the TalosControlPlane is deleted: what the deletion waits for (the only condition then written). */
export function markDeleting(view: ControlPlane, reason: 'WaitingForWorkers' | 'DeletingMachines', message: string, now?: Date): void {
  const status = (view.tcp.status ??= {});
  status.conditions = setCondition(status.conditions, { type: DELETING, status: 'True', reason, message, observedGeneration: view.tcp.metadata.generation }, now);
}

/** Why a Machine is outdated and, with the InPlace strategy, which way it goes. */
function outdatedText(view: ControlPlane, machine: Machine): string {
  const path = rolloutPathOf(view, machine);
  return `${view.outdatedReasons(machine).join('; ')}${path ? ` (${path})` : ''}`;
}

function rolloutMessage(view: ControlPlane, outdated: Machines, waitingText: string | undefined): string {
  const lines = outdated.sortedByCreation().map((m) => `* Machine ${m.metadata.name}: ${outdatedText(view, m)}`);
  const inPlace = view.machinesToUpgradeInPlace().length;
  const how = inPlace === 0 ? '' : inPlace === outdated.size ? ' in place' : ` (${inPlace} in place)`;
  return [`Rolling out ${outdated.size} outdated Machine${outdated.size === 1 ? '' : 's'}${how}${waitingText ? `: ${waitingText}` : ''}`, ...lines].join('\n');
}

function availabilityWait(view: ControlPlane, facts: StatusFacts, readyReplicas: number): string {
  if (!view.etcdBootstrapped) return facts.failure ?? facts.waiting ?? 'Waiting for etcd to be bootstrapped';
  if (!facts.kubeconfigWritten) return facts.failure ?? `Waiting for the ${view.clusterName}-kubeconfig Secret to be written`;
  if (readyReplicas === 0) return 'Waiting for a control-plane Machine to be Ready (its Node Ready)';
  return '';
}

function legacyConditions(current: V1Beta1Condition[] | undefined, view: ControlPlane, available: boolean, facts: StatusFacts, now?: Date): V1Beta1Condition[] {
  let conditions = current;
  conditions = view.etcdBootstrapped
    ? markTrueV1Beta1(conditions, MACHINES_BOOTSTRAPPED, now)
    : markFalseV1Beta1(conditions, MACHINES_BOOTSTRAPPED, 'WaitingForTalosBoot', 'Info', facts.failure ?? facts.waiting ?? 'Waiting for etcd to be bootstrapped', now);
  conditions = available
    ? markTrueV1Beta1(conditions, AVAILABLE, now)
    : markFalseV1Beta1(conditions, AVAILABLE, 'WaitingForTalosBoot', 'Info', availabilityWait(view, facts, view.tcp.status?.readyReplicas ?? 0), now);
  return setV1Beta1(conditions, summaryV1Beta1(conditions, [MACHINES_BOOTSTRAPPED, AVAILABLE]), now);
}
