// MachineHealthCheck remediation of control-plane Machines, the decisions only (as KCP): which
// Machine goes (only ones MHC marked for their owner; `remediate-machine` first, else the oldest)
// and whether it may go now, each guard in KCP's order with its message — one remediation at a
// time, the retry limits of `spec.remediation`, more than one replica, nothing provisioning or
// being deleted, and etcd: the member list known, never the last healthy member, and the quorum of
// the membership after the removal still met by the healthy members left. A retry chain is carried
// from remediation to replacement in the `remediation-for` annotation; a Machine found healthy
// again loses the OwnerRemediated condition a blocked remediation left on it. Pure: no I/O.
import type { Machine } from '../api/capi/v1beta2/types';
import type { TalosControlPlane } from '../api/controlplane/v1beta1/types';
import { remediationPolicyOf } from '../api/controlplane/spec';
import { HEALTH_CHECK_SUCCEEDED_CONDITION, isDeleting, needsOwnerRemediation, OWNER_REMEDIATED_CONDITION } from '../cluster/machines';
import { getCondition } from '../kube/patch/conditions';
import type { ControlPlane } from './control-plane';

/** Set on a Machine (by a user or a tool) to have it remediated before the others. */
export const REMEDIATE_MACHINE_ANNOTATION = 'cluster.x-k8s.io/remediate-machine';
/** On the TalosControlPlane from the victim's deletion until its replacement joined. */
export const REMEDIATION_IN_PROGRESS_ANNOTATION = 'controlplane.cluster.x-k8s.io/remediation-in-progress';
/** On a replacement Machine: the remediation it replaces (the retry chain). */
export const REMEDIATION_FOR_ANNOTATION = 'controlplane.cluster.x-k8s.io/remediation-for';

/** What the two annotations hold (JSON), as KCP's. */
export interface RemediationData {
  machine: string;
  /** When the remediation started (RFC 3339). */
  timestamp: string;
  retryCount: number;
}

/** The annotation's data; undefined when absent or not what it should be. */
export function parseRemediationData(value: string | undefined): RemediationData | undefined {
  if (value === undefined) return undefined;
  try {
    const data = JSON.parse(value) as Partial<RemediationData>;
    if (typeof data.machine !== 'string' || typeof data.timestamp !== 'string') return undefined;
    return { machine: data.machine, timestamp: data.timestamp, retryCount: Number.isInteger(data.retryCount) ? data.retryCount! : 0 };
  } catch {
    return undefined;
  }
}

/** The remediation under way on this control plane, if any. */
export function remediationInProgress(tcp: TalosControlPlane): RemediationData | undefined {
  const value = tcp.metadata.annotations?.[REMEDIATION_IN_PROGRESS_ANNOTATION];
  // A value that does not parse still means a remediation is under way (none is started twice).
  return value === undefined ? undefined : parseRemediationData(value) ?? { machine: '', timestamp: '', retryCount: 0 };
}

/** Marked by MachineHealthCheck for the control plane to remediate. */
export const isMarkedForRemediation = needsOwnerRemediation;

/**
 * Machines MachineHealthCheck found healthy again while their OwnerRemediated still says False (a
 * remediation that was blocked): the condition is dropped, as KCP does.
 */
export function recoveredFromRemediation(view: ControlPlane): Machine[] {
  const says = (machine: Machine, type: string, status: string) => getCondition(machine.status?.conditions, type)?.status === status;
  return view.activeMachines.sortedByCreation().filter((m) => says(m, HEALTH_CHECK_SUCCEEDED_CONDITION, 'True') && says(m, OWNER_REMEDIATED_CONDITION, 'False'));
}

/** The Machine remediated next: one annotated `remediate-machine` first, else the oldest marked one. */
export function machineToRemediate(view: ControlPlane): Machine | undefined {
  const marked = view.machines.filter(isMarkedForRemediation).sortedByCreation();
  return marked.find((m) => REMEDIATE_MACHINE_ANNOTATION in (m.metadata.annotations ?? {})) ?? marked[0];
}

/**
 * Why a remediation waits: `inProgress` (another one is under way, or the victim is being deleted),
 * `deferred` (it can proceed once the cluster changes or time passes), `refused` (it cannot
 * proceed as things are: one replica, or maxRetry reached). KCP's Machine reasons follow.
 */
export type RemediationWait = 'inProgress' | 'deferred' | 'refused';

export type RemediationPlan =
  | { action: 'none' }
  | { action: 'wait'; machine: Machine; wait: RemediationWait; message: string; retryAt?: number }
  | { action: 'remediate'; machine: Machine; data: RemediationData };

const secondsText = (seconds: number) => `${seconds} s`;

/**
 * The retry chain (KCP): a victim that is itself a replacement, remediated less than
 * minHealthyPeriodSeconds after the remediation it replaced, continues that chain — not before
 * retryPeriodSeconds have passed, and only while fewer than maxRetry retries were made. Else a new
 * chain starts at 0.
 */
