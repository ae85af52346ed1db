// The in-place Talos upgrade plan: a config change of only the installer image is a Talos version
// change made in place (anything else still replaces), the steps of one node in order, the gates
// that keep a second node up while one reboots, resuming from the recorded step, the Machine up to
// date once its node runs the image — and the pure pieces the steps use.
import type { Machine } from '../../../src/api/capi/v1beta2/types';
import type { TalosControlPlane } from '../../../src/api/controlplane/v1beta1/types';
import { talosConfigSpecForMachine } from '../../../src/api/controlplane/spec';
import { podsToEvict, type WorkloadPod } from '../../../src/cluster/node-drain';
import { NodeIndex, type WorkloadNode } from '../../../src/cluster/workload-nodes';
import { ControlPlane } from '../../../src/controlplane/control-plane';
import { rolloutPathOf } from '../../../src/controlplane/in-place';
import { IN_PLACE_UPGRADE_ANNOTATION, progressAnnotation, progressOf, type InPlaceProgress } from '../../../src/controlplane/in-place-progress';
import { INSTALLED_IMAGE_ANNOTATION, installerImageOfSpec, withoutInstallerImage } from '../../../src/controlplane/installer';
import type { MachineParts } from '../../../src/controlplane/rollout';
import { nextStep } from '../../../src/controlplane/scale';
import type { NodeServices } from '../../../src/controlplane/service-watch';
import { talosAtLeast } from '../../../src/controlplane/talos-upgrade';
import { imageTagOf, installerImageOf, withInstallerImage } from '../../../src/talos/config/installer-image';
import { at, cluster, machine, tcp, wellServices, withProgress, type MachineShape } from './fixtures';

const VERSION = 'v1.34.1';
const OLD = 'ghcr.io/siderolabs/installer:v1.13.5';
const NEW = 'ghcr.io/siderolabs/installer:v1.14.2';
const DISK = { op: 'add', path: '/machine/install/disk', value: '/dev/vda' };
const image = (value: string) => ({ op: 'add', path: '/machine/install/image', value });
const node = (name: string, ready = true): WorkloadNode => ({
  metadata: { name }, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }], nodeInfo: { kubeletVersion: VERSION } },
});

/** A control plane at Kubernetes `version` whose controlplane config has `patches`. */
function plane(patches: Record<string, unknown>[], { inPlace = true, version = VERSION } = {}): TalosControlPlane {
  const copy = structuredClone(tcp({ bootstrapped: true, inPlace, version }));
  copy.spec.controlPlaneConfig.controlplane.configPatches = patches as never;
  return copy;
}
const configOf = (patches: Record<string, unknown>[]) => talosConfigSpecForMachine(plane(patches).spec, false);
const running = (name: string, minute: number, shape: MachineShape = {}) =>
  machine(name, { address: '127.0.0.8', node: true, created: at(minute), version: VERSION, ...shape });
const three = (shapes: MachineShape[] = []) => ['cp-a', 'cp-b', 'cp-c'].map((n, i) => running(n, i, shapes[i]));

function scene(tcpObject: TalosControlPlane, machines: Machine[], configPatches = [DISK, image(OLD)], nodes?: WorkloadNode[]): ControlPlane {
  const parts = new Map<string, MachineParts>(machines.map((m) => [m.metadata.name!, { talosConfig: { spec: configOf(configPatches) } }]));
  return new ControlPlane(structuredClone(tcpObject), cluster, machines, parts, undefined, new NodeIndex(nodes ?? machines.map((m) => node(m.metadata.name!))));
}
const allWell = (machines: Machine[]) => new Map(machines.map((m) => [m.metadata.name!, wellServices()]));
const stepOf = (v: ControlPlane, machines: Machine[], services = allWell(machines)) => nextStep(v, new Set(machines.map((m) => m.metadata.name!)), services);
const summary = (step: ReturnType<typeof nextStep>) =>
  step.action === 'upgradeTalos' ? `${step.step} ${step.machine.metadata.name} ${step.installer}`
    : step.action === 'upgradeInPlace' ? `k8s ${step.step} ${step.machine.metadata.name} ${step.version}`
      : step.action === 'wait' ? step.message : step.action;

describe('the installer image in a TalosConfig spec', () => {
  it('is what the last /machine/install/image patch sets; taking it out leaves the rest', () => {
    expect(installerImageOfSpec({ configPatches: [DISK, image(OLD), { op: 'replace', path: '/machine/install/image', value: NEW }] })).toBe(NEW);
    expect(installerImageOfSpec({ configPatches: [DISK, { op: 'remove', path: '/machine/install/image' }] })).toBeUndefined();
    expect(installerImageOfSpec({})).toBeUndefined();
    expect(withoutInstallerImage({ talosVersion: 'v1.13', configPatches: [DISK, image(OLD)] })).toEqual({ talosVersion: 'v1.13', configPatches: [DISK] });
    expect(withoutInstallerImage({ talosVersion: 'v1.13', configPatches: [image(OLD)] })).toEqual({ talosVersion: 'v1.13' });
  });
});

