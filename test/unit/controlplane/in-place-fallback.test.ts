// The fallback from an in-place upgrade to replacement (rollout.strategy.inPlace.onFailure):
// which failed steps mark their Machine, and what a marked Machine then is to the view — replaced
// through the rolling update, for the change it failed at only, with the conditions saying why;
// under Stop (the default) nothing changes.
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Machine } from '../../../src/api/capi/v1beta2/types';
import type { TalosControlPlane } from '../../../src/api/controlplane/v1beta1/types';
import { replacesAfterInPlaceFailure, talosConfigSpecForMachine } from '../../../src/api/controlplane/spec';
import { NodeIndex, type WorkloadNode } from '../../../src/cluster/workload-nodes';
import { ControlPlane } from '../../../src/controlplane/control-plane';
import { rolloutPathOf } from '../../../src/controlplane/in-place';
import {
  fallbackMark, IN_PLACE_FAILED_ANNOTATION, inPlaceFailureAnnotation, inPlaceFailureOf, type InPlaceFailure,
} from '../../../src/controlplane/in-place-fallback';
import { machineConditionChanges } from '../../../src/controlplane/machine-conditions';
import type { MachineParts } from '../../../src/controlplane/rollout';
import { nextStep } from '../../../src/controlplane/scale';
import { updateStatus } from '../../../src/controlplane/status';
import { TalosApiError } from '../../../src/talos/api';
import { at, cluster, machine, tcp, wellServices, type MachineShape } from './fixtures';

const OLD = 'v1.33.5';
const NEW = 'v1.34.1';
const INSTALLER = 'ghcr.io/siderolabs/installer:v1.14.2';
const PULL_FAILED = 'ImagePull on cp-b: NotFound: registry.k8s.io/kube-apiserver:v1.34.1: not found';

/** The InPlace strategy at NEW with `onFailure` (unset: the default). */
function plane(onFailure?: string, type = 'InPlace'): TalosControlPlane {
  const copy = structuredClone(tcp({ bootstrapped: true, version: NEW }));
  copy.spec.rollout = { strategy: { type, ...(onFailure ? { inPlace: { onFailure } } : {}) } };
  return copy;
}
const marked = (failure: InPlaceFailure) => ({ [IN_PLACE_FAILED_ANNOTATION]: inPlaceFailureAnnotation(failure) });
const pullFailed: InPlaceFailure = { version: NEW, step: 'pull', error: PULL_FAILED };
const running = (name: string, minute: number, shape: MachineShape = {}) =>
  machine(name, { address: '127.0.0.8', node: true, created: at(minute), version: OLD, ...shape });
/** cp-a, cp-b, cp-c at OLD; cp-b marked with `failure`. */
const three = (failure: InPlaceFailure = pullFailed) => [running('cp-a', 0), running('cp-b', 1, { annotations: marked(failure) }), running('cp-c', 2)];
const node = (name: string, kubeletVersion: string): WorkloadNode => ({
  metadata: { name }, status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion } },
});
function scene(controlPlane: TalosControlPlane, machines: Machine[], parts?: ReadonlyMap<string, MachineParts>): ControlPlane {
  return new ControlPlane(structuredClone(controlPlane), cluster, machines, parts ?? new Map(), undefined, new NodeIndex(machines.map((m) => node(m.metadata.name!, m.spec.version!))));
}
const allWell = (machines: Machine[]) => new Map(machines.map((m) => [m.metadata.name!, wellServices()]));
const stepOf = (v: ControlPlane, machines: Machine[]) => nextStep(v, new Set(machines.map((m) => m.metadata.name!)), allWell(machines));
const names = (machines: Iterable<Machine>) => [...machines].map((m) => m.metadata.name);

