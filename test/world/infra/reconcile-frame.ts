// What both reconcilers do around their story: work on a copy of the cached object, and send
// whatever changed (spec, finalizers, status, conditions) in one patch at the end, also when the
// story failed half-way.
import type { KubeClient } from '../../../src/kube/client/client';
import { type ConditionInput, setCondition } from '../../../src/kube/patch/conditions';
import type { KubeObject } from '../../../src/kube/meta/object';
import { PatchHelper } from '../../../src/kube/patch/patch-helper';
import type { ReconcileContext, ReconcileResult } from '../../../src/kube/controller/reconciler';
import type { ResourceKind } from '../../../src/kube/client/resource';
import type { Condition } from '../../../src/api/meta';
import type { Cluster } from '../../../src/api/capi/v1beta2/types';
import { PAUSED_ANNOTATION } from '../../../src/kube/controller/predicates';

export interface StatusObject extends KubeObject {
  status?: { conditions?: Condition[]; observedGeneration?: number };
}

export async function reconcileWithPatch<T extends StatusObject>(
  client: KubeClient, kind: ResourceKind, cached: T, ctx: ReconcileContext, ownedConditions: readonly string[],
  story: (obj: T) => Promise<ReconcileResult | void>,
): Promise<ReconcileResult | void> {
  const obj = structuredClone(cached);
  const helper = new PatchHelper<T>(client, kind, obj);
  const patch = () => helper.patch(obj, { ownedConditions, signal: ctx.signal });
  let result: ReconcileResult | void;
  try {
    result = await story(obj);
  } catch (error) {
    // The story's error is the one to report; a failed patch after it is only logged.
    await patch().catch((patchError: unknown) =>
      ctx.log.error({ err: (patchError as Error).message }, 'status patch failed after a reconcile error'));
    throw error;
  }
  if (!obj.metadata.deletionTimestamp) {
    obj.status ??= {};
    obj.status.observedGeneration = obj.metadata.generation;
  }
  await patch();
  return result;
}

export function mark(obj: StatusObject, condition: ConditionInput): void {
  obj.status ??= {};
  obj.status.conditions = setCondition(obj.status.conditions, { observedGeneration: obj.metadata.generation, ...condition });
}

/** The name of the owner of this kind from Cluster API core (any version of cluster.x-k8s.io). */
export function capiOwnerName(obj: KubeObject, kind: 'Cluster' | 'Machine'): string | undefined {
  return obj.metadata.ownerReferences?.find((ref) => ref.kind === kind && ref.apiVersion.startsWith('cluster.x-k8s.io/'))?.name;
}

/** Pause as the contract asks: the Cluster's spec.paused or the object's own paused annotation. */
export function markPaused(obj: StatusObject, cluster: Cluster | undefined): boolean {
  const paused = cluster?.spec?.paused === true || PAUSED_ANNOTATION in (obj.metadata.annotations ?? {});
  mark(obj, paused ? { type: 'Paused', status: 'True', reason: 'Paused', message: 'reconciliation is paused' } : { type: 'Paused', status: 'False', reason: 'NotPaused' });
  return paused;
}

export function addFinalizer(obj: KubeObject, finalizer: string): void {
  const finalizers = obj.metadata.finalizers ?? [];
  if (!finalizers.includes(finalizer)) obj.metadata.finalizers = [...finalizers, finalizer];
}

export function removeFinalizer(obj: KubeObject, finalizer: string): void {
  obj.metadata.finalizers = (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer);
}
