import type { KubeObject } from '../../../src/kube/object';
import {
  PAUSED_ANNOTATION, WATCH_FILTER_LABEL, allow, and, annotationsChanged, clusterPausedTransitions, clusterUnpaused,
  generationChanged, hasWatchFilterLabel, labelsChanged, or, resourceNotPaused, resourceVersionChanged,
} from '../../../src/kube/predicates';

function obj(meta: Partial<KubeObject['metadata']> = {}, spec?: Record<string, unknown>): KubeObject {
  return { metadata: { name: 'x', namespace: 'ns', ...meta }, ...(spec ? { spec } : {}) } as KubeObject;
}

describe('Cluster API predicates', () => {
  it('drops events of objects with the paused annotation (any value)', () => {
    const p = [resourceNotPaused()];
    expect(allow(p, 'create', obj())).toBe(true);
    expect(allow(p, 'create', obj({ annotations: { [PAUSED_ANNOTATION]: '' } }))).toBe(false);
    expect(allow(p, 'update', obj({ annotations: { [PAUSED_ANNOTATION]: 'true' } }), obj())).toBe(false);
    expect(allow(p, 'delete', obj({ annotations: { [PAUSED_ANNOTATION]: 'true' } }))).toBe(false);
  });

  it('passes only objects with the matching watch-filter label when a filter is set', () => {
    const labelled = obj({ labels: { [WATCH_FILTER_LABEL]: 'team-a' } });
    const other = obj({ labels: { [WATCH_FILTER_LABEL]: 'team-b' } });
    expect(allow([hasWatchFilterLabel('team-a')], 'create', labelled)).toBe(true);
    expect(allow([hasWatchFilterLabel('team-a')], 'create', other)).toBe(false);
    expect(allow([hasWatchFilterLabel('team-a')], 'create', obj())).toBe(false);
    expect(allow([hasWatchFilterLabel('')], 'create', obj())).toBe(true);
    expect(allow([hasWatchFilterLabel(undefined)], 'delete', other)).toBe(true);
  });

  it('reacts to Cluster pause transitions, not to every Cluster update', () => {
    const p = [clusterPausedTransitions()];
    const paused = obj({}, { paused: true });
    const running = obj({}, { paused: false });
    expect(allow(p, 'update', running, paused)).toBe(true);
    expect(allow(p, 'update', paused, running)).toBe(true);
    expect(allow(p, 'update', running, running)).toBe(false);
    expect(allow(p, 'create', paused)).toBe(false);
    expect(allow(p, 'create', running)).toBe(true);
    expect(allow([clusterUnpaused()], 'update', paused, running)).toBe(false);
  });
});

describe('change predicates', () => {
  it('passes updates only when generation changed; creates and deletes always pass', () => {
    const p = [generationChanged()];
    expect(allow(p, 'update', obj({ generation: 2 }), obj({ generation: 1 }))).toBe(true);
    expect(allow(p, 'update', obj({ generation: 1, labels: { a: 'b' } }), obj({ generation: 1 }))).toBe(false);
    expect(allow(p, 'create', obj())).toBe(true);
    expect(allow(p, 'delete', obj())).toBe(true);
  });

  it('detects label, annotation and resourceVersion changes', () => {
    expect(allow([labelsChanged()], 'update', obj({ labels: { a: '1' } }), obj({ labels: { a: '2' } }))).toBe(true);
    expect(allow([labelsChanged()], 'update', obj({ labels: { a: '1' } }), obj({ labels: { a: '1' } }))).toBe(false);
    expect(allow([annotationsChanged()], 'update', obj({ annotations: {} }), obj())).toBe(false);
    expect(allow([annotationsChanged()], 'update', obj({ annotations: { k: 'v' } }), obj())).toBe(true);
    const same = obj({ resourceVersion: '7' });
    expect(allow([resourceVersionChanged()], 'update', same, same)).toBe(false);
  });

  it('combines with and/or', () => {
    const paused = obj({ generation: 2, annotations: { [PAUSED_ANNOTATION]: 'true' } });
    const previous = obj({ generation: 1 });
    expect(allow([and(generationChanged(), resourceNotPaused())], 'update', paused, previous)).toBe(false);
    expect(allow([or(generationChanged(), resourceNotPaused())], 'update', paused, previous)).toBe(true);
    expect(allow([or(resourceNotPaused(), labelsChanged())], 'create', paused)).toBe(true);
  });
});
