// What both reconcilers of the simulated provider do around their story: the operator's reconcile
// frame on a copy of the cached object, and the small condition and finalizer steps they share.
import type { KubeClient } from '../../../src/kube/client/client';
import { type ConditionInput, setCondition } from '../../../src/kube/patch/conditions';
import type { KubeObject } from '../../../src/kube/meta/object';
import { reconcileInFrame } from '../../../src/kube/controller/reconcile-frame';
import type { ReconcileContext, ReconcileResult } from '../../../src/kube/controller/reconciler';
import type { ResourceKind } from '../../../src/kube/client/resource';
import type { Condition } from '../../../src/api/meta';
import type { Cluster } from '../../../src/api/capi/v1beta2/types';
import { PAUSED_ANNOTATION } from '../../../src/kube/controller/predicates';

export interface StatusObject extends KubeObject {
  status?: { conditions?: Condition[]; observedGeneration?: number };
}

/** The story run on a copy of the cached object, in the operator's own reconcile frame. */
export function reconcileWithPatch<T extends StatusObject>(
  client: KubeClient, kind: ResourceKind, cached: T, ctx: ReconcileContext, ownedConditions: readonly string[],
  story: (obj: T) => Promise<ReconcileResult | void>,
): Promise<ReconcileResult | void> {
  const obj = structuredClone(cached);
  return reconcileInFrame({ client, kind, obj, ctx, ownedConditions }, { run: () => story(obj) });
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
