// The in-place Kubernetes upgrade plan: which Machine goes next and at which step, the gates
// between nodes, resuming from the progress recorded on a Machine, and which Machines still roll
// by replacement (and the conditions saying which way each goes).
import type { Machine } from '../../../src/api/capi/v1beta2/types';
import type { TalosControlPlane } from '../../../src/api/controlplane/v1beta1/types';
import { upgradesInPlace } from '../../../src/api/controlplane/spec';
import { NodeIndex, type WorkloadNode } from '../../../src/cluster/workload-nodes';
import { ControlPlane } from '../../../src/controlplane/control-plane';
import { nextInPlaceStep, rolloutPathOf } from '../../../src/controlplane/in-place';
import { IN_PLACE_UPGRADE_ANNOTATION, progressAnnotation, progressOf, type InPlaceProgress } from '../../../src/controlplane/in-place-progress';
import { machineConditionChanges } from '../../../src/controlplane/machine-conditions';
import type { MachineParts } from '../../../src/controlplane/rollout';
import { nextStep } from '../../../src/controlplane/scale';
import { updateStatus } from '../../../src/controlplane/status';
import { at, cluster, machine, tcp, wellServices, withProgress, type MachineShape } from './fixtures';

const OLD = 'v1.33.5';
const NEW = 'v1.34.1';
const running = (name: string, minute: number, shape: MachineShape = {}) =>
  machine(name, { address: '127.0.0.8', node: true, created: at(minute), version: OLD, ...shape });
const node = (name: string, kubeletVersion: string, ready = true): WorkloadNode => ({
  metadata: { name },
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }], nodeInfo: { kubeletVersion } },
});

interface Scene {
  plane?: TalosControlPlane;
  machines: Machine[];
  /** Node kubelet versions by Machine name (default: the Machine's spec.version, Ready). */
  nodes?: WorkloadNode[];
  parts?: ReadonlyMap<string, MachineParts>;
}

function scene({ plane = tcp({ bootstrapped: true, inPlace: true, version: NEW }), machines, nodes, parts }: Scene): ControlPlane {
  const index = new NodeIndex(nodes ?? machines.map((m) => node(m.metadata.name!, m.spec.version!)));
  return new ControlPlane(structuredClone(plane), cluster, machines, parts ?? new Map(), undefined, index);
}
const allWell = (machines: Machine[]) => new Map(machines.map((m) => [m.metadata.name!, wellServices()]));
const three = (shapes: MachineShape[] = []) => ['cp-a', 'cp-b', 'cp-c'].map((n, i) => running(n, i, shapes[i]));
const stepOf = (v: ControlPlane, machines: Machine[]) => nextStep(v, new Set(machines.map((m) => m.metadata.name!)), allWell(machines));
const summary = (step: ReturnType<typeof nextStep>) =>
  step.action === 'upgradeInPlace' ? `${step.step} ${step.machine.metadata.name} ${step.version}` : step.action === 'wait' ? step.message : step.action;

describe('opting in', () => {
  it('rollout.strategy.type InPlace (the v1alpha3 annotation converts to it), nothing else', () => {
    expect(upgradesInPlace(tcp({ inPlace: true }))).toBe(true);
    expect(upgradesInPlace(tcp())).toBe(false);
    expect(upgradesInPlace(tcp({ onDelete: true }))).toBe(false);
  });

  it('without it, a version change replaces Machines as before (and the conditions name no path)', () => {
    const machines = three();
    const v = scene({ plane: tcp({ bootstrapped: true, version: NEW }), machines });
    expect(stepOf(v, machines)).toEqual({ action: 'createMachine', first: false, reason: 'rollout' });
    expect(v.machinesToUpgradeInPlace()).toEqual([]);
    expect(rolloutPathOf(v, machines[0]!)).toBeUndefined();
  });
});