describe('which failed steps mark their Machine', () => {
  const pull = { step: 'pull', version: NEW };
  const refused = new TalosApiError(GrpcStatus.NOT_FOUND, 'registry.k8s.io/kube-apiserver:v1.34.1: not found', { method: 'ImagePull', node: 'cp-b' });

  it('with onFailure Replace under InPlace, a step the node answered with a failure', () => {
    expect(fallbackMark(plane('Replace'), pull, { cause: refused, fromTalosCall: true })).toEqual({ version: NEW, step: 'pull', error: refused.message });
    const installer = new Error('the installer exited with code 1 (last output: no space left)');
    expect(fallbackMark(plane('Replace'), { step: 'install', installer: INSTALLER }, { cause: installer, fromTalosCall: true }))
      .toEqual({ installer: INSTALLER, step: 'install', error: installer.message });
  });

  it('not with Stop, unset, or another strategy type (the annotation means nothing there)', () => {
    for (const controlPlane of [plane('Stop'), plane(), plane('Replace', 'RollingUpdate')]) {
      expect(fallbackMark(controlPlane, pull, { cause: refused, fromTalosCall: true })).toBeUndefined();
    }
    expect(replacesAfterInPlaceFailure(plane('Replace'))).toBe(true);
    expect(replacesAfterInPlaceFailure(plane('Replace', 'OnDelete'))).toBe(false);
  });

  it('not when the node was not reached or did not answer in time, nor when the management cluster failed', () => {
    for (const code of [GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED, GrpcStatus.CANCELLED]) {
      const unreached = new TalosApiError(code, 'connection refused', { method: 'ImagePull', endpoint: '127.0.0.8:50000' });
      expect(fallbackMark(plane('Replace'), pull, { cause: unreached, fromTalosCall: true })).toBeUndefined();
    }
    expect(fallbackMark(plane('Replace'), pull, { cause: new Error('secrets "cp-b" is forbidden'), fromTalosCall: false })).toBeUndefined();
  });

  it('keeps what the node said short enough for an annotation and a condition', () => {
    const long = new Error(`the installer exited with code 1 (last output: ${'x'.repeat(2000)})`);
    expect(fallbackMark(plane('Replace'), pull, { cause: long, fromTalosCall: true })?.error).toHaveLength(512);
  });

  it('round-trips the mark; one not written by the operator is no mark', () => {
    expect(inPlaceFailureOf(machine('m', { annotations: marked(pullFailed) }))).toEqual(pullFailed);
    const talos: InPlaceFailure = { installer: INSTALLER, step: 'install', error: 'e' };
    expect(inPlaceFailureOf(machine('m', { annotations: marked(talos) }))).toEqual(talos);
    expect(inPlaceFailureAnnotation(pullFailed)).toBe(JSON.stringify({ version: NEW, step: 'pull', error: PULL_FAILED }));
    for (const text of ['nope', '{"version":"v1.34.1","step":"pull"}', '{"step":"pull","error":"e"}', '[]']) {
      expect(inPlaceFailureOf(machine('m', { annotations: { [IN_PLACE_FAILED_ANNOTATION]: text } }))).toBeUndefined();
    }
  });
});

