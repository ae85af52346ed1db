// Patch helper in Cluster API's manner: snapshot an object, let the reconciler mutate it, then
// send only what changed — metadata/spec as one merge patch, status through the status subresource
// — with condition lists merged by type so that other writers' conditions survive. Nothing changed
// means no request at all.
import { isConflict, isNotFound } from '../client/api-error';
import type { PatchOptions, PatchTypeName } from '../client/client';
import { deepCopy } from '../../util/json';
import type { KubeObject } from '../meta/object';
import {
  DEFAULT_CONDITION_PATHS, type JsonValue, type PatchPlan, getPath, isEmptyPlan, mergeConditions, planPatch, setPath,
} from './patch-diff';
import type { ResourceKind } from '../client/resource';

export interface PatchClient {
  get<T extends KubeObject>(kind: ResourceKind, namespace: string, name: string, signal?: AbortSignal): Promise<T>;
  patch<T extends KubeObject>(
    kind: ResourceKind, namespace: string, name: string, patch: unknown, type: PatchTypeName, options?: PatchOptions,
  ): Promise<T>;
}

export interface PatchHelperOptions {
  /** Condition types this controller is authoritative for: its version is written whenever conditions are. */
  ownedConditions?: readonly string[];
  /** False for kinds without a status subresource (status then goes with the main patch). */
  statusSubresource?: boolean;
  conditionPaths?: ReadonlyArray<readonly string[]>;
  /** Re-reads after a 409 before giving up. */
  maxConflictRetries?: number;
  signal?: AbortSignal;
}

export class PatchHelper<T extends KubeObject> {
  private readonly before: T;

  constructor(private readonly client: PatchClient, private readonly kind: ResourceKind, obj: T) {
    this.before = deepCopy(obj);
  }

  /** The plan for `obj` against the snapshot (for tests and logging). */
  plan(obj: T, options: PatchHelperOptions = {}): PatchPlan {
    return planPatch(this.before, obj, options.conditionPaths ?? DEFAULT_CONDITION_PATHS);
  }

  /**
   * Sends the changes in `obj`. Returns the object as the server has it afterwards, or undefined
   * if nothing was sent (no change) or the object no longer exists.
   */
  async patch(obj: T, options: PatchHelperOptions = {}): Promise<T | undefined> {
    const plan = this.plan(obj, options);
    if (isEmptyPlan(plan)) return undefined;
    const statusSubresource = options.statusSubresource ?? true;
    const statusInMain = !statusSubresource && (plan.status !== undefined || plan.conditions.length > 0);
    let latest: T | undefined;
    try {
      if (plan.main || statusInMain) {
        latest = await this.patchWithRetry(this.before, undefined, options, (base) => {
          const body: Record<string, unknown> = deepCopy(plan.main ?? {});
          if (plan.finalizersChanged) setPath(body, ['metadata', 'finalizers'], this.finalizersOnto(base, obj));
          if (statusInMain) this.addStatus(body, base, obj, plan, options);
          const precondition = plan.finalizersChanged || (statusInMain && plan.conditions.length > 0);
          return { body, precondition };
        });
      }
      if (statusSubresource && (plan.status || plan.conditions.length > 0)) {
        latest = await this.patchWithRetry(latest ?? this.before, 'status', options, (base) => {
          const body: Record<string, unknown> = {};
          this.addStatus(body, base, obj, plan, options);
          return { body, precondition: plan.conditions.length > 0 };
        });
      }
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    return latest;
  }

  private addStatus(body: Record<string, unknown>, base: T, desired: T, plan: PatchPlan, options: PatchHelperOptions): void {
    if (plan.status) body.status = deepCopy(plan.status);
    for (const { path, changes } of plan.conditions) {
      const merged = mergeConditions(getPath(base, path), changes, getPath(desired, path), options.ownedConditions);
      setPath(body, path, merged);
    }
  }

  // Finalizers are a shared list: apply only this writer's additions and removals onto the base.
  private finalizersOnto(base: T, desired: T): string[] {
    const before = new Set(this.before.metadata.finalizers ?? []);
    const wanted = desired.metadata.finalizers ?? [];
    const removed = [...before].filter((f) => !wanted.includes(f));
    const result = (base.metadata.finalizers ?? []).filter((f) => !removed.includes(f));
    for (const finalizer of wanted) if (!result.includes(finalizer)) result.push(finalizer);
    return result;
  }

  private async patchWithRetry(
    initialBase: T, subresource: string | undefined, options: PatchHelperOptions,
    build: (base: T) => { body: Record<string, unknown>; precondition: boolean },
  ): Promise<T> {
    const { namespace = '', name = '' } = this.before.metadata;
    let base = initialBase;
    for (let attempt = 0; ; attempt++) {
      const { body, precondition } = build(base);
      if (precondition) setPath(body, ['metadata', 'resourceVersion'], base.metadata.resourceVersion as JsonValue);
      try {
        return await this.client.patch<T>(this.kind, namespace, name, body, 'merge', { subresource, signal: options.signal });
      } catch (error) {
        if (!precondition || !isConflict(error) || attempt >= (options.maxConflictRetries ?? 5)) throw error;
        base = await this.client.get<T>(this.kind, namespace, name, options.signal);
      }
    }
  }
}
