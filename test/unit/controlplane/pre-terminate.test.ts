import type { Machine } from '../../../src/api/capi/v1beta2/types';
import { ETCD_CLEANUP_HOOK, hookPatch, machinesWithoutHook, preTerminateStep, waitsForPreTerminateHooks } from '../../../src/controlplane/pre-terminate';
import { machine, tcp, view } from './fixtures';

const HOOK = { [ETCD_CLEANUP_HOOK]: '' };
const running = (name: string, annotations: Record<string, string> = HOOK) => machine(name, { node: true, address: '10.0.0.1', annotations });

/** A Machine being deleted since `at`, Cluster API's Deleting condition at `reason`. */
function deleting(name: string, { at = '2026-01-02T00:00:00Z', reason = 'WaitingForPreTerminateHook', annotations = HOOK }: { at?: string; reason?: string; annotations?: Record<string, string> } = {}): Machine {
  const base = machine(name, { node: true, address: '10.0.0.9', annotations });
  return {
    ...base,
    metadata: { ...base.metadata, deletionTimestamp: at },
    status: { ...base.status, conditions: [{ type: 'Deleting', status: 'True', reason, message: '', lastTransitionTime: at }] },
  };
}

const bootstrapped = (machines: Machine[]) => view(tcp({ bootstrapped: true }), machines);

describe('the pre-terminate hook', () => {
  it('is our own annotation, added with an empty value and removed with null', () => {
    expect(ETCD_CLEANUP_HOOK).toBe('pre-terminate.delete.hook.machine.cluster.x-k8s.io/talos-capi-cleanup');
    expect(hookPatch(false)).toEqual({ metadata: { annotations: { [ETCD_CLEANUP_HOOK]: '' } } });
    expect(hookPatch(true)).toEqual({ metadata: { annotations: { [ETCD_CLEANUP_HOOK]: null } } });
  });

  it('is added to Machines made before it existed, never to deleting ones', () => {
    const old = running('old', {});
    const gone = deleting('gone', { annotations: {} });
    expect(machinesWithoutHook(bootstrapped([old, running('new'), gone])).map((m) => m.metadata.name)).toEqual(['old']);
  });

  it('nothing to do while no deleting Machine carries it', () => {
    expect(preTerminateStep(bootstrapped([running('a'), running('b')]))).toEqual({ action: 'none' });
  });

  it('waits for Cluster API to drain the Node: only the WaitingForPreTerminateHook reason lets it act', () => {
    const draining = deleting('a', { reason: 'DrainingNode' });
    expect(waitsForPreTerminateHooks(draining)).toBe(false);
    expect(preTerminateStep(bootstrapped([draining, running('b'), running('c')]))).toEqual({
      action: 'wait', machine: draining, message: 'Waiting for Cluster API to drain the Node of Machine a before removing its etcd member',
    });
    const drained = deleting('a');
    expect(waitsForPreTerminateHooks(drained)).toBe(true);
    expect(preTerminateStep(bootstrapped([drained, running('b'), running('c')]))).toEqual({ action: 'removeMember', machine: drained });
  });

  it('runs after every other pre-terminate hook on the Machine', () => {
    const other = deleting('a', { annotations: { ...HOOK, 'pre-terminate.delete.hook.machine.cluster.x-k8s.io/backup': '' } });
    expect(preTerminateStep(bootstrapped([other, running('b')]))).toMatchObject({
      action: 'wait', message: 'Waiting for the other pre-terminate hooks of Machine a (pre-terminate.delete.hook.machine.cluster.x-k8s.io/backup) before removing its etcd member',
    });
  });

  it('one Machine at a time: the oldest deletion first, and none while a released one is still going', () => {
    const first = deleting('z', { at: '2026-01-02T00:00:00Z' });
    const second = deleting('a', { at: '2026-01-02T00:00:05Z' });
    expect(preTerminateStep(bootstrapped([second, first, running('c')]))).toEqual({ action: 'removeMember', machine: first });
    const released = deleting('z', { at: '2026-01-02T00:00:00Z', annotations: {} });
    expect(preTerminateStep(bootstrapped([second, released, running('c')]))).toEqual({
      action: 'wait', machine: second, message: 'Waiting for Machine z to be deleted before removing the etcd member of Machine a (one at a time)',
    });
  });

  it('is released without touching etcd when etcd never ran or the Machine holds the last member', () => {
    const only = deleting('a');
    expect(preTerminateStep(bootstrapped([only]))).toEqual({ action: 'release', machine: only, why: 'its etcd member is the last one' });
    expect(preTerminateStep(view(tcp(), [only, running('b')]))).toEqual({ action: 'release', machine: only, why: 'etcd was never bootstrapped' });
  });
});
