import { machinePatch, metadataForNewObject, metadataPatch, TEMPLATE_KEYS_ANNOTATION } from '../../../src/controlplane/machine-template';
import type { TalosControlPlane } from '../../../src/api/controlplane/v1beta1/types';
import { machine, tcp } from './fixtures';

function withTemplate(metadata: { labels?: Record<string, string>; annotations?: Record<string, string> }, deletion?: Record<string, number>): TalosControlPlane {
  const base = structuredClone(tcp());
  base.spec.machineTemplate = { metadata, spec: { ...base.spec.machineTemplate.spec, ...(deletion ? { deletion } : {}) } };
  return base;
}

const keys = (labels: string[], annotations: string[]) => JSON.stringify({ labels, annotations });

describe('machine template metadata in place', () => {
  it('is nothing to do for an object made from the same template', () => {
    const cp = withTemplate({ labels: { team: 'a' }, annotations: { owner: 'ops' } });
    const fresh = metadataForNewObject(cp);
    expect(metadataPatch(cp, { metadata: { labels: { ...fresh.labels, mine: 'x' }, annotations: fresh.annotations } })).toBeUndefined();
  });

  it('sets a changed or added key, removes a key the template dropped, and leaves the user\'s own keys', () => {
    const before = withTemplate({ labels: { team: 'a', old: '1' } });
    const object = { metadata: { labels: { ...metadataForNewObject(before).labels, mine: 'x' }, annotations: metadataForNewObject(before).annotations } };
    const after = withTemplate({ labels: { team: 'b', added: 'y' } });
    expect(metadataPatch(after, object)).toEqual({
      metadata: {
        labels: { team: 'b', added: 'y', old: null },
        annotations: { [TEMPLATE_KEYS_ANNOTATION]: keys(['added', 'team'], []) },
      },
    });
  });

  it('never takes over or removes the keys the control plane sets itself', () => {
    const cp = withTemplate({ labels: { 'cluster.x-k8s.io/cluster-name': 'other' } });
    const object = { metadata: { labels: { 'cluster.x-k8s.io/cluster-name': 'c' }, annotations: { [TEMPLATE_KEYS_ANNOTATION]: keys(['cluster.x-k8s.io/cluster-name'], []) } } };
    expect(metadataPatch(cp, object)).toEqual({ metadata: { annotations: { [TEMPLATE_KEYS_ANNOTATION]: keys([], []) } } });
  });

  it('an object from before this controller recorded keys gets the template and the record', () => {
    const cp = withTemplate({ annotations: { owner: 'ops' } });
    expect(metadataPatch(cp, { metadata: {} })).toEqual({ metadata: { annotations: { owner: 'ops', [TEMPLATE_KEYS_ANNOTATION]: keys([], ['owner']) } } });
  });

  it('patches a Machine\'s deletion timeouts the template sets, and leaves the others to Cluster API', () => {
    const cp = withTemplate({}, { nodeDrainTimeoutSeconds: 120 });
    const m = machine('cp-a');
    const synced = { ...m, metadata: { ...m.metadata, annotations: metadataForNewObject(cp).annotations } };
    expect(machinePatch(cp, { ...synced, spec: { ...m.spec, deletion: { nodeDeletionTimeoutSeconds: 10 } } })).toEqual({ spec: { deletion: { nodeDrainTimeoutSeconds: 120 } } });
    expect(machinePatch(cp, { ...synced, spec: { ...m.spec, deletion: { nodeDrainTimeoutSeconds: 120, nodeDeletionTimeoutSeconds: 10 } } })).toBeUndefined();
  });
});
