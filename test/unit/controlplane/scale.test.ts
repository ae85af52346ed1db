import { nextStep } from '../../../src/controlplane/scale';
import { machine, tcp, view } from './fixtures';

describe('nextStep: what the control plane does next', () => {
  it('creates the first Machine of an empty control plane, and nothing when 0 replicas are wanted', () => {
    expect(nextStep(view(tcp()))).toEqual({ action: 'createMachine', first: true });
    expect(nextStep(view(tcp({ replicas: 0 })))).toEqual({ action: 'none' });
  });

  it('waits for the first Machine to have an address, then bootstraps etcd on it (the oldest one)', () => {
    expect(nextStep(view(tcp(), [machine('cp-a')]))).toEqual({
      action: 'wait', message: 'Waiting for Machine cp-a to report an address to bootstrap etcd on',
    });
    const older = machine('cp-b', { created: '2025-12-31T00:00:00Z', address: '127.0.0.9' });
    const step = nextStep(view(tcp(), [machine('cp-a', { address: '127.0.0.8' }), older]));
    expect(step).toMatchObject({ action: 'bootstrapEtcd', address: '127.0.0.9' });
    expect(step.action === 'bootstrapEtcd' && step.machine.metadata.name).toBe('cp-b');
  });

  it('does not bootstrap twice: once recorded, it scales up after the previous Machine runs a healthy etcd member or has its Node', () => {
    const bootstrapped = tcp({ bootstrapped: true });
    const joining = [machine('cp-a', { address: '127.0.0.8', node: true }), machine('cp-b', { created: '2026-01-01T00:01:00Z', address: '127.0.0.9' })];
    expect(nextStep(view(bootstrapped, joining))).toEqual({
      action: 'wait', message: 'Waiting for Machine cp-b to join etcd before adding the next control-plane Machine',
    });
    expect(nextStep(view(bootstrapped, joining), new Set(['cp-b']))).toEqual({ action: 'createMachine', first: false });
    expect(nextStep(view(bootstrapped, [machine('cp-a', { address: '127.0.0.8', node: true })]))).toEqual({ action: 'createMachine', first: false });
  });

  it('is done at the wanted count; a Machine being deleted does not count', () => {
    const three = ['a', 'b', 'c'].map((n) => machine(`cp-${n}`, { address: '127.0.0.8', node: true }));
    expect(nextStep(view(tcp({ bootstrapped: true }), three))).toEqual({ action: 'none' });
    const oneDeleting = [...three.slice(0, 2), machine('cp-c', { node: true, deleting: true })];
    expect(nextStep(view(tcp({ bootstrapped: true }), oneDeleting))).toEqual({ action: 'createMachine', first: false });
  });
});
