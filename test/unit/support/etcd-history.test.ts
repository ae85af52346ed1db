// membershipInvariants judges hand-written etcd histories: what a rollout test asserts on.
import { membershipInvariants } from '../../support/etcd-history';
import type { EtcdEvent, EtcdSample } from '../../support/talos-sim';

/** A sample from "event member: members", members named by hostname, "!" marking one down. */
function sample(line: string): EtcdSample {
  const [, event, member, list] = /^(\w+) (\w+): ?(.*)$/.exec(line)!;
  const members = list!
    .split(' ')
    .filter(Boolean)
    .map((name) => ({ hostname: name.replace('!', ''), id: idOf(name.replace('!', '')), nodeId: name.replace('!', ''), up: !name.endsWith('!') }));
  const upCount = members.filter((m) => m.up).length;
  return {
    time: '2026-01-01T00:00:00.000Z',
    event: event as EtcdEvent,
    member: { hostname: member!, id: idOf(member!), nodeId: member! },
    members,
    memberCount: members.length,
    upCount,
    quorum: upCount > members.length / 2,
  };
}

const idOf = (hostname: string): string => String(10_000_000_000_000_000_000n + BigInt(hostname.charCodeAt(0)));

const history = (...lines: string[]): EtcdSample[] => lines.map(sample);

const creation = history('bootstrap a: a', 'joined b: a b', 'joined c: a b c');

test('a surge rollout keeps quorum and changes one member at a time', () => {
  const rollout = history(
    'joined d: a b c d',
    'left a: b c d',
    'joined e: b c d e',
    'reset b: c d e',
    'joined f: c d e f',
    'removed c: d e f',
  );
  expect(membershipInvariants([creation.at(-1)!, ...rollout])).toEqual({
    quorumAlwaysKept: true,
    maxMembersChangedAtOnce: 1,
    minUp: 3,
    maxMembers: 4,
  });
});

test('a machine deleted before its member is removed is in flux beside the new member', () => {
  const deletedFirst = history('joined d: a b c d', 'deleted a: a! b c d', 'removed a: b c d');
  expect(membershipInvariants([creation.at(-1)!, ...deletedFirst])).toMatchObject({ quorumAlwaysKept: true, maxMembersChangedAtOnce: 2 });
});

test('the cluster forming counts as a scale-up: judge from the last sample before the change', () => {
  expect(membershipInvariants(creation).maxMembersChangedAtOnce).toBe(2);
  const after = [...creation, ...history('joined d: a b c d', 'left a: b c d')];
  expect(membershipInvariants(after.slice(creation.length - 1)).maxMembersChangedAtOnce).toBe(1);
});

test('a rolling reboot has one member down at a time', () => {
  const reboots = history('rebooting a: a! b c', 'started a: a b c', 'rebooting b: a b! c', 'started b: a b c');
  expect(membershipInvariants([...creation, ...reboots].slice(2))).toEqual({
    quorumAlwaysKept: true,
    maxMembersChangedAtOnce: 1,
    minUp: 2,
    maxMembers: 3,
  });
});

test('two of three members down is a quorum loss, reported at the sample that lost it', () => {
  const outage = history('stopped c: a b c!', 'stopped b: a b! c!', 'started b: a b c!', 'started c: a b c');
  const result = membershipInvariants([...creation, ...outage].slice(2));
  expect(result.quorumAlwaysKept).toBe(false);
  expect(result.firstQuorumLoss).toBe(outage[1]);
  expect(result.minUp).toBe(1);
  expect(result.maxMembersChangedAtOnce).toBe(2);
});

test('two members replaced at once count 2 even with quorum kept', () => {
  const surge = history('joined d: a b c d', 'joined e: a b c d e', 'left a: b c d e', 'left b: c d e');
  const result = membershipInvariants([creation.at(-1)!, ...surge]);
  expect(result.quorumAlwaysKept).toBe(true);
  expect(result.maxMembersChangedAtOnce).toBe(2);
  expect(result.maxMembers).toBe(5);
});

test('removing first: each removal settles, the joins after two removals count 2', () => {
  const shrinkFirst = history('left a: b c', 'left b: c', 'joined d: c d', 'joined e: c d e');
  expect(membershipInvariants([creation.at(-1)!, ...shrinkFirst.slice(0, 1)]).maxMembersChangedAtOnce).toBe(0);
  expect(membershipInvariants([creation.at(-1)!, ...shrinkFirst]).maxMembersChangedAtOnce).toBe(2);
});

test('a member removed while another is down counts both', () => {
  const five = history('bootstrap a: a b c d e');
  const result = membershipInvariants([...five, ...history('stopped b: a b! c d e', 'removed a: b! c d e')]);
  expect(result).toMatchObject({ quorumAlwaysKept: true, maxMembersChangedAtOnce: 2, minUp: 3 });
});

test('a history that never had quorum proves nothing', () => {
  expect(membershipInvariants([])).toEqual({ quorumAlwaysKept: false, maxMembersChangedAtOnce: 0, minUp: 0, maxMembers: 0 });
  expect(membershipInvariants(history('stopped a: a! b! c')).quorumAlwaysKept).toBe(false);
});
