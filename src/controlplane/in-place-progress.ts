// The progress of a node's in-place Kubernetes upgrade, kept on its Machine as an annotation (JSON):
// the version being put on the node and the last step done for it. Read by the planner, written
// by the steps, and seen by the rollout check: a node left at another version than its Machine
// says is outdated. Pure.
import type { Machine } from '../api/capi/v1beta2/types';
import { isObject } from '../util/json';

/** On a Machine upgraded in place: the last step done for a version, as JSON. */
export const IN_PLACE_UPGRADE_ANNOTATION = 'controlplane.cluster.x-k8s.io/in-place-upgrade';

/** What the annotation records: the images are on the node, or the node runs the new config. */
export interface InPlaceProgress {
  version: string;
  step: 'pulled' | 'applied';
}

/** The progress the Machine records; undefined when none, or not one this code wrote. */
export function progressOf(machine: Machine): InPlaceProgress | undefined {
  const text = machine.metadata.annotations?.[IN_PLACE_UPGRADE_ANNOTATION];
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (isObject(value) && typeof value.version === 'string' && (value.step === 'pulled' || value.step === 'applied')) {
      return { version: value.version, step: value.step };
    }
  } catch {
    // written by hand: the upgrade of this node starts over
  }
  return undefined;
}

export function progressAnnotation(progress: InPlaceProgress): string {
  return JSON.stringify({ version: progress.version, step: progress.step });
}