describe('a Machine marked with onFailure Replace', () => {
  it('is replaced through the rolling update; the others are still upgraded in place', () => {
    const machines = three();
    const v = scene(plane('Replace'), machines);
    expect(v.upgradesInPlace(machines[1]!)).toBe(false);
    expect(v.inPlaceFailure(machines[1]!)).toEqual(pullFailed);
    expect(names(v.machinesToReplace())).toEqual(['cp-b']);
    expect(names(v.machinesToUpgradeInPlace())).toEqual(['cp-a', 'cp-c']);
    expect(stepOf(v, machines)).toEqual({ action: 'createMachine', first: false, reason: 'rollout' });
  });

  it('is the one the rollout removes once its replacement is there, not an older Machine upgraded in place', () => {
    const machines = [...three(), running('cp-d', 3, { version: NEW })];
    const step = stepOf(scene(plane('Replace'), machines), machines);
    expect(step).toMatchObject({ action: 'removeMachine', reason: 'rollout' });
    expect(step.action === 'removeMachine' && step.machine.metadata.name).toBe('cp-b');
    const replaced = [machines[0]!, machines[2]!, machines[3]!];
    expect(stepOf(scene(plane('Replace'), replaced), replaced)).toMatchObject({ action: 'upgradeInPlace', step: 'pull', machine: { metadata: { name: 'cp-a' } } });
  });

  it('RollingOut, MachinesUpToDate and its UpToDate say it is replaced and why', () => {
    const machines = three();
    const v = scene(plane('Replace'), machines);
    const why = `replaced: its in-place upgrade to ${NEW} failed at step pull: ${PULL_FAILED}, and rollout.strategy.inPlace.onFailure is Replace`;
    expect(rolloutPathOf(v, machines[1]!)).toBe(why);
    updateStatus(v, { kubeconfigWritten: true });
    const condition = (type: string) => v.tcp.status?.conditions?.find((c) => c.type === type)?.message;
    expect(condition('RollingOut')).toBe([
      'Rolling out 3 outdated Machines (2 in place)',
      `* Machine cp-a: Kubernetes version ${OLD}, ${NEW} wanted (upgraded in place)`,
      `* Machine cp-b: Kubernetes version ${OLD}, ${NEW} wanted (${why})`,
      `* Machine cp-c: Kubernetes version ${OLD}, ${NEW} wanted (upgraded in place)`,
    ].join('\n'));
    expect(condition('MachinesUpToDate')).toContain(`* Machine cp-b: Kubernetes version ${OLD}, ${NEW} wanted (${why})`);
    const upToDate = machineConditionChanges(v, allWell(machines)).find((c) => c.machine.metadata.name === 'cp-b')?.conditions[0];
    expect(upToDate?.message).toBe(`* Kubernetes version ${OLD}, ${NEW} wanted\n* ${why}`);
  });

  it('a Talos upgrade that failed is replaced while that installer is wanted', () => {
    const withImage = (image: string) => {
      const copy = plane('Replace');
      copy.spec.controlPlaneConfig.controlplane.configPatches = [{ op: 'add', path: '/machine/install/image', value: image }] as never;
      return copy;
    };
    const machines = three({ installer: INSTALLER, step: 'install', error: 'the installer exited with code 1' }).map((m) => ({ ...m, spec: { ...m.spec, version: NEW } }));
    const runningConfig = { talosConfig: { spec: talosConfigSpecForMachine(withImage('ghcr.io/siderolabs/installer:v1.13.5').spec, false) } };
    const parts = new Map(machines.map((m) => [m.metadata.name!, runningConfig]));
    const v = scene(withImage(INSTALLER), machines, parts);
    expect(names(v.machinesToReplace())).toEqual(['cp-b']);
    expect(rolloutPathOf(v, machines[1]!)).toBe('replaced: its in-place upgrade to Talos v1.14.2 failed at step install: the installer exited with code 1, and rollout.strategy.inPlace.onFailure is Replace');
    // Another installer wanted now: the old failure does not count, the node is upgraded in place again.
    const other = scene(withImage('ghcr.io/siderolabs/installer:v1.14.3'), machines, parts);
    expect(names(other.machinesToUpgradeInPlace())).toEqual(['cp-a', 'cp-b', 'cp-c']);
  });
});

describe('a mark that does not count', () => {
  it('under Stop (the default): the marked Machine is upgraded in place as before', () => {
    for (const controlPlane of [plane(), plane('Stop')]) {
      const machines = three();
      const v = scene(controlPlane, machines);
      expect(v.machinesToReplace().size).toBe(0);
      expect(names(v.machinesToUpgradeInPlace())).toEqual(['cp-a', 'cp-b', 'cp-c']);
      expect(rolloutPathOf(v, machines[1]!)).toBe('upgraded in place');
    }
  });

  it('for another Kubernetes version than the spec wants, or once the Machine has that version', () => {
    const machines = three({ ...pullFailed, version: 'v1.34.0' });
    expect(scene(plane('Replace'), machines).machinesToReplace().size).toBe(0);
    const upgraded = [running('cp-a', 0), running('cp-b', 1, { version: NEW, annotations: marked(pullFailed) })];
    const v = scene(plane('Replace'), upgraded);
    expect(v.isUpToDate(upgraded[1]!)).toBe(true);
    expect(v.inPlaceFailure(upgraded[1]!)).toBeUndefined();
    expect(rolloutPathOf(v, upgraded[1]!)).toBeUndefined();
  });
});
