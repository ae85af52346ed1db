import type { Machine } from '../../../src/api/capi/v1beta2/types';
import type { TalosControlPlane } from '../../../src/api/controlplane/v1beta1/types';
import { remediationPolicyOf } from '../../../src/api/controlplane/spec';
import {
  etcdRemovalBlock, machineToRemediate, parseRemediationData, planRemediation, recoveredFromRemediation, REMEDIATE_MACHINE_ANNOTATION, REMEDIATION_FOR_ANNOTATION,
  REMEDIATION_IN_PROGRESS_ANNOTATION, remediationInProgress, type RemediationData,
} from '../../../src/controlplane/remediation';
import { deepFreeze } from '../../../src/util/json';
import { machine, tcp, view, type MachineShape, type TcpShape } from './fixtures';

const NOW = new Date('2026-06-01T12:00:00Z');

/** A Machine MachineHealthCheck marked for its owner to remediate. */
const marked = (name: string, shape: MachineShape = {}) => machine(name, { node: true, address: `10.0.0.${name.charCodeAt(0) % 200}`, markedForRemediation: true, ...shape });

const healthy = (name: string, shape: MachineShape = {}) => machine(name, { node: true, address: `10.0.0.${name.charCodeAt(0) % 200}`, ...shape });

function controlPlane(shape: TcpShape & { annotations?: Record<string, string>; remediation?: TalosControlPlane['spec']['remediation'] } = {}): TalosControlPlane {
  const base = tcp({ bootstrapped: true, ...shape });
  return deepFreeze({
    ...base,
    metadata: { ...base.metadata, ...(shape.annotations ? { annotations: shape.annotations } : {}) },
    spec: { ...base.spec, ...(shape.remediation ? { remediation: shape.remediation } : {}) },
  }) as TalosControlPlane;
}

const chain = (data: RemediationData) => ({ [REMEDIATION_FOR_ANNOTATION]: JSON.stringify(data) });

describe('remediationPolicyOf', () => {
  it('defaults: no retry limit, no retry period, a new chain after an hour', () => {
    expect(remediationPolicyOf(controlPlane().spec)).toEqual({ retryPeriodSeconds: 0, minHealthyPeriodSeconds: 3600 });
    expect(remediationPolicyOf(controlPlane({ remediation: { maxRetry: 2, retryPeriodSeconds: 60, minHealthyPeriodSeconds: 600 } }).spec))
      .toEqual({ maxRetry: 2, retryPeriodSeconds: 60, minHealthyPeriodSeconds: 600 });
  });
});

describe('the remediation data annotations', () => {
  it('parse as KCP writes them; anything else is no data, but an in-progress annotation still means in progress', () => {
    expect(parseRemediationData('{"machine":"m","timestamp":"2026-06-01T11:00:00Z","retryCount":2}')).toEqual({ machine: 'm', timestamp: '2026-06-01T11:00:00Z', retryCount: 2 });
    expect(parseRemediationData('not json')).toBeUndefined();
    expect(parseRemediationData('{"machine":1}')).toBeUndefined();
    expect(remediationInProgress(controlPlane({ annotations: { [REMEDIATION_IN_PROGRESS_ANNOTATION]: 'garbage' } }))).toEqual({ machine: '', timestamp: '', retryCount: 0 });
    expect(remediationInProgress(controlPlane())).toBeUndefined();
  });
});

describe('machineToRemediate', () => {
  it('only Machines MachineHealthCheck marked for their owner; the annotated one first, else the oldest', () => {
    const onlyUnhealthy = deepFreeze({ ...healthy('u'), status: { ...healthy('u').status, conditions: [{ type: 'HealthCheckSucceeded', status: 'False', reason: 'R', lastTransitionTime: 't' }] } }) as Machine;
    expect(machineToRemediate(view(controlPlane(), [healthy('a'), onlyUnhealthy]))).toBeUndefined();
    const old = marked('b', { created: '2026-01-01T00:00:00Z' });
    const young = marked('c', { created: '2026-01-02T00:00:00Z' });
    expect(machineToRemediate(view(controlPlane(), [young, healthy('a'), old]))?.metadata.name).toBe('b');
    const asked = marked('d', { created: '2026-01-03T00:00:00Z', annotations: { [REMEDIATE_MACHINE_ANNOTATION]: '' } });
    expect(machineToRemediate(view(controlPlane(), [young, asked, old]))?.metadata.name).toBe('d');
  });
});

describe('recoveredFromRemediation', () => {
  it('Machines healthy again by MachineHealthCheck whose OwnerRemediated still says False; not the ones still marked or never marked', () => {
    const recovered = deepFreeze({
      ...healthy('r'),
      status: { ...healthy('r').status, conditions: [
        { type: 'HealthCheckSucceeded', status: 'True', reason: 'Healthy', lastTransitionTime: 't' },
        { type: 'OwnerRemediated', status: 'False', reason: 'CannotBeRemediated', lastTransitionTime: 't' },
      ] },
    }) as Machine;
    expect(recoveredFromRemediation(view(controlPlane(), [recovered, marked('m'), healthy('h')])).map((m) => m.metadata.name)).toEqual(['r']);
  });
});