describe('which Machine, which step', () => {
  it('starts with the oldest Machine whose only difference is the version: pull, then apply, then waits for its Node', () => {
    const machines = three();
    expect(summary(stepOf(scene({ machines }), machines))).toBe(`pull cp-a ${NEW}`);
    const pulled = three([{ annotations: withProgress({ version: NEW, step: 'pulled' }) }]);
    expect(summary(stepOf(scene({ machines: pulled }), pulled))).toBe(`apply cp-a ${NEW}`);
    const applied = three([{ annotations: withProgress({ version: NEW, step: 'applied' }) }]);
    expect(summary(stepOf(scene({ machines: applied }), applied)))
      .toBe(`Upgrading Machine cp-a to ${NEW} in place: waiting for its Node to report kubelet ${NEW} (it reports ${OLD})`);
  });

  it('records the version once the Node reports the new kubelet, is Ready and its Talos services run healthy', () => {
    const machines = three([{ annotations: withProgress({ version: NEW, step: 'applied' }) }]);
    const nodes = [node('cp-a', NEW), node('cp-b', OLD), node('cp-c', OLD)];
    expect(summary(stepOf(scene({ machines, nodes }), machines))).toBe(`finish cp-a ${NEW}`);
    const notReady = [node('cp-a', NEW, false), ...nodes.slice(1)];
    expect(summary(stepOf(scene({ machines, nodes: notReady }), machines))).toMatch(/waiting for its Node to be Ready$/);
    const restarting = new Map([...allWell(machines), ['cp-a', wellServices({ kubelet: { state: 'PREPARING' } })]]);
    expect(summary(nextStep(scene({ machines, nodes }), new Set(), restarting))).toMatch(/waiting for its Talos services \(kubelet not running healthy\)$/);
  });

  it('never two nodes at once: the next one starts after the previous one recorded its version', () => {
    const applied = three([{ annotations: withProgress({ version: NEW, step: 'applied' }) }]);
    // cp-a is the one waited for, though cp-b and cp-c are ready to start.
    expect(summary(stepOf(scene({ machines: applied }), applied))).toMatch(/^Upgrading Machine cp-a/);
    const done = three([{ version: NEW }]);
    expect(summary(stepOf(scene({ machines: done }), done))).toBe(`pull cp-b ${NEW}`);
    const all = three([{ version: NEW }, { version: NEW }, { version: NEW }]);
    expect(stepOf(scene({ machines: all }), all)).toEqual({ action: 'none' });
  });

  it('a node half done is finished first; one recorded for another version starts over', () => {
    const machines = three([{}, {}, { annotations: withProgress({ version: NEW, step: 'pulled' }) }]);
    expect(summary(stepOf(scene({ machines }), machines))).toBe(`apply cp-c ${NEW}`);
    const stale = three([{}, { annotations: withProgress({ version: 'v1.34.0', step: 'applied' }) }]);
    expect(summary(stepOf(scene({ machines: stale }), stale))).toBe(`pull cp-b ${NEW}`);
  });

  it('the version changed back while a node was on its way: that Machine is outdated, and its node is put back in place', () => {
    const machines = three([{ version: NEW, annotations: withProgress({ version: 'v1.35.0', step: 'applied' }) }, { version: NEW }, { version: NEW }]);
    const nodes = [node('cp-a', 'v1.35.0'), node('cp-b', NEW), node('cp-c', NEW)];
    const v = scene({ machines, nodes });
    expect(v.outdatedReasons(machines[0]!)).toEqual([`node left on its way to Kubernetes v1.35.0 by an in-place upgrade, ${NEW} wanted`]);
    expect(v.machinesToUpgradeInPlace().map((m) => m.metadata.name)).toEqual(['cp-a']);
    expect(summary(stepOf(v, machines))).toBe(`pull cp-a ${NEW}`);
    expect(v.isUpToDate(machines[1]!)).toBe(true);
  });

  it('is gated: every Machine passes the preflight checks and has its Node Ready before a node changes', () => {
    const machines = three();
    const sick = new Map([...allWell(machines), ['cp-b', wellServices({ etcd: { healthy: false } })]]);
    expect(summary(nextStep(scene({ machines }), new Set(), sick))).toBe('Waiting for the preflight checks before the next change: Machine cp-b: etcd not running healthy');
    const nodes = [node('cp-a', OLD), node('cp-b', OLD), node('cp-c', OLD, false)];
    expect(summary(stepOf(scene({ machines, nodes }), machines))).toBe('Waiting for the preflight checks before the next change: Machine cp-c: its Node is not Ready');
    const pulled = three([{ annotations: withProgress({ version: NEW, step: 'pulled' }) }]);
    expect(summary(nextStep(scene({ machines: pulled }), new Set(), new Map([...allWell(pulled), ['cp-c', undefined]]))))
      .toMatch(/Machine cp-c: not heard from through its Talos API yet$/);
  });

  it('a Machine being replaced (or scaled) goes first; a node half done in place is finished before', () => {
    const four = [...three(), running('cp-d', 3, { version: NEW })];
    expect(stepOf(scene({ machines: four }), four)).toMatchObject({ action: 'removeMachine', reason: 'scale' });
    const halfDone = [...three([{ annotations: withProgress({ version: NEW, step: 'pulled' }) }]), running('cp-d', 3, { version: NEW })];
    expect(summary(stepOf(scene({ machines: halfDone }), halfDone))).toBe(`apply cp-a ${NEW}`);
  });
});

