// The preflight checks before each change: every other Machine has its Node, answers its Talos
// API and runs etcd and the Talos services healthy; the first failing check is the message.
import { preflightBlock } from '../../../src/controlplane/preflight';
import { REMEDIATION_IN_PROGRESS_ANNOTATION } from '../../../src/controlplane/remediation';
import type { NodeServices, NodeServicesByMachine, ServiceState } from '../../../src/controlplane/service-watch';
import { nextStep } from '../../../src/controlplane/scale';
import { machine, tcp, view, type MachineShape } from './fixtures';

const at = (minute: number) => `2026-01-01T00:${String(minute).padStart(2, '0')}:00Z`;
const running = (name: string, minute: number, shape: MachineShape = {}) => machine(name, { address: '127.0.0.8', node: true, created: at(minute), ...shape });
const SERVICES = ['apid', 'containerd', 'cri', 'etcd', 'kubelet', 'machined', 'trustd'];
const well = (overrides: Record<string, Partial<ServiceState>> = {}): NodeServices => ({
  reachable: true,
  services: new Map(SERVICES.map((id) => [id, { state: 'RUNNING', healthy: true, healthUnknown: false, message: '', ...overrides[id] }])),
});
const allWell = (...names: string[]): Map<string, NodeServices | undefined> => new Map(names.map((n) => [n, well()]));
const healthy = new Set(['cp-a', 'cp-b', 'cp-c']);

describe('preflightBlock', () => {
  const machines = [running('cp-a', 0), running('cp-b', 1), running('cp-c', 2)];

  it('passes when every Machine has its Node and runs its services healthy', () => {
    expect(preflightBlock(view(tcp({ bootstrapped: true }), machines), allWell('cp-a', 'cp-b', 'cp-c'))).toBeUndefined();
  });

  it('names the first Machine that fails and the check: no Node, not heard from, Talos API down, a sick service', () => {
    const v = view(tcp({ bootstrapped: true }), [running('cp-a', 0), machine('cp-b', { created: at(1), address: '127.0.0.9' }), running('cp-c', 2)]);
    expect(preflightBlock(v, allWell('cp-a', 'cp-b', 'cp-c'))).toBe('Waiting for the preflight checks before the next change: Machine cp-b: no Node yet');
    const services: NodeServicesByMachine = new Map([['cp-a', well()], ['cp-b', undefined], ['cp-c', well()]]);
    expect(preflightBlock(view(tcp({ bootstrapped: true }), machines), services)).toMatch(/Machine cp-b: not heard from through its Talos API yet$/);
    const down: NodeServicesByMachine = new Map([['cp-a', { reachable: false, error: 'connection refused' }], ['cp-b', well()], ['cp-c', well()]]);
    expect(preflightBlock(view(tcp({ bootstrapped: true }), machines), down)).toMatch(/Machine cp-a: Talos API not answering \(connection refused\)$/);
    const sick: NodeServicesByMachine = new Map([['cp-a', well()], ['cp-b', well({ kubelet: { state: 'FAILED' } })], ['cp-c', well()]]);
    expect(preflightBlock(view(tcp({ bootstrapped: true }), machines), sick)).toMatch(/Machine cp-b: kubelet not running healthy$/);
  });

  it('while a remediation is under way, leaves out its victim and the Machines MachineHealthCheck marked (upstream #262/#263); not otherwise', () => {
    const dead = running('cp-a', 0, { markedForRemediation: true });
    const down: NodeServicesByMachine = new Map([['cp-a', { reachable: false, error: 'gone' }], ['cp-b', well()], ['cp-c', well()]]);
    const remediating = { ...tcp({ bootstrapped: true }), metadata: { ...tcp().metadata, annotations: { [REMEDIATION_IN_PROGRESS_ANNOTATION]: '{"machine":"cp-x","timestamp":"2026-01-01T00:00:00Z","retryCount":0}' } } };
    expect(preflightBlock(view(remediating, [dead, machines[1]!, machines[2]!]), down)).toBeUndefined();
    expect(preflightBlock(view(tcp({ bootstrapped: true }), [dead, machines[1]!, machines[2]!]), down)).toMatch(/Machine cp-a: Talos API not answering \(gone\)$/);
    const victim = running('cp-x', 3);
    expect(preflightBlock(view(remediating, [...machines.slice(1), victim]), new Map([...down, ['cp-x', { reachable: false, error: 'gone' }]]))).toBeUndefined();
  });

  it('does not check the Machine a removal takes', () => {
    const sick: NodeServicesByMachine = new Map([['cp-a', { reachable: false, error: 'gone' }], ['cp-b', well()], ['cp-c', well()]]);
    expect(preflightBlock(view(tcp({ bootstrapped: true }), machines), sick, machines[0])).toBeUndefined();
  });
});

describe('nextStep with the preflight checks', () => {
  it('holds a scale-up while a member is sick, and goes on once it is well', () => {
    const machines = [running('cp-a', 0)];
    const sick = new Map([['cp-a', well({ etcd: { healthy: false } })]]);
    expect(nextStep(view(tcp({ bootstrapped: true }), machines), new Set(['cp-a']), sick)).toEqual({
      action: 'wait', message: 'Waiting for the preflight checks before the next change: Machine cp-a: etcd not running healthy',
    });
    expect(nextStep(view(tcp({ bootstrapped: true }), machines), new Set(['cp-a']), allWell('cp-a'))).toEqual({ action: 'createMachine', first: false, reason: 'scale' });
  });

  it('lets a scale-down take the sick Machine itself, but holds it while another one is sick', () => {
    const five = ['a', 'b', 'c', 'd', 'e'].map((n, i) => running(`cp-${n}`, i));
    const victimSick = new Map([...allWell('cp-b', 'cp-c', 'cp-d', 'cp-e'), ['cp-a', { reachable: false, error: 'gone' } as NodeServices]]);
    expect(nextStep(view(tcp({ bootstrapped: true }), five), healthy, victimSick)).toMatchObject({ action: 'removeMachine', machine: { metadata: { name: 'cp-a' } } });
    const otherSick = new Map([...allWell('cp-a', 'cp-b', 'cp-c', 'cp-d'), ['cp-e', { reachable: false, error: 'gone' } as NodeServices]]);
    expect(nextStep(view(tcp({ bootstrapped: true }), five), healthy, otherSick)).toEqual({
      action: 'wait', message: 'Waiting for the preflight checks before the next change: Machine cp-e: Talos API not answering (gone)',
    });
  });
});
