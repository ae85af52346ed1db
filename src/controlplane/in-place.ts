// The in-place Kubernetes upgrade, decided from the view: with the InPlace strategy a Machine whose
// only difference from the spec is its Kubernetes version is upgraded on its node (pre-pull the
// images, apply the machine config with the new images without a reboot, wait for the Node's
// kubelet at the new version, then record the version on the Machine); anything else rolls by
// replacement. One node at a time, the oldest first, one started only when every control-plane
// Machine passes the preflight checks and has its Node Ready. The step reached is kept in an
// annotation on the Machine, so that an operator started afresh goes on from there. Pure.
import type { Machine } from '../api/capi/v1beta2/types';
import { kubernetesVersionOf, upgradesInPlace } from '../api/controlplane/spec';
import type { ControlPlane } from './control-plane';
import { progressOf } from './in-place-progress';
import { preflightBlock } from './preflight';
import { servicesProblem, type NodeServicesByMachine } from './service-watch';

/** pull: pre-pull the images; apply: ApplyConfiguration (no reboot); finish: the Machine's spec.version. */
export type InPlaceStep = 'pull' | 'apply' | 'finish';

export interface InPlaceAction {
  action: 'upgradeInPlace';
  machine: Machine;
  step: InPlaceStep;
  version: string;
}

export type InPlaceNext = InPlaceAction | { action: 'wait'; message: string };

/**
 * Why a change to a running node must wait, naming the Machine: the preflight checks (Node,
 * Talos API, etcd and the other services) on every control-plane Machine, then their Nodes Ready.
 */
function gate(view: ControlPlane, nodeServices: NodeServicesByMachine): string | undefined {
  const preflight = preflightBlock(view, nodeServices);
  if (preflight) return preflight;
  const notReady = view.activeMachines.sortedByCreation().find((m) => !view.isReady(m));
  return notReady ? `Waiting for the preflight checks before the next change: Machine ${notReady.metadata.name}: its Node is not Ready` : undefined;
}

/** What the node must show before its Machine records the new version; undefined when it does. */
function nodeNotYetUpgraded(view: ControlPlane, machine: Machine, version: string, nodeServices: NodeServicesByMachine): string | undefined {
  const kubelet = view.kubeletVersion(machine);
  if (kubelet !== version) return `its Node to report kubelet ${version} (${kubelet ? `it reports ${kubelet}` : 'no Node seen yet'})`;
  if (!view.isReady(machine)) return 'its Node to be Ready';
  const services = nodeServices.get(machine.metadata.name ?? '');
  if (!services) return 'its Talos API to be heard from';
  if (!services.reachable) return `its Talos API to answer (${services.error})`;
  const problem = servicesProblem(services.services);
  return problem ? `its Talos services (${problem})` : undefined;
}

/** The Machine to go on with first: one that already made progress (a node half done is finished first), else the oldest. */
export function machineToUpgradeInPlace(view: ControlPlane): Machine | undefined {
  const candidates = view.machinesToUpgradeInPlace();
  return candidates.find((m) => progressOf(m) !== undefined) ?? candidates[0];
}

/** The next step of `machine`'s in-place upgrade, or what it waits for. */
export function nextInPlaceStep(view: ControlPlane, machine: Machine, nodeServices: NodeServicesByMachine): InPlaceNext {
  const version = kubernetesVersionOf(view.tcp.spec);
  const name = machine.metadata.name ?? '';
  const recorded = progressOf(machine);
  const progress = recorded?.version === version ? recorded : undefined;
  if (progress?.step === 'applied') {
    const waiting = nodeNotYetUpgraded(view, machine, version, nodeServices);
    if (waiting) return { action: 'wait', message: `Upgrading Machine ${name} to ${version} in place: waiting for ${waiting}` };
    return { action: 'upgradeInPlace', machine, step: 'finish', version };
  }
  const blocked = gate(view, nodeServices);
  if (blocked) return { action: 'wait', message: blocked };
  return { action: 'upgradeInPlace', machine, step: progress?.step === 'pulled' ? 'apply' : 'pull', version };
}

/**
 * Which way an outdated Machine goes and why, for the conditions; undefined when the strategy is
 * not InPlace (every change is a replacement then, as before).
 */
export function rolloutPathOf(view: ControlPlane, machine: Machine): string | undefined {
  if (!upgradesInPlace(view.tcp) || view.isUpToDate(machine)) return undefined;
  if (!view.upgradesInPlace(machine)) return 'replaced: only a Kubernetes version change is made in place';
  const progress = progressOf(machine);
  if (progress?.version !== kubernetesVersionOf(view.tcp.spec)) return 'upgraded in place';
  return progress.step === 'pulled' ? 'upgraded in place: images pulled' : 'upgraded in place: config applied, waiting for the node';
}