describe('planRemediation: the guards, in KCP\'s order', () => {
  const three = (victim: Machine) => [victim, healthy('b'), healthy('c')];

  it('nothing marked: nothing to do', () => {
    expect(planRemediation(view(controlPlane(), [healthy('a'), healthy('b')]), NOW)).toEqual({ action: 'none' });
  });

  it('remediates a marked Machine of a healthy 3-replica control plane, starting a retry chain at 0', () => {
    expect(planRemediation(view(controlPlane(), three(marked('a'))), NOW)).toMatchObject({
      action: 'remediate', machine: { metadata: { name: 'a' } }, data: { machine: 'a', timestamp: '2026-06-01T12:00:00Z', retryCount: 0 },
    });
  });

  it('a victim already being deleted is waited for', () => {
    expect(planRemediation(view(controlPlane(), three(marked('a', { deleting: true }))), NOW))
      .toMatchObject({ action: 'wait', wait: 'inProgress', message: 'Waiting for Machine a to be deleted' });
  });

  it('one at a time: another remediation in progress makes the next wait', () => {
    const inProgress = { [REMEDIATION_IN_PROGRESS_ANNOTATION]: JSON.stringify({ machine: 'x', timestamp: '2026-06-01T11:59:00Z', retryCount: 0 }) };
    expect(planRemediation(view(controlPlane({ annotations: inProgress }), three(marked('a'))), NOW)).toMatchObject({
      action: 'wait', wait: 'inProgress', message: 'Waiting for the remediation of Machine x to finish (its replacement to join) before remediating Machine a',
    });
  });

  it('retryPeriodSeconds: a replacement failing again soon waits until the period has passed', () => {
    const victim = marked('a', { annotations: chain({ machine: 'old', timestamp: '2026-06-01T11:59:00Z', retryCount: 0 }) });
    const plan = planRemediation(view(controlPlane({ remediation: { retryPeriodSeconds: 300 } }), three(victim)), NOW);
    expect(plan).toMatchObject({ action: 'wait', wait: 'deferred', retryAt: Date.parse('2026-06-01T12:04:00Z') });
    expect(plan.action === 'wait' && plan.message).toBe('Machine a replaces Machine old, remediated less than retryPeriodSeconds (300 s) ago: waiting until 2026-06-01T12:04:00.000Z');
  });

  it('within minHealthyPeriodSeconds the chain goes on (retryCount + 1); after it, a new chain starts at 0', () => {
    const victim = (at: string, retryCount: number) => marked('a', { annotations: chain({ machine: 'old', timestamp: at, retryCount }) });
    expect(planRemediation(view(controlPlane(), three(victim('2026-06-01T11:30:00Z', 1))), NOW)).toMatchObject({ action: 'remediate', data: { retryCount: 2 } });
    expect(planRemediation(view(controlPlane(), three(victim('2026-06-01T10:59:59Z', 1))), NOW)).toMatchObject({ action: 'remediate', data: { retryCount: 0 } });
    expect(planRemediation(view(controlPlane({ remediation: { minHealthyPeriodSeconds: 60 } }), three(victim('2026-06-01T11:58:00Z', 4))), NOW))
      .toMatchObject({ action: 'remediate', data: { retryCount: 0 } });
  });

  it('maxRetry: a chain retried that often is refused (unset: no limit)', () => {
    const victim = marked('a', { annotations: chain({ machine: 'old', timestamp: '2026-06-01T11:30:00Z', retryCount: 2 }) });
    const refused = planRemediation(view(controlPlane({ remediation: { maxRetry: 2 } }), three(victim)), NOW);
    expect(refused).toMatchObject({ action: 'wait', wait: 'refused' });
    expect(refused.action === 'wait' && refused.message).toBe('Machine a cannot be remediated: the remediation of Machine old was already retried 2 times (maxRetry 2) within minHealthyPeriodSeconds (3600 s)');
    expect(planRemediation(view(controlPlane({ remediation: { maxRetry: 3 } }), three(victim)), NOW)).toMatchObject({ action: 'remediate', data: { retryCount: 3 } });
    expect(planRemediation(view(controlPlane(), three(victim)), NOW)).toMatchObject({ action: 'remediate', data: { retryCount: 3 } });
  });

  it('never the only replica', () => {
    expect(planRemediation(view(controlPlane({ replicas: 1 }), [marked('a')]), NOW)).toMatchObject({
      action: 'wait', wait: 'refused', message: 'Machine a cannot be remediated: the control plane has only this replica (its etcd member is the only one)',
    });
  });

  it('before etcd is bootstrapped, a failed first Machine is simply replaced', () => {
    expect(planRemediation(view(controlPlane({ bootstrapped: false, replicas: 1 }), [marked('a')]), NOW)).toMatchObject({ action: 'remediate' });
  });

  it('waits while another Machine is provisioning (no Node yet); a marked one that never got its Node does not count', () => {
    const provisioning = machine('p', { address: '10.0.0.9' });
    expect(planRemediation(view(controlPlane(), [marked('a'), healthy('b'), provisioning]), NOW)).toMatchObject({
      action: 'wait', wait: 'deferred', message: 'Waiting for Machine p to finish provisioning (get its Node) before remediating Machine a',
    });
    const stuck = marked('s', { node: false, created: '2026-01-05T00:00:00Z' });
    expect(planRemediation(view(controlPlane(), [marked('a'), healthy('b'), stuck]), NOW)).toMatchObject({ action: 'remediate', machine: { metadata: { name: 'a' } } });
  });

  it('waits while another Machine is being deleted', () => {
    expect(planRemediation(view(controlPlane(), [marked('a'), healthy('b'), healthy('c', { deleting: true })]), NOW)).toMatchObject({
      action: 'wait', wait: 'deferred', message: 'Waiting for Machine c to be deleted before remediating Machine a',
    });
  });
});

