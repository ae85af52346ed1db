// Judges a simulated etcd cluster's membership history (TalosSimControl.etcdHistory()) the way a
// control-plane rollout test needs: quorum is never lost, and never more than one member is in flux.
import type { EtcdSample } from './talos-sim';

export interface MembershipInvariants {
  /** Some sample had quorum and none after the first such sample lacked it. */
  quorumAlwaysKept: boolean;
  /** The most members in flux in one sample (see membershipInvariants). */
  maxMembersChangedAtOnce: number;
  /** The fewest members up, from the first sample with quorum on (0 when none had quorum). */
  minUp: number;
  /** The most members, from the first sample with quorum on (0 when none had quorum). */
  maxMembers: number;
  /** The first sample without quorum after one with quorum. */
  firstQuorumLoss?: EtcdSample;
}

/**
 * Samples before the first one with quorum are ignored (the cluster is still forming). From it on:
 *
 * - The *reference* is a member set: first that of the first sample with quorum; then every
 *   *settled* sample's — one in which every member is up and there are no more members than in the
 *   reference (a scale-up is not settled until a member goes).
 * - A settled sample has no member in flux. Any other sample has, in flux, the reference's members
 *   that are down, plus the larger of: members added since the reference, reference members gone
 *   (a member replaced by a new one is one change).
 *
 * So a surge rollout (join the new member, then remove an old one), a shrink-first one or a rolling
 * reboot has at most one member in flux; two members joining, a removal while another member is
 * down, or two reboots at once count 2. Judge a window: the cluster's creation (bootstrap, then joins) counts as a
 * scale-up, so pass the history from its last sample before the change under test, e.g.
 * `after.slice(before.length - 1)`.
 */
export function membershipInvariants(samples: readonly EtcdSample[]): MembershipInvariants {
  const start = samples.findIndex((sample) => sample.quorum);
  if (start < 0) return { quorumAlwaysKept: false, maxMembersChangedAtOnce: 0, minUp: 0, maxMembers: 0 };

  const judged = samples.slice(start);
  let reference = memberIds(judged[0]!);
  let maxMembersChangedAtOnce = 0;

  for (const sample of judged) {
    if (settled(sample, reference)) {
      reference = memberIds(sample);
      continue;
    }
    maxMembersChangedAtOnce = Math.max(maxMembersChangedAtOnce, membersInFlux(sample, reference));
  }

  const firstQuorumLoss = judged.find((sample) => !sample.quorum);
  return {
    quorumAlwaysKept: firstQuorumLoss === undefined,
    maxMembersChangedAtOnce,
    minUp: Math.min(...judged.map((sample) => sample.upCount)),
    maxMembers: Math.max(...judged.map((sample) => sample.memberCount)),
    ...(firstQuorumLoss && { firstQuorumLoss }),
  };
}

function memberIds(sample: EtcdSample): Set<string> {
  return new Set(sample.members.map((member) => member.id));
}

function settled(sample: EtcdSample, reference: ReadonlySet<string>): boolean {
  return sample.memberCount > 0 && sample.upCount === sample.memberCount && sample.memberCount <= reference.size;
}

function membersInFlux(sample: EtcdSample, reference: ReadonlySet<string>): number {
  const present = memberIds(sample);
  const added = sample.members.filter((member) => !reference.has(member.id)).length;
  const gone = [...reference].filter((id) => !present.has(id)).length;
  const down = sample.members.filter((member) => !member.up && reference.has(member.id)).length;
  return down + Math.max(added, gone);
}
