// The rollout timeline the control-plane benchmark's floor is read from.
import type { Machine } from '../../../src/api/capi/v1beta2/types';
import { coveredMs, MachineTimeline } from '../../support/machine-timeline';

const machine = (name: string, state: { ready?: boolean; deleting?: boolean } = {}): Machine => ({
  apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Machine',
  metadata: { name, ...(state.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  spec: { clusterName: 'c', bootstrap: {}, infrastructureRef: { apiGroup: 'infra', kind: 'SimMachine', name } },
  status: { conditions: state.ready ? [{ type: 'Ready', status: 'True', reason: 'Ready', lastTransitionTime: 't' }] : [] },
});

describe('coveredMs', () => {
  it('adds spans up, counting overlaps and nested spans once and ignoring empty ones', () => {
    expect(coveredMs([])).toBe(0);
    expect(coveredMs([[0, 10], [20, 25]])).toBe(15);
    expect(coveredMs([[0, 10], [5, 15], [6, 8], [30, 30]])).toBe(15);
  });
});

describe('MachineTimeline', () => {
  it('spans each new Machine but the last from appearing to its etcd join, the last to when all new ones are Ready; an old one from deleting to gone', () => {
    const timeline = new MachineTimeline();
    timeline.observe([machine('old', { ready: true })], 0);
    timeline.observe([machine('old', { ready: true }), machine('new-1')], 100);
    timeline.observe([machine('old', { ready: true, deleting: true }), machine('new-1')], 300);
    timeline.observe([machine('new-1'), machine('new-2')], 500);
    timeline.observe([machine('new-1', { ready: true }), machine('new-2', { ready: true })], 900);
    // Machines there from the first poll have no span of their own but their deletion.
    expect(timeline.newMachineSpans(new Map([['new-1', 250], ['new-2', 700]]), 'machine')).toEqual([[100, 250], [500, 900]]);
    expect(timeline.deletions()).toEqual([[300, 500]]);
  });

  it('with the control plane\'s own count, the last new Machine ends when it counts them all Ready', () => {
    const timeline = new MachineTimeline();
    timeline.observe([], 0);
    timeline.observe([machine('a')], 100);
    timeline.observe([machine('a'), machine('b')], 300, 1);
    timeline.observe([machine('a'), machine('b')], 600, 2);
    expect(timeline.newMachineSpans(new Map([['a', 250]]), 'counted')).toEqual([[100, 250], [300, 600]]);
  });

  it('leaves out spans that have not ended', () => {
    const timeline = new MachineTimeline();
    timeline.observe([machine('old', { ready: true })], 0);
    timeline.observe([machine('old', { ready: true, deleting: true }), machine('new')], 100);
    expect(timeline.newMachineSpans(new Map(), 'machine')).toEqual([]);
    expect(timeline.deletions()).toEqual([]);
  });
});