describe('etcdRemovalBlock: the target quorum must survive', () => {
  const a = marked('a');
  const [b, c, d, e] = ['b', 'c', 'd', 'e'].map((n) => healthy(n));
  const cp = (machines: Machine[]) => view(controlPlane(), machines);

  it('3 members, the victim down, 2 healthy left of 2: safe', () => {
    expect(etcdRemovalBlock(cp([a, b!, c!]), a, new Set(['b', 'c']), ['a', 'b', 'c'])).toBeUndefined();
  });

  it('the member list unknown (no healthy member answered): waits', () => {
    expect(etcdRemovalBlock(cp([a, b!, c!]), a, new Set(['b', 'c']), undefined)).toBe('Waiting for the etcd member list (no healthy member answered) before remediating Machine a');
  });

  it('never the last healthy member', () => {
    expect(etcdRemovalBlock(cp([a, b!, c!]), a, new Set(['a']), ['a', 'b', 'c'])).toBe('Machine a cannot be remediated now: no other etcd member is healthy (its member may be the last healthy one)');
  });

  it('3 members, another one down too: removing the victim leaves 1 healthy of 2, below quorum', () => {
    expect(etcdRemovalBlock(cp([a, b!, c!]), a, new Set(['b']), ['a', 'b', 'c'])).toBe('Machine a cannot be remediated now: etcd would lose quorum (1 healthy of the 2 members left, 2 needed)');
  });

  it('5 members, one other down: 3 healthy of 4 left meets 3', () => {
    expect(etcdRemovalBlock(cp([a, b!, c!, d!, e!]), a, new Set(['b', 'c', 'd']), ['a', 'b', 'c', 'd', 'e'])).toBeUndefined();
  });

  it('a member no Machine owns counts as unhealthy', () => {
    expect(etcdRemovalBlock(cp([a, b!, c!]), a, new Set(['b', 'c']), ['a', 'b', 'c', 'ghost', 'ghost-2'])).toBe('Machine a cannot be remediated now: etcd would lose quorum (2 healthy of the 4 members left, 3 needed)');
  });

  it('a victim that never got a Node removes no member: the membership stays as it is', () => {
    const noNode = marked('n', { node: false });
    expect(etcdRemovalBlock(cp([noNode, b!, c!]), noNode, new Set(['b', 'c']), ['b', 'c'])).toBeUndefined();
    expect(etcdRemovalBlock(cp([noNode, b!, c!]), noNode, new Set(['b']), ['b', 'c'])).toBe('Machine n cannot be remediated now: etcd would lose quorum (1 healthy of the 2 members left, 2 needed)');
  });

  it('members are matched to Machines by Node name, case aside', () => {
    expect(etcdRemovalBlock(cp([a, b!, c!]), a, new Set(['b', 'c']), ['A', 'B', 'C'])).toBeUndefined();
  });
  it('in a deleting Machine\'s hook: another deleting Machine\'s healthy member still counts (it votes until its own hook), and the messages say removal', () => {
    const victim = healthy('a', { deleting: true });
    const alsoDeleting = healthy('b', { deleting: true });
    expect(etcdRemovalBlock(cp([victim, alsoDeleting, c!]), victim, new Set(['b', 'c']), ['a', 'b', 'c'], true)).toBeUndefined();
    expect(etcdRemovalBlock(cp([victim, alsoDeleting, c!]), victim, new Set(['c']), ['a', 'b', 'c'], true))
      .toBe('The etcd member of Machine a cannot be removed now: etcd would lose quorum (1 healthy of the 2 members left, 2 needed)');
    expect(etcdRemovalBlock(cp([victim, c!]), victim, new Set(['c']), undefined, true)).toBe('Waiting for the etcd member list (no healthy member answered) before removing the etcd member of Machine a');
  });
});
