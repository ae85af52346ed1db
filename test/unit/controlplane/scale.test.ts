import { nextStep, rolloutCeiling } from '../../../src/controlplane/scale';
import { machine, tcp, view, type MachineShape } from './fixtures';

const running = (name: string, shape: MachineShape = {}) => machine(name, { address: '127.0.0.8', node: true, ...shape });
const at = (minute: number) => `2026-01-01T00:${String(minute).padStart(2, '0')}:00Z`;
const three = (shape: MachineShape = {}) => ['a', 'b', 'c'].map((n, i) => running(`cp-${n}`, { created: at(i), ...shape }));

describe('nextStep: what the control plane does next', () => {
  it('creates the first Machine of an empty control plane, and nothing when 0 replicas are wanted', () => {
    expect(nextStep(view(tcp()))).toEqual({ action: 'createMachine', first: true, reason: 'scale' });
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
    const joining = [running('cp-a'), machine('cp-b', { created: at(1), address: '127.0.0.9' })];
    expect(nextStep(view(bootstrapped, joining))).toEqual({
      action: 'wait', message: 'Waiting for Machine cp-b to join etcd before the next change',
    });
    expect(nextStep(view(bootstrapped, joining), new Set(['cp-b']))).toEqual({ action: 'createMachine', first: false, reason: 'scale' });
    expect(nextStep(view(bootstrapped, [running('cp-a')]))).toEqual({ action: 'createMachine', first: false, reason: 'scale' });
  });

  it('is done at the wanted count, and changes nothing while a Machine is being deleted', () => {
    expect(nextStep(view(tcp({ bootstrapped: true }), three()))).toEqual({ action: 'none' });
    const oneDeleting = [...three().slice(0, 2), running('cp-c', { deleting: true })];
    expect(nextStep(view(tcp({ bootstrapped: true }), oneDeleting))).toEqual({
      action: 'wait', message: 'Waiting for Machine cp-c to be deleted before the next change',
    });
  });

  it('scales down one Machine at a time: the one marked for deletion, else the oldest', () => {
    const five = [...three(), running('cp-d', { created: at(3) }), running('cp-e', { created: at(4) })];
    const step = nextStep(view(tcp({ bootstrapped: true }), five));
    expect(step).toMatchObject({ action: 'removeMachine', reason: 'scale' });
    expect(step.action === 'removeMachine' && step.machine.metadata.name).toBe('cp-a');
    const marked = [...five.slice(0, 4), running('cp-e', { created: at(4), annotations: { 'cluster.x-k8s.io/delete-machine': '' } })];
    const markedStep = nextStep(view(tcp({ bootstrapped: true }), marked));
    expect(markedStep.action === 'removeMachine' && markedStep.machine.metadata.name).toBe('cp-e');
  });

  it('waits for a joining Machine before removing one', () => {
    const four = [...three(), machine('cp-d', { created: at(3), address: '127.0.0.9' })];
    expect(nextStep(view(tcp({ bootstrapped: true }), four))).toEqual({ action: 'wait', message: 'Waiting for Machine cp-d to join etcd before the next change' });
  });
});

describe('the address a Machine’s Talos API is asked at', () => {
  it('is its own: a VIP (the cluster endpoint host) listed among its addresses is skipped (upstream #242)', () => {
    const withVip = machine('cp-a', { address: '127.0.100.1' });
    const both = { ...withVip, status: { ...withVip.status, addresses: [{ type: 'InternalIP' as const, address: '127.0.100.1' }, { type: 'InternalIP' as const, address: '10.0.0.5' }] } };
    expect(view(tcp()).talosAddress(both)).toBe('10.0.0.5');
    expect(view(tcp()).talosAddress(machine('cp-b', { address: '10.0.0.6' }))).toBe('10.0.0.6');
  });
});

describe('nextStep: rolling updates', () => {
  const upgraded = (shape: Parameters<typeof tcp>[0] = {}) => tcp({ bootstrapped: true, version: '1.35.0', ...shape });

  it('maxSurge 1: creates the replacement first, then removes the oldest outdated Machine', () => {
    expect(nextStep(view(upgraded(), three()))).toEqual({ action: 'createMachine', first: false, reason: 'rollout' });
    const four = [...three(), running('cp-d', { created: at(3), version: 'v1.35.0' })];
    const step = nextStep(view(upgraded(), four));
    expect(step).toMatchObject({ action: 'removeMachine', reason: 'rollout' });
    expect(step.action === 'removeMachine' && step.machine.metadata.name).toBe('cp-a');
  });

  it('maxSurge 0: removes an outdated Machine first, then creates its replacement', () => {
    const step = nextStep(view(upgraded({ maxSurge: 0 }), three()));
    expect(step.action === 'removeMachine' && step.machine.metadata.name).toBe('cp-a');
    expect(nextStep(view(upgraded({ maxSurge: 0 }), three().slice(1)))).toEqual({ action: 'createMachine', first: false, reason: 'rollout' });
  });

  it('a single replica is always replaced by surging, whatever maxSurge says (its only member is never removed first)', () => {
    expect(rolloutCeiling(view(upgraded({ replicas: 1, maxSurge: 0 })))).toBe(2);
    expect(rolloutCeiling(view(upgraded({ maxSurge: 0 })))).toBe(3);
    expect(rolloutCeiling(view(upgraded()))).toBe(4);
    expect(nextStep(view(upgraded({ replicas: 1, maxSurge: 0 }), [running('cp-a')]))).toEqual({ action: 'createMachine', first: false, reason: 'rollout' });
  });

  it('ends when every Machine is up to date', () => {
    const done = three({ version: 'v1.35.0' });
    expect(nextStep(view(upgraded(), done))).toEqual({ action: 'none' });
  });

  it('OnDelete rolls nothing; a Machine the user deletes is replaced at the new spec by scale-up', () => {
    expect(nextStep(view(upgraded({ onDelete: true }), three()))).toEqual({ action: 'none' });
    expect(nextStep(view(upgraded({ onDelete: true }), three().slice(1)))).toEqual({ action: 'createMachine', first: false, reason: 'scale' });
  });
});
