// The progress of a node's in-place upgrade, kept on its Machine as an annotation (JSON): for a
// Kubernetes upgrade the version being put on the node, for a Talos upgrade the installer image
// being installed, and the last step done for it. Read by the planner, written by the steps, and
// seen by the rollout check: a node left on its way to another version than its Machine says is
// outdated. Pure.
import type { Machine } from '../api/capi/v1beta2/types';
import { isObject } from '../util/json';

/** On a Machine upgraded in place: the last step done for a version, as JSON. */
export const IN_PLACE_UPGRADE_ANNOTATION = 'controlplane.cluster.x-k8s.io/in-place-upgrade';

/** A Kubernetes upgrade: the images are on the node, or the node runs the new config. */
export interface KubernetesProgress {
  version: string;
  step: 'pulled' | 'applied';
}

/** A Talos upgrade: the installer pulled, installed (staged for the next boot), the Node drained, the node rebooted. */
export interface TalosProgress {
  installer: string;
  step: TalosProgressStep;
}

export const TALOS_PROGRESS_STEPS = ['pulled', 'installed', 'drained', 'rebooted'] as const;
export type TalosProgressStep = (typeof TALOS_PROGRESS_STEPS)[number];

export type InPlaceProgress = KubernetesProgress | TalosProgress;

const isTalosStep = (step: unknown): step is TalosProgressStep => TALOS_PROGRESS_STEPS.some((s) => s === step);

/** The progress the Machine records; undefined when none, or not one this code wrote. */
export function progressOf(machine: Machine): InPlaceProgress | undefined {
  const text = machine.metadata.annotations?.[IN_PLACE_UPGRADE_ANNOTATION];
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (isObject(value) && typeof value.version === 'string' && (value.step === 'pulled' || value.step === 'applied')) {
      return { version: value.version, step: value.step };
    }
    if (isObject(value) && typeof value.installer === 'string' && isTalosStep(value.step)) return { installer: value.installer, step: value.step };
  } catch {
    // written by hand: the upgrade of this node starts over
  }
  return undefined;
}

export function kubernetesProgressOf(machine: Machine): KubernetesProgress | undefined {
  const progress = progressOf(machine);
  return progress && 'version' in progress ? progress : undefined;
}

export function talosProgressOf(machine: Machine): TalosProgress | undefined {
  const progress = progressOf(machine);
  return progress && 'installer' in progress ? progress : undefined;
}

export function progressAnnotation(progress: InPlaceProgress): string {
  return 'version' in progress
    ? JSON.stringify({ version: progress.version, step: progress.step })
    : JSON.stringify({ installer: progress.installer, step: progress.step });
}