describe('a change of only the installer image is a Talos upgrade', () => {
  it('is the talos kind, made in place under InPlace; any other config change with it replaces', () => {
    const machines = three();
    const v = scene(plane([DISK, image(NEW)]), machines);
    expect(v.outdatedBecause(machines[0]!)).toEqual([{ kind: 'talos', message: `Talos installer ${OLD}, ${NEW} wanted`, installer: NEW }]);
    expect(v.machinesToUpgradeInPlace().map((m) => m.metadata.name)).toEqual(['cp-a', 'cp-b', 'cp-c']);
    expect(v.talosInstallerWanted(machines[0]!)).toBe(NEW);

    const mixed = scene(plane([{ ...DISK, value: '/dev/vdb' }, image(NEW)]), machines);
    expect(mixed.outdatedBecause(machines[0]!).map((r) => r.kind)).toEqual(['config']);
    expect(mixed.machinesToUpgradeInPlace()).toEqual([]);
    expect(rolloutPathOf(mixed, machines[0]!)).toBe('replaced: only a Kubernetes version or Talos installer change is made in place');
    // No image wanted any more: which one the node would get is unknown, so it is replaced.
    expect(scene(plane([DISK]), machines).outdatedBecause(machines[0]!).map((r) => r.kind)).toEqual(['config']);
  });

  it('without InPlace it rolls by replacement as before', () => {
    const machines = three();
    const v = scene(plane([DISK, image(NEW)], { inPlace: false }), machines);
    expect(v.machinesToUpgradeInPlace()).toEqual([]);
    expect(stepOf(v, machines)).toEqual({ action: 'createMachine', first: false, reason: 'rollout' });
  });

  it('the image recorded on the Machine wins over its TalosConfig’s: once upgraded it is up to date', () => {
    const machines = three([{ annotations: { [INSTALLED_IMAGE_ANNOTATION]: NEW } }]);
    const v = scene(plane([DISK, image(NEW)]), machines);
    expect(v.isUpToDate(machines[0]!)).toBe(true);
    expect(v.isUpToDate(machines[1]!)).toBe(false);
    // Changed back to the TalosConfig's image: the upgraded node is the one outdated now.
    const back = scene(plane([DISK, image(OLD)]), machines);
    expect(back.outdatedReasons(machines[0]!)).toEqual([`Talos installer ${NEW}, ${OLD} wanted`]);
    expect(back.isUpToDate(machines[1]!)).toBe(true);
  });

  it('the image changed back while a node was on its way: the node is put back to it in place', () => {
    const machines = three([{ annotations: withProgress({ installer: NEW, step: 'installed' }) }]);
    const v = scene(plane([DISK, image(OLD)]), machines);
    expect(v.outdatedReasons(machines[0]!)).toEqual([`node left on its way to Talos installer ${NEW} by an in-place upgrade, ${OLD} wanted`]);
    expect(summary(stepOf(v, machines))).toBe(`pull cp-a ${OLD}`);
  });
});

