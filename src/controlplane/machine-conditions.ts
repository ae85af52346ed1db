// The condition a control-plane provider sets on the Machines it controls (Cluster API v1beta2
// contract, as KCP does): UpToDate, whether a Machine matches the spec and, if not, why. Cluster API
// reads it into the Cluster's MachinesUpToDate. Written through the patch helper, so the Machine
// controller's own conditions survive, and only when it changed.
import type { Machine } from '../api/capi/v1beta2/types';
import { MachineKind } from '../api/capi/v1beta2/resources';
import type { KubeClient } from '../kube/client/client';
import { isNotFound } from '../kube/client/api-error';
import { getCondition, setCondition, type ConditionInput } from '../kube/patch/conditions';
import { PatchHelper } from '../kube/patch/patch-helper';
import { deepCopy } from '../util/json';
import type { ControlPlane } from './control-plane';

export const MACHINE_UP_TO_DATE = 'UpToDate';

/** The Machine's UpToDate condition from the reasons it is outdated (none: up to date). */
export function upToDateCondition(outdatedReasons: readonly string[], generation?: number): ConditionInput {
  const observed = generation === undefined ? {} : { observedGeneration: generation };
  return outdatedReasons.length === 0
    ? { type: MACHINE_UP_TO_DATE, status: 'True', reason: 'UpToDate', message: '', ...observed }
    : { type: MACHINE_UP_TO_DATE, status: 'False', reason: 'NotUpToDate', message: outdatedReasons.map((r) => `* ${r}`).join('\n'), ...observed };
}

/** The Machine already says this (no write needed). */
function says(machine: Machine, wanted: ConditionInput): boolean {
  const current = getCondition(machine.status?.conditions, wanted.type);
  return current?.status === wanted.status && current.reason === wanted.reason && (current.message ?? '') === (wanted.message ?? '');
}

/** Machines (not being deleted) whose UpToDate condition must change, with the condition each should get. */
export function upToDateChanges(view: ControlPlane): Array<{ machine: Machine; condition: ConditionInput }> {
  return [...view.activeMachines]
    .map((machine) => ({ machine, condition: upToDateCondition(view.outdatedReasons(machine), machine.metadata.generation) }))
    .filter(({ machine, condition }) => !says(machine, condition));
}

/** Writes each change; a Machine deleted meanwhile is skipped. */
export async function syncUpToDateConditions(client: KubeClient, view: ControlPlane, signal?: AbortSignal): Promise<number> {
  const changes = upToDateChanges(view);
  for (const { machine, condition } of changes) {
    const copy = deepCopy(machine);
    const helper = new PatchHelper<Machine>(client, MachineKind, copy);
    copy.status = { ...(copy.status ?? {}), conditions: setCondition(copy.status?.conditions, condition) };
    try {
      await helper.patch(copy, { ownedConditions: [MACHINE_UP_TO_DATE], signal });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  return changes.length;
}
