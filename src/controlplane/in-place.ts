// The in-place upgrades, decided from the view: with the InPlace strategy a Machine whose only
// differences from the spec are its Kubernetes version and its Talos installer image is upgraded
// on its node; anything else rolls by replacement. Talos first, as Talos advises: pull the
// installer, install it (staged for the next boot), cordon and drain the Node, reboot, wait for the
// node, its etcd member and its Node, then finish (check the version the node reports, uncordon,
// record the image on the Machine). Then Kubernetes: pre-pull the images, apply the machine config
// with the new images without a reboot, wait for the Node's kubelet at the new version, then
// record the version on the Machine. One node at a time, the oldest first; every step that touches
// a running node waits until every control-plane Machine passes the preflight checks and has its
// Node Ready, so that no two nodes are ever down. The step reached is kept in an annotation on the
// Machine, so that an operator started afresh goes on from there. A Machine whose in-place
// upgrade failed on its node rolls by replacement when onFailure is Replace (see
// in-place-fallback.ts). Pure.
import type { Machine } from '../api/capi/v1beta2/types';
import { kubernetesVersionOf, upgradesInPlace } from '../api/controlplane/spec';
import type { ControlPlane } from './control-plane';
import { imageTagOf } from '../talos/config/installer-image';
import { kubernetesProgressOf, progressOf, talosProgressOf, type TalosProgressStep } from './in-place-progress';
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

/**
 * pull: ImageService.Pull of the installer; install: LifecycleService.Upgrade (MachineService.Upgrade
 * staged before Talos 1.13); drain: cordon and evict; reboot: etcd leadership forfeited, Reboot;
 * finish: the node at the new version, uncordoned, the image recorded.
 */
export type TalosStep = 'pull' | 'install' | 'drain' | 'reboot' | 'finish';

export interface TalosUpgradeAction {
  action: 'upgradeTalos';
  machine: Machine;
  step: TalosStep;
  /** The installer image. */
  installer: string;
}

export type InPlaceNext = InPlaceAction | TalosUpgradeAction | { action: 'wait'; message: string };

/** The Talos step after the one recorded. */
const TALOS_STEP_AFTER: Record<TalosProgressStep | 'none', TalosStep> = { none: 'pull', pulled: 'install', installed: 'drain', drained: 'reboot', rebooted: 'finish' };

/** What a node names for its Talos version, for messages: the installer's tag, else the image. */
export const talosVersionText = (installer: string) => `Talos ${imageTagOf(installer) ?? installer}`;

/** What an in-place action takes its node to, for messages: the Kubernetes version or the Talos version. */
export const inPlaceTargetOf = (action: InPlaceAction | TalosUpgradeAction): string =>
  (action.action === 'upgradeTalos' ? talosVersionText(action.installer) : action.version);

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

/** What a rebooted node must show before its upgrade is finished; undefined when it does. */
function nodeNotBack(view: ControlPlane, machine: Machine, nodeServices: NodeServicesByMachine): string | undefined {
  const services = nodeServices.get(machine.metadata.name ?? '');
  if (!services) return 'its Talos API to be heard from';
  if (!services.reachable) return `its Talos API to answer (${services.error})`;
  const problem = servicesProblem(services.services);
  if (problem) return `its Talos services (${problem})`;
  return view.isReady(machine) ? undefined : 'its Node to be Ready';
}

/** The next step of `machine`'s Talos upgrade to `installer`, or what it waits for. */
function nextTalosStep(view: ControlPlane, machine: Machine, installer: string, nodeServices: NodeServicesByMachine): InPlaceNext {
  const recorded = talosProgressOf(machine);
  const done = recorded?.installer === installer ? recorded.step : 'none';
  const step = TALOS_STEP_AFTER[done];
  if (step === 'finish') {
    const waiting = nodeNotBack(view, machine, nodeServices);
    if (waiting) return { action: 'wait', message: `Upgrading Machine ${machine.metadata.name} to ${talosVersionText(installer)} in place: rebooted, waiting for ${waiting}` };
    return { action: 'upgradeTalos', machine, step, installer };
  }
  const blocked = gate(view, nodeServices);
  return blocked ? { action: 'wait', message: blocked } : { action: 'upgradeTalos', machine, step, installer };
}

/** The Machine to go on with first: one that already made progress (a node half done is finished first), else the oldest. */
export function machineToUpgradeInPlace(view: ControlPlane): Machine | undefined {
  const candidates = view.machinesToUpgradeInPlace();
  return candidates.find((m) => progressOf(m) !== undefined) ?? candidates[0];
}

/**
 * The next step of `machine`'s in-place upgrade, or what it waits for: its Talos upgrade first,
 * unless its Kubernetes upgrade is already under way.
 */
export function nextInPlaceStep(view: ControlPlane, machine: Machine, nodeServices: NodeServicesByMachine): InPlaceNext {
  const version = kubernetesVersionOf(view.tcp.spec);
  const name = machine.metadata.name ?? '';
  const recorded = kubernetesProgressOf(machine);
  const progress = recorded?.version === version ? recorded : undefined;
  const installer = view.talosInstallerWanted(machine);
  if (installer !== undefined && !progress) return nextTalosStep(view, machine, installer, nodeServices);
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
  const failure = view.inPlaceFailure(machine);
  if (failure) {
    const target = 'version' in failure ? failure.version : talosVersionText(failure.installer);
    return `replaced: its in-place upgrade to ${target} failed at step ${failure.step}: ${failure.error}, and rollout.strategy.inPlace.onFailure is Replace`;
  }
  if (!view.upgradesInPlace(machine)) return 'replaced: only a Kubernetes version or Talos installer change is made in place';
  const talos = talosProgressOf(machine);
  if (talos?.installer === view.talosInstallerWanted(machine) && talos) return `upgraded in place: ${TALOS_PROGRESS_TEXT[talos.step]}`;
  const progress = kubernetesProgressOf(machine);
  if (progress?.version !== kubernetesVersionOf(view.tcp.spec)) return 'upgraded in place';
  return progress.step === 'pulled' ? 'upgraded in place: images pulled' : 'upgraded in place: config applied, waiting for the node';
}

const TALOS_PROGRESS_TEXT: Record<TalosProgressStep, string> = {
  pulled: 'installer pulled', installed: 'installer staged', drained: 'Node drained', rebooted: 'rebooted, waiting for the node',
};
