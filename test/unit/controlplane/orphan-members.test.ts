import type { Machine } from '../../../src/api/capi/v1beta2/types';
import { orphanMembers, orphanRemovalBlock } from '../../../src/controlplane/orphan-members';
import { REMEDIATION_IN_PROGRESS_ANNOTATION } from '../../../src/controlplane/remediation';
import type { TalosControlPlane } from '../../../src/api/controlplane/v1beta1/types';
import type { EtcdMember } from '../../../src/talos/api';
import { deepFreeze } from '../../../src/util/json';
import { machine, tcp, view } from './fixtures';

const member = (id: string, hostname: string, isLearner = false): EtcdMember => ({ id, hostname, peerUrls: [], clientUrls: [], isLearner });
const [a, b, c] = ['a', 'b', 'c'].map((name) => machine(name, { node: true, address: `10.0.0.${name.charCodeAt(0) - 96}` })) as [Machine, Machine, Machine];
const ALL = new Set(['a', 'b', 'c']);
const bootstrapped = (machines: Machine[], extra: Partial<TalosControlPlane['metadata']> = {}) => {
  const base = tcp({ bootstrapped: true });
  return view(deepFreeze({ ...base, metadata: { ...base.metadata, ...extra } }) as TalosControlPlane, machines);
};

describe('orphan etcd members', () => {
  it('a member named after no control-plane Machine\'s Node is an orphan; Node names match case aside, whoever owns the Machine', () => {
    const members = [member('1', 'A'), member('2', 'b'), member('3', 'c'), member('4', 'gone')];
    expect(orphanMembers(members, [a, b, c])).toEqual([member('4', 'gone')]);
  });

  it('never by address: a member whose node reuses a Machine\'s address but has another name is still an orphan, and one of the right name is not', () => {
    // b's address is 10.0.0.2; an orphan on that address is told apart by its name alone.
    const members = [member('1', 'a'), { ...member('2', 'b'), peerUrls: ['https://10.0.0.9:2380'] }, { ...member('3', 'old-b'), peerUrls: ['https://10.0.0.2:2380'] }];
    expect(orphanMembers(members, [a, b]).map((m) => m.hostname)).toEqual(['old-b']);
  });

  it('a member without a name (added, not started) or a learner is a join in flight, not an orphan', () => {
    expect(orphanMembers([member('1', 'a'), member('2', ''), member('3', 'joining', true)], [a])).toEqual([]);
  });

  it('looked for only while the control plane is otherwise healthy', () => {
    expect(orphanRemovalBlock(bootstrapped([a, b, c]), ALL)).toBeUndefined();
    expect(orphanRemovalBlock(view(tcp(), [a, b, c]), ALL)).toBe('etcd is not bootstrapped');
    expect(orphanRemovalBlock(bootstrapped([a, b, machine('c', { node: true, deleting: true })]), ALL)).toBe('Machine c is being deleted');
    expect(orphanRemovalBlock(bootstrapped([a, b, machine('n', { address: '10.0.0.4' })]), new Set(['a', 'b', 'n']))).toBe('Machine n has no Node yet');
    expect(orphanRemovalBlock(bootstrapped([a, b, c]), new Set(['a', 'b']))).toBe('Machine c does not run a healthy etcd member');
    expect(orphanRemovalBlock(bootstrapped([a, b, machine('c', { node: true, markedForRemediation: true })]), ALL)).toBe('a remediation is under way');
    expect(orphanRemovalBlock(bootstrapped([a, b, c], { annotations: { [REMEDIATION_IN_PROGRESS_ANNOTATION]: '{}' } }), ALL)).toBe('a remediation is under way');
    expect(orphanRemovalBlock(bootstrapped([a, b, machine('c', { node: true, version: 'v1.33.0' })]), ALL)).toBe('a rollout is under way');
  });
});
