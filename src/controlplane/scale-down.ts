// Removing one control-plane Machine without risking etcd: every other Machine must run a healthy
// etcd member (the membership rule: a member is removed only while the rest stay whole, and never
// by matching names or addresses against a member list: each node is asked about itself); the
// victim hands off leadership and leaves etcd itself; only then is its Machine deleted. A victim
// that does not answer is waited for, a failed leave stops the deletion, and a victim whose etcd
// already left (an earlier pass that died before deleting) is deleted at once.
import type { Machine } from '../api/capi/v1beta2/types';
import { unwrapSingle, type ServiceInfo, type TalosClient } from '../talos/api';
import { errorMessage } from '../util/errors';
import { TALOS_ADMIN, TALOS_READER, type TalosRole } from '../cluster/talos-access';
import { etcdServiceHealthy } from './etcd';
import { countEtcdOperation } from '../metrics/provider-metrics';

/** Run one call against the Talos API of the node at `address`, with a certificate of `role`. */
export type TalosAt = <T>(address: string, role: TalosRole, call: (talos: TalosClient) => Promise<T>) => Promise<T>;

export type RemovalOutcome = { removed: true; left: boolean } | { removed: false; waiting: string };

export interface RemovalInput {
  victim: Machine;
  /** The other control-plane Machines not being deleted. */
  others: readonly Machine[];
  talosAt: TalosAt;
  signal: AbortSignal;
  deleteMachine: (machine: Machine) => Promise<void>;
  /** Where a Machine's own Talos API answers (see ControlPlane.talosAddress). */
  addressOf: (machine: Machine) => string | undefined;
}

/** The etcd service of a node that answers: undefined when it has none (a worker, or wiped). */
export const etcdOf = (services: readonly ServiceInfo[]) => services.find((service) => service.id === 'etcd');

/** etcd on the node has stopped for good after a leave (Talos marks the service Finished). */
const etcdLeft = (etcd: ServiceInfo | undefined) => etcd === undefined || etcd.state === 'Finished';

export class EtcdLeaveFailed extends Error {
  override readonly name = 'EtcdLeaveFailed';
}

export async function servicesOf(talosAt: TalosAt, address: string, signal: AbortSignal): Promise<ServiceInfo[]> {
  return unwrapSingle(await talosAt(address, TALOS_READER, (talos) => talos.serviceList({ signal })), 'ServiceList');
}

/** The first other Machine that does not run a healthy etcd member, with what is wrong. */
async function unhealthyPeer(input: RemovalInput): Promise<string | undefined> {
  for (const machine of input.others) {
    const name = machine.metadata.name;
    const address = input.addressOf(machine);
    if (!address) return `Machine ${name} has no address yet`;
    try {
      if (!etcdServiceHealthy(await servicesOf(input.talosAt, address, input.signal))) return `etcd on Machine ${name} (${address}) is not healthy`;
    } catch (error) {
      if (input.signal.aborted) throw error;
      return `Machine ${name} (${address}) does not answer the Talos API: ${errorMessage(error)}`;
    }
  }
  return undefined;
}

/** The node at `address` hands off etcd leadership (if it leads), then leaves etcd. */
export async function forfeitAndLeave(talosAt: TalosAt, address: string, signal: AbortSignal): Promise<void> {
  await talosAt(address, TALOS_ADMIN, async (talos) => {
    await countEtcdOperation('forfeit_leadership', talos.etcdForfeitLeadership({ signal }).then((replies) => unwrapSingle(replies, 'EtcdForfeitLeadership')));
    await countEtcdOperation('leave', talos.etcdLeaveCluster({ signal }).then((replies) => unwrapSingle(replies, 'EtcdLeaveCluster')));
  });
}

export async function removeControlPlaneMachine(input: RemovalInput): Promise<RemovalOutcome> {
  const { victim, talosAt, signal } = input;
  const name = victim.metadata.name;
  const address = input.addressOf(victim);
  if (!address) {
    // Never reported an address: it never booted, so it holds no etcd member.
    await input.deleteMachine(victim);
    return { removed: true, left: false };
  }
  const unhealthy = await unhealthyPeer(input);
  if (unhealthy) return { removed: false, waiting: `Waiting to remove Machine ${name}: every other member must be healthy first (${unhealthy})` };

  let etcd: ServiceInfo | undefined;
  try {
    etcd = etcdOf(await servicesOf(talosAt, address, signal));
  } catch (error) {
    if (signal.aborted) throw error;
    return { removed: false, waiting: `Waiting for Machine ${name} (${address}) to answer the Talos API so that it can leave etcd: ${errorMessage(error)}` };
  }
  if (etcdLeft(etcd)) {
    await input.deleteMachine(victim);
    return { removed: true, left: false };
  }
  try {
    await forfeitAndLeave(talosAt, address, signal);
  } catch (error) {
    if (signal.aborted) throw error;
    throw new EtcdLeaveFailed(`Machine ${name} (${address}) could not leave etcd, so it is not deleted: ${errorMessage(error)}`, { cause: error });
  }
  await input.deleteMachine(victim);
  return { removed: true, left: true };
}
