// etcd members no control-plane Machine accounts for (a Machine deleted without its pre-terminate
// hook, a node joined by hand): the decisions only. A member is an orphan when its name is no
// control-plane Machine's Node name — any Machine of the cluster, whoever owns it, deleting ones
// included — and never by address (upstream #260 removed two of three healthy members by matching
// addresses). One is removed only while the control plane is otherwise healthy: etcd bootstrapped,
// no Machine deleting, every Machine with its Node and a healthy member, no rollout and no
// remediation under way. A member without a name (added, not started yet) or a learner is left
// alone: it is a join in flight. Pure: no I/O.
import type { Machine } from '../api/capi/v1beta2/types';
import type { EtcdMember } from '../talos/api';
import { isDeleting } from '../cluster/machines';
import type { ControlPlane } from './control-plane';
import { isMarkedForRemediation, isMemberOfNode, remediationInProgress } from './remediation';

/** Why orphan members are not looked for now (undefined: they are). */
export function orphanRemovalBlock(view: ControlPlane, healthyOn: ReadonlySet<string>): string | undefined {
  if (!view.etcdBootstrapped) return 'etcd is not bootstrapped';
  const deleting = view.machines.filter(isDeleting).oldest();
  if (deleting) return `Machine ${deleting.metadata.name} is being deleted`;
  if (remediationInProgress(view.tcp) || view.machines.any(isMarkedForRemediation)) return 'a remediation is under way';
  if (view.machinesNeedingRollout().size > 0) return 'a rollout is under way';
  for (const machine of view.machines.sortedByCreation()) {
    if (!machine.status?.nodeRef?.name) return `Machine ${machine.metadata.name} has no Node yet`;
    if (!healthyOn.has(machine.metadata.name ?? '')) return `Machine ${machine.metadata.name} does not run a healthy etcd member`;
  }
  return undefined;
}

/** The members named after no Machine's Node in `controlPlaneMachines` (every control-plane Machine of the cluster). */
export function orphanMembers(members: readonly EtcdMember[], controlPlaneMachines: readonly Machine[]): EtcdMember[] {
  return members.filter((member) => member.hostname !== '' && !member.isLearner &&
    !controlPlaneMachines.some((machine) => isMemberOfNode(member.hostname, machine.status?.nodeRef?.name)));
}
