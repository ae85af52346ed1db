// The checks every control-plane Machine must pass before the next change (a Machine created or
// removed), as KCP's preflight: it has its Node, its Talos API answers, and etcd and the other
// Talos services run healthy on it — read from the nodes' Events streams and the workload Nodes,
// so nothing is polled. The Machine a removal takes is not checked (it may be the sick one), nor,
// while a remediation is under way, the Machines being remediated. The first check that fails is
// the message the conditions show.
import type { Machine } from '../api/capi/v1beta2/types';
import type { ControlPlane } from './control-plane';
import { isMarkedForRemediation, remediationInProgress } from './remediation';
import { servicesProblem, type NodeServices, type NodeServicesByMachine } from './service-watch';

function machineProblem(view: ControlPlane, machine: Machine, services: NodeServices | undefined): string | undefined {
  if (!view.hasNode(machine)) return 'no Node yet';
  if (!services) return 'not heard from through its Talos API yet';
  if (!services.reachable) return `Talos API not answering (${services.error})`;
  return servicesProblem(services.services);
}

/**
 * Whether a Machine is left out of the checks while a remediation is under way (the looser
 * preflight of KCP, upstream #262/#263): its victim, and any Machine MachineHealthCheck marked —
 * a member that is unhealthy while it is being remediated must not block its own replacement.
 */
function exemptWhileRemediating(view: ControlPlane): (machine: Machine) => boolean {
  const inProgress = remediationInProgress(view.tcp);
  if (!inProgress) return () => false;
  return (machine) => machine.metadata.name === inProgress.machine || isMarkedForRemediation(machine);
}

/** Why the next change must wait, naming the Machine and the check; undefined when every check passes. */
export function preflightBlock(view: ControlPlane, nodeServices: NodeServicesByMachine, exempt?: Machine): string | undefined {
  const remediating = exemptWhileRemediating(view);
  for (const machine of view.activeMachines.sortedByCreation()) {
    const name = machine.metadata.name ?? '';
    if (name === exempt?.metadata.name || remediating(machine)) continue;
    const problem = machineProblem(view, machine, nodeServices.get(name));
    if (problem) return `Waiting for the preflight checks before the next change: Machine ${name}: ${problem}`;
  }
  return undefined;
}