describe('which way each Machine goes, and why', () => {
  const infra = (name: string) => ({ infraMachine: { metadata: { annotations: { 'cluster.x-k8s.io/cloned-from-name': name, 'cluster.x-k8s.io/cloned-from-groupkind': 'SimMachineTemplate.infrastructure.cluster.x-k8s.io' } } } });

  it('a version change with an infrastructure template change is replaced, and the conditions say why', () => {
    const machines = three();
    const parts = new Map(machines.map((m) => [m.metadata.name!, infra('old-tmpl')]));
    const v = scene({ machines, parts });
    expect(v.machinesToUpgradeInPlace()).toEqual([]);
    expect(v.machinesToReplace().size).toBe(3);
    expect(stepOf(v, machines)).toEqual({ action: 'createMachine', first: false, reason: 'rollout' });
    expect(rolloutPathOf(v, machines[0]!)).toBe('replaced: only a Kubernetes version or Talos installer change is made in place');
    updateStatus(v, { kubeconfigWritten: true });
    const rolling = v.tcp.status?.conditions?.find((c) => c.type === 'RollingOut');
    expect(rolling?.message).toContain('* Machine cp-a: Kubernetes version v1.33.5, v1.34.1 wanted; infrastructure cloned from');
    expect(rolling?.message).toContain('(replaced: only a Kubernetes version or Talos installer change is made in place)');
  });

  it('RollingOut, MachinesUpToDate and the Machines’ UpToDate say “in place”; upToDateReplicas counts only the recorded versions', () => {
    const machines = three([{ version: NEW }, { annotations: withProgress({ version: NEW, step: 'applied' }) }]);
    const v = scene({ machines });
    updateStatus(v, { kubeconfigWritten: true, waiting: 'Upgrading Machine cp-b' });
    const condition = (type: string) => v.tcp.status?.conditions?.find((c) => c.type === type);
    expect(condition('RollingOut')?.message).toBe([
      'Rolling out 2 outdated Machines in place: Upgrading Machine cp-b',
      `* Machine cp-b: Kubernetes version ${OLD}, ${NEW} wanted (upgraded in place: config applied, waiting for the node)`,
      `* Machine cp-c: Kubernetes version ${OLD}, ${NEW} wanted (upgraded in place)`,
    ].join('\n'));
    expect(condition('MachinesUpToDate')?.message).toContain(`* Machine cp-c: Kubernetes version ${OLD}, ${NEW} wanted (upgraded in place)`);
    expect(v.tcp.status?.upToDateReplicas).toBe(1);
    const upToDate = machineConditionChanges(v, allWell(machines)).find((c) => c.machine.metadata.name === 'cp-c')?.conditions[0];
    expect(upToDate?.message).toBe(`* Kubernetes version ${OLD}, ${NEW} wanted\n* upgraded in place`);
  });

  it('round-trips, and one not written by the operator counts as none', () => {
    const progress: InPlaceProgress = { version: NEW, step: 'applied' };
    expect(progressOf(machine('m', { annotations: withProgress(progress) }))).toEqual(progress);
    expect(progressAnnotation(progress)).toBe('{"version":"v1.34.1","step":"applied"}');
    for (const text of ['nope', '{"version":"v1.34.1","step":"done"}', '[]']) {
      expect(progressOf(machine('m', { annotations: { [IN_PLACE_UPGRADE_ANNOTATION]: text } }))).toBeUndefined();
    }
  });

  it('a step for a Machine recorded for another version is planned from the start', () => {
    const stale = running('cp-a', 0, { annotations: withProgress({ version: 'v1.34.0', step: 'pulled' }) });
    const machines = [stale, running('cp-b', 1), running('cp-c', 2)];
    expect(summary(nextInPlaceStep(scene({ machines }), stale, allWell(machines)) as ReturnType<typeof nextStep>)).toBe(`pull cp-a ${NEW}`);
  });
});
