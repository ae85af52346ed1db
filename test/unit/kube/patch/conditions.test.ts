import { type Condition, getCondition, nowTimestamp, setCondition, summaryCondition } from '../../../../src/kube/patch/conditions';
import { type V1Beta1Condition, getV1Beta1, markFalseV1Beta1, markTrueV1Beta1, summaryV1Beta1 } from '../../../../src/kube/patch/conditions-v1beta1';

const t0 = new Date('2026-01-01T00:00:00.400Z');
const t1 = new Date('2026-01-01T00:05:00Z');

describe('v1beta2 conditions (metav1.Condition)', () => {
  it('serialises timestamps at second precision like metav1.Time', () => {
    expect(nowTimestamp(t0)).toBe('2026-01-01T00:00:00Z');
  });

  it('adds a condition with a transition time and observedGeneration', () => {
    const list = setCondition([], { type: 'Ready', status: 'False', reason: 'Waiting', message: 'm', observedGeneration: 3 }, t0);
    expect(list).toEqual([
      { type: 'Ready', status: 'False', reason: 'Waiting', message: 'm', observedGeneration: 3, lastTransitionTime: '2026-01-01T00:00:00Z' },
    ]);
  });

  it('keeps lastTransitionTime when only reason/message change, and moves it when status changes', () => {
    let list = setCondition([], { type: 'Ready', status: 'False', reason: 'A' }, t0);
    list = setCondition(list, { type: 'Ready', status: 'False', reason: 'B', message: 'still' }, t1);
    expect(getCondition(list, 'Ready')).toMatchObject({ reason: 'B', message: 'still', lastTransitionTime: '2026-01-01T00:00:00Z' });
    list = setCondition(list, { type: 'Ready', status: 'True', reason: 'Done' }, t1);
    expect(getCondition(list, 'Ready')?.lastTransitionTime).toBe('2026-01-01T00:05:00Z');
  });

  it('does not mutate the input list and preserves order of other conditions', () => {
    const original: Condition[] = [
      { type: 'A', status: 'True', reason: 'x', lastTransitionTime: 't' },
      { type: 'B', status: 'True', reason: 'x', lastTransitionTime: 't' },
    ];
    const next = setCondition(original, { type: 'A', status: 'False', reason: 'y' }, t0);
    expect(original[0]!.status).toBe('True');
    expect(next.map((c) => c.type)).toEqual(['A', 'B']);
  });

  it('summarises into Ready: False wins over Unknown, with negative polarity respected', () => {
    const list = [
      { type: 'Available', status: 'True', reason: 'ok', lastTransitionTime: 't' },
      { type: 'EtcdHealthy', status: 'Unknown', reason: 'Probing', lastTransitionTime: 't' },
      { type: 'Deleting', status: 'True', reason: 'DeletionRequested', message: 'being deleted', lastTransitionTime: 't' },
    ] as Condition[];
    const types = ['Available', 'EtcdHealthy', 'Deleting'];
    expect(summaryCondition(list, { forConditionTypes: types, negativePolarity: ['Deleting'] })).toEqual({
      type: 'Ready', status: 'False', reason: 'DeletionRequested', message: '* Deleting: being deleted\n* EtcdHealthy: Probing',
      observedGeneration: undefined,
    });
    expect(summaryCondition(list, { forConditionTypes: ['Available', 'EtcdHealthy'] })).toMatchObject({ status: 'Unknown', reason: 'Probing' });
    expect(summaryCondition(list, { forConditionTypes: ['Available'], type: 'Healthy' })).toMatchObject({ type: 'Healthy', status: 'True', reason: 'Healthy' });
    expect(summaryCondition([], { forConditionTypes: ['Available'] })).toMatchObject({ status: 'Unknown', reason: 'NotReported' });
  });
});

describe('v1beta1 conditions (deprecated CAPI shape)', () => {
  it('keeps Ready first then sorts by type, with severity only on False', () => {
    let list = markTrueV1Beta1([], 'Zeta', t0);
    list = markFalseV1Beta1(list, 'Alpha', 'Broken', 'Error', 'it broke', t0);
    list = markFalseV1Beta1(list, 'Ready', 'Pending', 'Info', 'wait', t0);
    expect(list.map((c) => c.type)).toEqual(['Ready', 'Alpha', 'Zeta']);
    expect(getV1Beta1(list, 'Alpha')).toEqual({
      type: 'Alpha', status: 'False', severity: 'Error', reason: 'Broken', message: 'it broke', lastTransitionTime: '2026-01-01T00:00:00Z',
    });
    expect(getV1Beta1(list, 'Zeta')).toEqual({ type: 'Zeta', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' });
  });

  it('sorts types byte by byte, as Cluster API (Go) does, not by locale', () => {
    let list = markTrueV1Beta1([], 'apiServerHealthy', t0);
    list = markTrueV1Beta1(list, 'EtcdHealthy', t0);
    list = markTrueV1Beta1(list, 'Ready', t0);
    // A locale puts "apiServerHealthy" before "EtcdHealthy"; Go's < puts upper case first.
    expect(list.map((c) => c.type)).toEqual(['Ready', 'EtcdHealthy', 'apiServerHealthy']);
  });

  it('keeps lastTransitionTime while the status stays the same', () => {
    let list = markFalseV1Beta1([], 'A', 'R1', 'Warning', 'one', t0);
    list = markFalseV1Beta1(list, 'A', 'R2', 'Error', 'two', t1);
    expect(getV1Beta1(list, 'A')).toMatchObject({ reason: 'R2', severity: 'Error', lastTransitionTime: '2026-01-01T00:00:00Z' });
    list = markTrueV1Beta1(list, 'A', t1);
    expect(getV1Beta1(list, 'A')).toEqual({ type: 'A', status: 'True', lastTransitionTime: '2026-01-01T00:05:00Z' });
  });

  it('summarises into Ready using the most severe False condition', () => {
    let list = markFalseV1Beta1([], 'A', 'Minor', 'Info', 'minor issue', t0);
    list = markFalseV1Beta1(list, 'B', 'Major', 'Error', 'major issue', t0);
    list = markTrueV1Beta1(list, 'C', t0);
    expect(summaryV1Beta1(list)).toEqual({ type: 'Ready', status: 'False', reason: 'Major', severity: 'Error', message: 'major issue (and 1 more)' });
    expect(summaryV1Beta1(list, ['C'])).toEqual({ type: 'Ready', status: 'True' });
    const probing: V1Beta1Condition = { type: 'C', status: 'Unknown', reason: 'Probing', message: 'p', lastTransitionTime: 't' };
    expect(summaryV1Beta1([...list.filter((c) => c.type !== 'C'), probing], ['C'])).toMatchObject({ status: 'Unknown', reason: 'Probing' });
  });
});
