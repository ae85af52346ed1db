// The conditions a control-plane provider sets on the Machines it controls (Cluster API v1beta2
// contract, as KCP does): UpToDate, whether a Machine matches the spec and, if not, why and (InPlace
// strategy) whether it is upgraded in place or replaced (Cluster API
// sums it up in the Cluster's ControlPlaneMachinesUpToDate); EtcdMemberHealthy, what the node's
// Events stream says of its etcd member; one condition per other Talos service a control-plane
// node runs (ApidHealthy, ContainerdHealthy, CriHealthy, KubeletHealthy, MachinedHealthy,
// TrustdHealthy); and, as KCP, one per static pod (APIServerPodHealthy, ControllerManagerPodHealthy,
// SchedulerPodHealthy, from their copies in the workload cluster: static-pod-health.ts) once the
// workload cluster is seen (ControlPlaneComponentsHealthy sums services and pods up). Written
// through the patch helper, so the Machine controller's own conditions survive, and only when one
// changed.
import type { Machine } from '../api/capi/v1beta2/types';
import { MachineKind } from '../api/capi/v1beta2/resources';
import type { KubeClient } from '../kube/client/client';
import { isNotFound } from '../kube/client/api-error';
import { getCondition, setCondition, type Condition, type ConditionInput } from '../kube/patch/conditions';
import { PatchHelper } from '../kube/patch/patch-helper';
import { deepCopy } from '../util/json';
import type { ControlPlane } from './control-plane';
import { rolloutPathOf } from './in-place';
import { STATIC_POD_CONDITION_TYPES, staticPodConditions } from './static-pod-health';
import { CONTROL_PLANE_SERVICES, etcdProblem, serviceProblem, type NodeServices, type NodeServicesByMachine, type ServiceState } from './service-watch';

export const MACHINE_UP_TO_DATE = 'UpToDate';
export const MACHINE_ETCD_MEMBER_HEALTHY = 'EtcdMemberHealthy';
type ControlPlaneService = (typeof CONTROL_PLANE_SERVICES)[number];

/** The Machine condition of one Talos service: `kubelet` → KubeletHealthy. */
export const serviceConditionType = (id: ControlPlaneService): string => `${id[0]!.toUpperCase()}${id.slice(1)}Healthy`;

const OWNED = [MACHINE_UP_TO_DATE, MACHINE_ETCD_MEMBER_HEALTHY, ...CONTROL_PLANE_SERVICES.map(serviceConditionType), ...STATIC_POD_CONDITION_TYPES];

/** The Machine's UpToDate condition from the reasons it is outdated (none: up to date). */
export function upToDateCondition(outdatedReasons: readonly string[], generation?: number): ConditionInput {
  const observed = generation === undefined ? {} : { observedGeneration: generation };
  return outdatedReasons.length === 0
    ? { type: MACHINE_UP_TO_DATE, status: 'True', reason: 'UpToDate', message: '', ...observed }
    : { type: MACHINE_UP_TO_DATE, status: 'False', reason: 'NotUpToDate', message: outdatedReasons.map((r) => `* ${r}`).join('\n'), ...observed };
}

type Problem = (services: ReadonlyMap<string, ServiceState>) => string | undefined;

/** A health condition from what the node's Events stream said (undefined: nothing yet). */
function healthCondition(type: string, problemOf: Problem, services: NodeServices | undefined, generation?: number): ConditionInput {
  const observed = generation === undefined ? {} : { observedGeneration: generation };
  if (!services) return { type, status: 'Unknown', reason: 'Inspecting', message: 'Waiting to hear from the node through its Talos API', ...observed };
  if (!services.reachable) return { type, status: 'Unknown', reason: 'InspectionFailed', message: `Talos API not answering (${services.error})`, ...observed };
  const problem = problemOf(services.services);
  return problem
    ? { type, status: 'False', reason: 'NotHealthy', message: problem, ...observed }
    : { type, status: 'True', reason: 'Healthy', message: '', ...observed };
}

