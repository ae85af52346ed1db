import type { KubeObject } from '../../../../src/kube/meta/object';
import { diffConditions, isEmptyPlan, mergeConditions, mergePatch, planPatch } from '../../../../src/kube/patch/patch-diff';

const cond = (type: string, status: string, reason = 'R') => ({ type, status, reason, lastTransitionTime: 't' });

function object(extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Thing',
    metadata: { name: 'a', namespace: 'ns', resourceVersion: '5', labels: { x: '1' }, finalizers: ['f1'] },
    ...extra,
  } as KubeObject;
}

describe('mergePatch (RFC 7386 diff)', () => {
  it('is undefined for equal documents (no request at all)', () => {
    expect(mergePatch({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toBeUndefined();
  });

  it('contains only changed leaves, nulls for removed keys, whole arrays', () => {
    const before = { a: 1, b: { c: 1, d: 2 }, list: [1, 2], gone: 'x' };
    const after = { a: 1, b: { c: 1, d: 3, e: 4 }, list: [1, 2, 3] };
    expect(mergePatch(before, after)).toEqual({ b: { d: 3, e: 4 }, list: [1, 2, 3], gone: null });
  });

  it('treats undefined fields as absent', () => {
    expect(mergePatch({ a: 1 }, { a: 1, b: undefined })).toBeUndefined();
  });
});

describe('planPatch', () => {
  it('is empty when nothing changed, whatever the server-managed metadata', () => {
    const before = object({ spec: { n: 1 }, status: { phase: 'A' } });
    const after = object({ spec: { n: 1 }, status: { phase: 'A' } });
    after.metadata.resourceVersion = '6';
    after.metadata.managedFields = [{}] as never;
    expect(isEmptyPlan(planPatch(before, after))).toBe(true);
  });

  it('splits metadata/spec from status and leaves condition lists out of both', () => {
    const before = object({ spec: { n: 1 }, status: { phase: 'A', conditions: [cond('Ready', 'False')] } });
    const after = object({ spec: { n: 2 }, status: { phase: 'B', conditions: [cond('Ready', 'True')] } });
    after.metadata.labels = { x: '1', y: '2' };
    const plan = planPatch(before, after);
    expect(plan.main).toEqual({ metadata: { labels: { y: '2' } }, spec: { n: 2 } });
    expect(plan.status).toEqual({ phase: 'B' });
    expect(plan.conditions).toHaveLength(1);
    expect(plan.conditions[0]!.path).toEqual(['status', 'conditions']);
    expect(plan.finalizersChanged).toBe(false);
  });

  it('detects condition-only changes in the v1beta1 deprecated location', () => {
    const before = object({ status: { deprecated: { v1beta1: { conditions: [cond('Ready', 'False')] } } } });
    const after = object({ status: { deprecated: { v1beta1: { conditions: [cond('Ready', 'True')] } } } });
    const plan = planPatch(before, after);
    expect(plan.main).toBeUndefined();
    expect(plan.status).toBeUndefined();
    expect(plan.conditions.map((c) => c.path)).toEqual([['status', 'deprecated', 'v1beta1', 'conditions']]);
  });

  it('flags finalizer edits so that the patch carries a resourceVersion precondition', () => {
    const after = object();
    after.metadata.finalizers = [];
    expect(planPatch(object(), after).finalizersChanged).toBe(true);
  });
});

describe('condition merging', () => {
  it('records what this writer set and removed', () => {
    const changes = diffConditions([cond('A', 'True'), cond('B', 'True')], [cond('A', 'False'), cond('C', 'True')]);
    expect([...changes.set.keys()]).toEqual(['A', 'C']);
    expect([...changes.removed]).toEqual(['B']);
  });

  it('applies only this writer\'s changes onto the latest list: other writers\' conditions survive', () => {
    const before = [cond('Ready', 'False')];
    const mine = [cond('Ready', 'True')];
    const latest = [cond('Ready', 'False'), cond('ExternalCheck', 'True')]; // another writer added ExternalCheck
    const merged = mergeConditions(latest, diffConditions(before, mine), mine);
    expect(merged).toEqual([cond('Ready', 'True'), cond('ExternalCheck', 'True')]);
  });

  it('lets this writer win on types it changed even if another writer changed them too', () => {
    const merged = mergeConditions([cond('Ready', 'Unknown', 'Theirs')], diffConditions([cond('Ready', 'False')], [cond('Ready', 'True')]), [cond('Ready', 'True')]);
    expect(merged).toEqual([cond('Ready', 'True')]);
  });

  it('forces owned types to this writer\'s version, and drops owned types it no longer has', () => {
    const desired = [cond('Ready', 'True'), cond('Other', 'True')];
    const latest = [cond('Ready', 'False', 'Theirs'), cond('Stale', 'True'), cond('Foreign', 'True')];
    const changes = diffConditions([cond('Other', 'False')], desired);
    expect(mergeConditions(latest, changes, desired, ['Ready', 'Stale'])).toEqual([
      cond('Ready', 'True'), cond('Foreign', 'True'), cond('Other', 'True'),
    ]);
  });
});