describe('the steps of one node, one node at a time', () => {
  const target = plane([DISK, image(NEW)]);

  it('pull, install, drain, reboot, each after the one recorded; then it waits for the node to come back', () => {
    const after = (step?: 'pulled' | 'installed' | 'drained' | 'rebooted') => {
      const machines = three([step ? { annotations: withProgress({ installer: NEW, step }) } : {}]);
      return summary(stepOf(scene(target, machines), machines));
    };
    expect([after(), after('pulled'), after('installed'), after('drained'), after('rebooted')])
      .toEqual(['pull', 'install', 'drain', 'reboot', 'finish'].map((step) => `${step} cp-a ${NEW}`));
  });

  it('a rebooted node is finished only once its Talos API answers, its services (etcd) run healthy and its Node is Ready', () => {
    const machines = three([{ annotations: withProgress({ installer: NEW, step: 'rebooted' }) }]);
    const down = new Map([...allWell(machines), ['cp-a', { reachable: false, services: new Map(), error: 'connection refused' } as NodeServices]]);
    expect(summary(stepOf(scene(target, machines), machines, down)))
      .toBe('Upgrading Machine cp-a to Talos v1.14.2 in place: rebooted, waiting for its Talos API to answer (connection refused)');
    const etcdDown = wellServices({ etcd: { state: 'PREPARING', healthy: false } });
    expect(summary(stepOf(scene(target, machines), machines, new Map([...allWell(machines), ['cp-a', etcdDown]]))))
      .toMatch(/rebooted, waiting for its Talos services \(etcd not running healthy\)$/);
    const nodes = [node('cp-a', false), node('cp-b'), node('cp-c')];
    expect(summary(stepOf(scene(target, machines, undefined, nodes), machines))).toMatch(/rebooted, waiting for its Node to be Ready$/);
    expect(rolloutPathOf(scene(target, machines), machines[0]!)).toBe('upgraded in place: rebooted, waiting for the node');
  });

  it('never a second node while one is down: the next starts after the previous one recorded its image', () => {
    const machines = three([{ annotations: withProgress({ installer: NEW, step: 'rebooted' }) }]);
    const down = new Map([...allWell(machines), ['cp-a', { reachable: false, services: new Map(), error: 'x' } as NodeServices]]);
    expect(summary(stepOf(scene(target, machines), machines, down))).toMatch(/^Upgrading Machine cp-a/);
    const done = three([{ annotations: { [INSTALLED_IMAGE_ANNOTATION]: NEW } }]);
    expect(summary(stepOf(scene(target, done), done))).toBe(`pull cp-b ${NEW}`);
    const all = three([0, 1, 2].map(() => ({ annotations: { [INSTALLED_IMAGE_ANNOTATION]: NEW } })));
    expect(stepOf(scene(target, all), all)).toEqual({ action: 'none' });
  });

  it('every step that may take a node down waits for the preflight checks and every Node Ready', () => {
    const machines = three([{ annotations: withProgress({ installer: NEW, step: 'drained' }) }]);
    const sick = wellServices({ etcd: { healthy: false } });
    expect(summary(stepOf(scene(target, machines), machines, new Map([...allWell(machines), ['cp-b', sick]]))))
      .toBe('Waiting for the preflight checks before the next change: Machine cp-b: etcd not running healthy');
    const nodes = [node('cp-a'), node('cp-b'), node('cp-c', false)];
    expect(summary(stepOf(scene(target, machines, undefined, nodes), machines))).toMatch(/Machine cp-c: its Node is not Ready$/);
  });

  it('Talos first, then Kubernetes; a Kubernetes upgrade under way is finished first', () => {
    const both = plane([DISK, image(NEW)], { version: 'v1.35.0' });
    const machines = three();
    expect(summary(stepOf(scene(both, machines), machines))).toBe(`pull cp-a ${NEW}`);
    const talosDone = three([{ annotations: { [INSTALLED_IMAGE_ANNOTATION]: NEW } }]);
    expect(summary(stepOf(scene(both, talosDone), talosDone))).toBe('k8s pull cp-a v1.35.0');
    const k8sUnderWay = three([{ annotations: withProgress({ version: 'v1.35.0', step: 'pulled' }) }]);
    expect(summary(stepOf(scene(both, k8sUnderWay), k8sUnderWay))).toBe('k8s apply cp-a v1.35.0');
  });

  it('the progress round-trips; the Kubernetes one keeps its form', () => {
    const talos: InPlaceProgress = { installer: NEW, step: 'drained' };
    expect(progressAnnotation(talos)).toBe(`{"installer":"${NEW}","step":"drained"}`);
    expect(progressOf(machine('m', { annotations: withProgress(talos) }))).toEqual(talos);
    expect(progressOf(machine('m', { annotations: { [IN_PLACE_UPGRADE_ANNOTATION]: `{"installer":"${NEW}","step":"applied"}` } }))).toBeUndefined();
  });
});

describe('pieces of the steps', () => {
  const legacy = `version: v1alpha1 # the main one
machine:
    type: controlplane
    install:
        disk: /dev/vda
        image: "${OLD}"
        wipe: false
`;
  const unattended = `version: v1alpha1
machine:
    type: controlplane
---
apiVersion: v1alpha1
kind: UnattendedInstallConfig
installer:
    image: ${OLD}
`;

  it('the installer image of a machine config, and the config with another one, byte for byte otherwise', () => {
    expect(installerImageOf(legacy)).toBe(OLD);
    expect(withInstallerImage(legacy, NEW)).toBe(legacy.replace(OLD, NEW));
    expect(installerImageOf(unattended)).toBe(OLD);
    expect(withInstallerImage(unattended, NEW)).toBe(unattended.replace(OLD, NEW));
    expect(withInstallerImage('version: v1alpha1\nmachine:\n    type: worker\n', NEW)).toBeUndefined();
    expect([imageTagOf(NEW), imageTagOf('localhost:5000/installer'), imageTagOf('installer:v1.14.2@sha256:abc')]).toEqual(['v1.14.2', undefined, 'v1.14.2']);
  });

  it('LifecycleService from Talos 1.13 on', () => {
    expect(['v1.12.6', 'v1.13.0', 'v1.14.2', 'v2.0.0', 'main'].map((tag) => talosAtLeast(tag, 1, 13))).toEqual([false, true, true, true, true]);
  });

  it('a drain evicts what a reboot stops and something runs again: not DaemonSet, mirror, finished or leaving pods', () => {
    const pod = (name: string, extra: Partial<WorkloadPod['metadata']> = {}, phase = 'Running'): WorkloadPod => ({ metadata: { name, namespace: 'default', ...extra }, status: { phase } });
    const pods = [
      pod('app'),
      pod('ds', { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'd', uid: 'u', controller: true }] }),
      pod('static', { annotations: { 'kubernetes.io/config.mirror': 'hash' } }),
      pod('leaving', { deletionTimestamp: '2026-01-01T00:00:00Z' }),
      pod('done', {}, 'Succeeded'),
      pod('owned', { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'r', uid: 'u', controller: true }] }),
    ];
    expect(podsToEvict(pods).map((p) => p.metadata.name)).toEqual(['app', 'owned']);
  });
});
