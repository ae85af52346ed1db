// Removing one control-plane Machine without risking etcd: every other Machine must run a healthy
// etcd member (the membership rule: a member is removed only while the rest stay whole; each node
// is asked about itself); the victim hands off etcd leadership if it answers, then its Machine is
// deleted. Its member leaves after Cluster API drained its Node, in the pre-terminate hook (see
// pre-terminate.ts); a victim that does not answer has its member removed there through a peer.
// Also the Talos calls the hook and remediation share: services, forfeit, leave.
import type { Machine } from '../api/capi/v1beta2/types';
import { unwrapSingle, type ServiceInfo, type TalosClient } from '../talos/api';
import { errorMessage } from '../util/errors';
import { TALOS_ADMIN, TALOS_READER, type TalosRole } from '../cluster/talos-access';
import { etcdServiceHealthy } from './etcd';
import { countEtcdOperation } from '../metrics/provider-metrics';

/** Run one call against the Talos API of the node at `address`, with a certificate of `role`. */
export type TalosAt = <T>(address: string, role: TalosRole, call: (talos: TalosClient) => Promise<T>) => Promise<T>;

/** `forfeited`: the victim was asked to hand off etcd leadership (false: it runs no etcd, or did not answer). */
export type RemovalOutcome = { removed: true; forfeited: boolean } | { removed: false; waiting: string };

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

/** The node hands off etcd leadership (if it leads), counted in the etcd operations metric. */
export const forfeitLeadership = (talos: TalosClient, signal: AbortSignal) =>
  countEtcdOperation('forfeit_leadership', talos.etcdForfeitLeadership({ signal }).then((replies) => unwrapSingle(replies, 'EtcdForfeitLeadership')));

/** The node at `address` hands off etcd leadership (if it leads), then leaves etcd. */
export async function forfeitAndLeave(talosAt: TalosAt, address: string, signal: AbortSignal): Promise<void> {
  await talosAt(address, TALOS_ADMIN, async (talos) => {
    await forfeitLeadership(talos, signal);
    await countEtcdOperation('leave', talos.etcdLeaveCluster({ signal }).then((replies) => unwrapSingle(replies, 'EtcdLeaveCluster')));
  });
}

/**
 * The node at `address` hands off etcd leadership when its etcd runs (true), before its Machine is
 * deleted; a node that does not answer is left alone (false): a dead node leads nothing.
 */
export async function forfeitIfRunning(talosAt: TalosAt, address: string | undefined, signal: AbortSignal): Promise<boolean> {
  if (!address) return false;
  let etcd: ServiceInfo | undefined;
  try {
    etcd = etcdOf(await servicesOf(talosAt, address, signal));
  } catch (error) {
    if (signal.aborted) throw error;
    return false;
  }
  if (etcd?.state !== 'Running') return false;
  await talosAt(address, TALOS_ADMIN, (talos) => forfeitLeadership(talos, signal));
  return true;
}

export async function removeControlPlaneMachine(input: RemovalInput): Promise<RemovalOutcome> {
  const { victim, talosAt, signal } = input;
  const address = input.addressOf(victim);
  if (address) {
    const unhealthy = await unhealthyPeer(input);
    if (unhealthy) return { removed: false, waiting: `Waiting to remove Machine ${victim.metadata.name}: every other member must be healthy first (${unhealthy})` };
  }
  // Never reported an address: it never booted, so it holds no etcd member.
  const forfeited = await forfeitIfRunning(talosAt, address, signal);
  await input.deleteMachine(victim);
  return { removed: true, forfeited };
}
