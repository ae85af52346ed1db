import type { KubeObject } from '../../../../src/kube/meta/object';
import { WATCH_FILTER_LABEL, allow, hasWatchFilterLabel } from '../../../../src/kube/controller/predicates';

function obj(meta: Partial<KubeObject['metadata']> = {}): KubeObject {
  return { metadata: { name: 'x', namespace: 'ns', ...meta } };
}

describe('Cluster API predicates', () => {
  it('passes only objects with the matching watch-filter label when a filter is set', () => {
    const labelled = obj({ labels: { [WATCH_FILTER_LABEL]: 'team-a' } });
    const other = obj({ labels: { [WATCH_FILTER_LABEL]: 'team-b' } });
    expect(allow([hasWatchFilterLabel('team-a')], 'create', labelled)).toBe(true);
    expect(allow([hasWatchFilterLabel('team-a')], 'create', other)).toBe(false);
    expect(allow([hasWatchFilterLabel('team-a')], 'create', obj())).toBe(false);
    expect(allow([hasWatchFilterLabel('')], 'create', obj())).toBe(true);
    expect(allow([hasWatchFilterLabel(undefined)], 'delete', other)).toBe(true);
  });
});
