// Pure decisions of the SimMachine controller: what a simulated node's state means for the
// SimMachine's status, and whether its kubelet should run.
import type { ConditionInput } from '../../../src/kube/patch/conditions';
import type { MachineAddress } from '../../../src/api/capi/v1beta2/types';
import type { NodeState, SimNode } from '../../support/talos-sim';

/** Ready=False reason when Talos rejected the node's config: the Machine never becomes Running. */
export const BOOT_FAILED_REASON = 'BootFailed';

/** One simulator serves many namespaces: the node ID carries both parts of the key. */
export const nodeIdFor = (namespace: string, name: string) => `${namespace}.${name}`;

export const providerIdFor = (namespace: string, name: string) => `sim://${namespace}/${name}`;

export interface NodeObservation {
  /** Sticky: once provisioned, a SimMachine stays provisioned (Cluster API contract). */
  provisioned: boolean;
  nodeState?: NodeState;
  bootError?: string;
  addresses?: MachineAddress[];
  ready: Omit<ConditionInput, 'type'>;
}

const NOT_READY: Partial<Record<NodeState, string>> = {
  stopped: 'NodeStopped',
  rebooting: 'NodeRebooting',
  resetting: 'NodeResetting',
  maintenance: 'NodeInMaintenance',
};

/** What the node answers on: the simulator's loopback address and the hostname it booted with. */
export function addressesOf(node: SimNode): { type: 'InternalIP' | 'Hostname'; address: string }[] {
  const addresses: { type: 'InternalIP' | 'Hostname'; address: string }[] = [{ type: 'InternalIP', address: node.host }];
  if (node.hostname) addresses.push({ type: 'Hostname', address: node.hostname });
  return addresses;
}

/** `node` undefined: the simulator has no node with this SimMachine's ID (yet, or any more). */
export function observeNode(node: SimNode | undefined, wasProvisioned: boolean): NodeObservation {
  if (!node) {
    return wasProvisioned
      ? { provisioned: true, ready: { status: 'False', reason: 'NodeMissing', message: 'the simulated node no longer exists' } }
      : { provisioned: false, ready: { status: 'False', reason: 'WaitingForNode', message: 'the simulated node has not been created yet' } };
  }
  const provisioned = wasProvisioned || node.state === 'running';
  const base = { provisioned, nodeState: node.state, addresses: addressesOf(node) };
  switch (node.state) {
    case 'running':
      return { ...base, ready: { status: 'True', reason: 'NodeRunning', message: '' } };
    case 'failed':
      return { ...base, bootError: node.bootError, ready: { status: 'False', reason: BOOT_FAILED_REASON, message: node.bootError ?? 'the node failed to boot' } };
    case 'booting':
      return { ...base, ready: { status: 'False', reason: 'NodeBooting', message: node.waiting ? `waiting for ${node.waiting}` : 'the node is booting' } };
    default:
      return { ...base, ready: { status: 'False', reason: NOT_READY[node.state] ?? 'NodeNotRunning', message: `the node is ${node.state}` } };
  }
}

export type KubeletPlan = 'start' | 'stop' | 'keep' | 'none';

/**
 * A kubelet runs while the node runs and its cluster's workload apiserver is up. `runningFor` is
 * the server the current kubelet talks to: a new workload apiserver means a new kubelet.
 */
export function kubeletPlan(nodeRunning: boolean, workloadServer: string | undefined, runningFor: string | undefined): KubeletPlan {
  if (nodeRunning && workloadServer) return runningFor === workloadServer ? 'keep' : 'start';
  return runningFor === undefined ? 'none' : 'stop';
}
