// Taking a deleting control-plane Machine's member out of etcd (in its pre-terminate hook, see
// pre-terminate.ts). A victim whose Talos API answers with etcd running hands off leadership and
// leaves by itself. One that does not answer (a dead node), or cannot leave, has its member removed
// by ID through a healthy peer: the peer's member list is matched against the victim's Node name
// (Talos names a member after the node's hostname, which is also the Node's name) — never against
// addresses, which a VIP or a reused IP makes ambiguous (upstream #260 removed healthy members that way). Several
// members of that name, or a victim without a Node while some member belongs to no other Machine,
// leave the member alone and wait.
import type { Machine } from '../api/capi/v1beta2/types';
import { unwrapSingle, type EtcdMember } from '../talos/api';
import { errorMessage } from '../util/errors';
import { TALOS_ADMIN, TALOS_READER } from '../cluster/talos-access';
import { countEtcdOperation } from '../metrics/provider-metrics';
import { isMemberOfNode } from './remediation';
import { etcdOf, forfeitAndLeave, servicesOf, type TalosAt } from './scale-down';

export interface MemberRemovalInput {
  victim: Machine;
  /** The other control-plane Machines (a removal goes through a healthy one). */
  others: readonly Machine[];
  /** Whether a Machine runs a healthy etcd member (a removal goes through one of those). */
  isHealthy: (machine: Machine) => boolean;
  talosAt: TalosAt;
  signal: AbortSignal;
  addressOf: (machine: Machine) => string | undefined;
}

/** How the victim's member went: it left, a peer removed it, or it had none. */
export type MemberRemoval = { how: 'left' } | { how: 'removedThroughPeer'; peer: string; member: EtcdMember } | { how: 'noMember' };

export type MemberRemovalOutcome = ({ removed: true } & MemberRemoval) | { removed: false; waiting: string };

export class EtcdMemberRemovalFailed extends Error {
  override readonly name = 'EtcdMemberRemovalFailed';
}

/** The victim left etcd by itself; the reason it could not otherwise (undefined: it left). */
async function leaveByItself(input: MemberRemovalInput): Promise<string | undefined> {
  const { victim, talosAt, signal } = input;
  const address = input.addressOf(victim);
  if (!address) return 'it has no address';
  try {
    const etcd = etcdOf(await servicesOf(talosAt, address, signal));
    if (etcd?.state !== 'Running') return `its etcd is ${etcd ? etcd.state.toLowerCase() : 'not there'}`;
    await forfeitAndLeave(talosAt, address, signal);
    return undefined;
  } catch (error) {
    if (signal.aborted) throw error;
    return errorMessage(error);
  }
}

/** The victim's member in a peer's list, or why it cannot be told apart. */
function victimMember(input: MemberRemovalInput, members: readonly EtcdMember[]): { member?: EtcdMember } | { ambiguous: string } {
  const name = input.victim.metadata.name;
  const nodeName = input.victim.status?.nodeRef?.name;
  if (!nodeName) {
    // Without a Node name, the victim holds no member only if every member is another Machine's.
    const unowned = members.filter((m) => !input.others.some((other) => isMemberOfNode(m.hostname, other.status?.nodeRef?.name)));
    return unowned.length === 0 ? {} : { ambiguous: `Machine ${name} has no Node to tell its etcd member by, and member${unowned.length === 1 ? '' : 's'} ${unowned.map((m) => m.hostname).join(', ')} belong${unowned.length === 1 ? 's' : ''} to no other Machine` };
  }
  const named = members.filter((m) => isMemberOfNode(m.hostname, nodeName));
  if (named.length > 1) return { ambiguous: `${named.length} etcd members are named ${nodeName}` };
  return { member: named[0] };
}

/** Removes the victim's member through the first healthy peer that answers. */
async function removeThroughPeer(input: MemberRemovalInput, why: string): Promise<MemberRemovalOutcome> {
  const { victim, talosAt, signal } = input;
  const problems: string[] = [];
  for (const peer of input.others.filter(input.isHealthy)) {
    const address = input.addressOf(peer);
    if (!address) continue;
    let members: EtcdMember[];
    try {
      members = unwrapSingle(await talosAt(address, TALOS_READER, (talos) => talos.etcdMemberList({}, { signal })), 'EtcdMemberList').members;
    } catch (error) {
      if (signal.aborted) throw error;
      problems.push(`Machine ${peer.metadata.name}: ${errorMessage(error)}`);
      continue;
    }
    const found = victimMember(input, members);
    if ('ambiguous' in found) return { removed: false, waiting: `Waiting to remove the etcd member of Machine ${victim.metadata.name}: ${found.ambiguous}` };
    if (!found.member) return { removed: true, how: 'noMember' };
    const { member } = found;
    try {
      await talosAt(address, TALOS_ADMIN, (talos) =>
        countEtcdOperation('remove_member', talos.etcdRemoveMemberByID(member.id, { signal }).then((replies) => unwrapSingle(replies, 'EtcdRemoveMemberByID'))));
    } catch (error) {
      if (signal.aborted) throw error;
      throw new EtcdMemberRemovalFailed(`Removing etcd member ${member.hostname} of Machine ${victim.metadata.name} through Machine ${peer.metadata.name} failed: ${errorMessage(error)}`, { cause: error });
    }
    return { removed: true, how: 'removedThroughPeer', peer: peer.metadata.name ?? '', member };
  }
  const detail = problems.length > 0 ? problems.join('; ') : 'none has an address';
  return { removed: false, waiting: `Waiting for a healthy etcd member to remove Machine ${victim.metadata.name}'s member through (it could not leave by itself: ${why}): ${detail}` };
}

export async function removeEtcdMember(input: MemberRemovalInput): Promise<MemberRemovalOutcome> {
  const why = await leaveByItself(input);
  return why === undefined ? { removed: true, how: 'left' } : removeThroughPeer(input, why);
}