/** The Machine's EtcdMemberHealthy condition from what its node's Events stream said (undefined: nothing yet). */
export function etcdMemberCondition(services: NodeServices | undefined, generation?: number): ConditionInput {
  const condition = healthCondition(MACHINE_ETCD_MEMBER_HEALTHY, etcdProblem, services, generation);
  return condition.reason === 'Inspecting' ? { ...condition, reason: 'InspectingMember' } : condition;
}

/** The Machine's condition of Talos service `id` (KubeletHealthy…) from what its node's Events stream said. */
export function serviceCondition(id: ControlPlaneService, services: NodeServices | undefined, generation?: number): ConditionInput {
  return healthCondition(serviceConditionType(id), (known) => serviceProblem(known, id), services, generation);
}

/**
 * Machines (not being deleted) whose conditions must change, with the conditions each should get;
 * the service conditions once the Machine's node can be heard from (it has an address),
 * EtcdMemberHealthy only once etcd is bootstrapped, the static pods' once the workload cluster is
 * seen too.
 */
export function machineConditionChanges(view: ControlPlane, nodeServices: NodeServicesByMachine): Array<{ machine: Machine; conditions: ConditionInput[] }> {
  return [...view.activeMachines]
    .map((machine) => {
      const generation = machine.metadata.generation;
      const path = rolloutPathOf(view, machine);
      const wanted = [upToDateCondition(path ? [...view.outdatedReasons(machine), path] : view.outdatedReasons(machine), generation)];
      const services = nodeServices.get(machine.metadata.name ?? '');
      if (nodeServices.has(machine.metadata.name ?? '')) wanted.push(...CONTROL_PLANE_SERVICES.map((id) => serviceCondition(id, services, generation)));
      if (view.etcdBootstrapped) wanted.push(etcdMemberCondition(services, generation));
      if (view.etcdBootstrapped && view.seesWorkload) wanted.push(...staticPodConditions(view, machine));
      return { machine, conditions: wanted };
    })
    .filter(({ machine, conditions }) => conditions.some((c) => !says(machine, c)));
}

/**
 * Sets `conditions` on a Machine through the patch helper, this controller's (`owned`) winning; a
 * Machine deleted meanwhile is skipped.
 */
export async function patchMachineConditions(client: KubeClient, machine: Machine, conditions: readonly ConditionInput[], owned: readonly string[], signal?: AbortSignal): Promise<void> {
  await editMachineConditions(client, machine, (list) => conditions.reduce<Condition[]>((edited, condition) => setCondition(edited, condition), list ?? []), owned, signal);
}

/** Drops a condition of this controller's from a Machine (a Machine deleted meanwhile is skipped). */
export async function removeMachineCondition(client: KubeClient, machine: Machine, type: string, signal?: AbortSignal): Promise<void> {
  await editMachineConditions(client, machine, (list) => (list ?? []).filter((c) => c.type !== type), [type], signal);
}

async function editMachineConditions(
  client: KubeClient, machine: Machine, edit: (conditions: Condition[] | undefined) => Condition[], owned: readonly string[], signal?: AbortSignal,
): Promise<void> {
  const copy = deepCopy(machine);
  const helper = new PatchHelper<Machine>(client, MachineKind, copy);
  copy.status = { ...(copy.status ?? {}), conditions: edit(copy.status?.conditions) };
  try {
    await helper.patch(copy, { ownedConditions: [...owned], signal });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** The Machine already says this (no write needed). */
export function says(machine: Machine, wanted: ConditionInput): boolean {
  const current = getCondition(machine.status?.conditions, wanted.type);
  return current?.status === wanted.status && current.reason === wanted.reason && (current.message ?? '') === (wanted.message ?? '');
}

/** Writes each change. */
export async function syncMachineConditions(client: KubeClient, view: ControlPlane, nodeServices: NodeServicesByMachine, signal?: AbortSignal): Promise<number> {
  const changes = machineConditionChanges(view, nodeServices);
  for (const { machine, conditions } of changes) await patchMachineConditions(client, machine, conditions, OWNED, signal);
  return changes.length;
}
