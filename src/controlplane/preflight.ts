// The checks every control-plane Machine must pass before the next change (a Machine created or
// removed), as KCP's preflight: it has its Node, its Talos API answers, and etcd and the other
// Talos services run healthy on it — read from the nodes' Events streams and the workload Nodes,
// so nothing is polled. The Machine a removal takes is not checked (it may be the sick one). The
// first check that fails is the message the conditions show.
import type { Machine } from '../api/capi/v1beta2/types';
import type { ControlPlane } from './control-plane';
import { servicesProblem, type NodeServices, type NodeServicesByMachine } from './service-watch';

function machineProblem(view: ControlPlane, machine: Machine, services: NodeServices | undefined): string | undefined {
  if (!view.hasNode(machine)) return 'no Node yet';
  if (!services) return 'not heard from through its Talos API yet';
  if (!services.reachable) return `Talos API not answering (${services.error})`;
  return servicesProblem(services.services);
}

/** Why the next change must wait, naming the Machine and the check; undefined when every check passes. */
export function preflightBlock(view: ControlPlane, nodeServices: NodeServicesByMachine, exempt?: Machine): string | undefined {
  for (const machine of view.activeMachines.sortedByCreation()) {
    const name = machine.metadata.name ?? '';
    if (name === exempt?.metadata.name) continue;
    const problem = machineProblem(view, machine, nodeServices.get(name));
    if (problem) return `Waiting for the preflight checks before the next change: Machine ${name}: ${problem}`;
  }
  return undefined;
}