function retryGuard(view: ControlPlane, victim: Machine, now: Date): { data: RemediationData } | { wait: RemediationWait; message: string; retryAt?: number } {
  const name = victim.metadata.name ?? '';
  const data: RemediationData = { machine: name, timestamp: now.toISOString().replace(/\.\d{3}Z$/, 'Z'), retryCount: 0 };
  const previous = parseRemediationData(victim.metadata.annotations?.[REMEDIATION_FOR_ANNOTATION]);
  if (!previous) return { data };
  const policy = remediationPolicyOf(view.tcp.spec);
  const at = Date.parse(previous.timestamp);
  // Without a time, both periods count as passed (KCP does the same).
  if (!Number.isFinite(at) || now.getTime() >= at + policy.minHealthyPeriodSeconds * 1000) return { data };
  const retryAt = at + policy.retryPeriodSeconds * 1000;
  if (now.getTime() < retryAt) {
    return {
      wait: 'deferred', retryAt,
      message: `Machine ${name} replaces Machine ${previous.machine}, remediated less than retryPeriodSeconds (${secondsText(policy.retryPeriodSeconds)}) ago: waiting until ${new Date(retryAt).toISOString()}`,
    };
  }
  if (policy.maxRetry !== undefined && previous.retryCount >= policy.maxRetry) {
    return {
      wait: 'refused',
      message: `Machine ${name} cannot be remediated: the remediation of Machine ${previous.machine} was already retried ${previous.retryCount} times (maxRetry ${policy.maxRetry}) within minHealthyPeriodSeconds (${secondsText(policy.minHealthyPeriodSeconds)})`,
    };
  }
  return { data: { ...data, retryCount: previous.retryCount + 1 } };
}

/**
 * Every guard but etcd's (which needs the member list, see etcdRemovalBlock), in KCP's order.
 * `now` decides the retry periods.
 */
export function planRemediation(view: ControlPlane, now: Date): RemediationPlan {
  const victim = machineToRemediate(view);
  if (!victim) return { action: 'none' };
  const name = victim.metadata.name ?? '';
  const wait = (kind: RemediationWait, message: string, retryAt?: number): RemediationPlan => ({ action: 'wait', machine: victim, wait: kind, message, ...(retryAt !== undefined ? { retryAt } : {}) });
  if (isDeleting(victim)) return wait('inProgress', `Waiting for Machine ${name} to be deleted`);
  const inProgress = remediationInProgress(view.tcp);
  if (inProgress) {
    return wait('inProgress', `Waiting for the remediation of Machine ${inProgress.machine || '(unknown)'} to finish (its replacement to join) before remediating Machine ${name}`);
  }
  const retry = retryGuard(view, victim, now);
  if ('wait' in retry) return wait(retry.wait, retry.message, retry.retryAt);
  // Before etcd runs there is no member to lose: a failed first Machine is simply replaced.
  if (!view.etcdBootstrapped) return { action: 'remediate', machine: victim, data: retry.data };

  if (view.machines.size <= 1) return wait('refused', `Machine ${name} cannot be remediated: the control plane has only this replica (its etcd member is the only one)`);
  const provisioning = view.activeMachines.sortedByCreation().find((m) => m !== victim && !view.hasNode(m) && !isMarkedForRemediation(m));
  if (provisioning) return wait('deferred', `Waiting for Machine ${provisioning.metadata.name} to finish provisioning (get its Node) before remediating Machine ${name}`);
  const deleting = view.deletingMachine();
  if (deleting) return wait('deferred', `Waiting for Machine ${deleting.metadata.name} to be deleted before remediating Machine ${name}`);
  return { action: 'remediate', machine: victim, data: retry.data };
}

/** An etcd member's hostname is a Node's name: Talos names both after the node's hostname. */
export const isMemberOfNode = (hostname: string, nodeName: string | undefined): boolean =>
  nodeName !== undefined && nodeName !== '' && hostname.toLowerCase() === nodeName.toLowerCase();

/**
 * Why removing the victim's etcd member would put etcd at risk (undefined: it would not), to
 * remediate it or, once it is deleted, in its pre-terminate hook (`forHook`). The membership is
 * `members` (hostnames, read from a healthy member; undefined: could not be read); a member is
 * healthy when its Node belongs to a Machine in `healthyOn` (a deleting one too: it still votes),
 * and a member no Machine owns counts as unhealthy. The victim's member is the one named after its Node.
 */
export function etcdRemovalBlock(view: ControlPlane, victim: Machine, healthyOn: ReadonlySet<string>, members: readonly string[] | undefined, forHook = false): string | undefined {
  const name = victim.metadata.name ?? '';
  if (!view.etcdBootstrapped) return undefined;
  const before = forHook ? `removing the etcd member of Machine ${name}` : `remediating Machine ${name}`;
  const cannot = forHook ? `The etcd member of Machine ${name} cannot be removed now` : `Machine ${name} cannot be remediated now`;
  if (!members) return `Waiting for the etcd member list (no healthy member answered) before ${before}`;
  const victimNode = victim.status?.nodeRef?.name;
  const others = members.filter((hostname) => !isMemberOfNode(hostname, victimNode));
  const healthy = others.filter((hostname) =>
    view.machines.any((m) => m !== victim && healthyOn.has(m.metadata.name ?? '') && isMemberOfNode(hostname, m.status?.nodeRef?.name)));
  if (healthy.length === 0) return `${cannot}: no other etcd member is healthy (its member may be the last healthy one)`;
  const quorum = Math.floor(others.length / 2) + 1;
  if (healthy.length < quorum) {
    return `${cannot}: etcd would lose quorum (${healthy.length} healthy of the ${others.length} members left, ${quorum} needed)`;
  }
  return undefined;
}
