// A read-only collection of Cluster API Machines with composable filters: the questions a
// control-plane view asks (which Machines does this control plane own, which sit in a failure
// domain, need a rollout, are unhealthy or being deleted, which is oldest). Pure: no I/O, never
// mutates a Machine (they are frozen cache objects), every operation returns a new collection.
import type { Machine } from '../api/capi/v1beta2/types';
import { getCondition } from '../kube/patch/conditions';
import type { KubeObject } from '../kube/meta/object';

export type MachineFilter = (machine: Machine) => boolean;

/** Set by MachineHealthCheck: False when the Machine failed its health checks. */
export const HEALTH_CHECK_SUCCEEDED_CONDITION = 'HealthCheckSucceeded';
/** Set False by MachineHealthCheck when the Machine's owner is to remediate it. */
export const OWNER_REMEDIATED_CONDITION = 'OwnerRemediated';

const conditionIsFalse = (machine: Machine, type: string): boolean => getCondition(machine.status?.conditions, type)?.status === 'False';

/**
 * Controlled by `owner`: its controller reference is `owner`'s (by UID, or with no UID known by kind
 * and name). A Machine another controller owns is not `owner`'s, whatever other references it has.
 */
export function ownedBy(owner: Pick<KubeObject, 'kind' | 'metadata'>): MachineFilter {
  const { uid, name } = owner.metadata;
  return (machine) =>
    (machine.metadata.ownerReferences ?? []).some((ref) => ref.controller === true && (uid ? ref.uid === uid : ref.kind === owner.kind && ref.name === name));
}

/** In one of `domains`; `undefined` or '' stands for "no failure domain". */
export function inFailureDomain(...domains: (string | undefined)[]): MachineFilter {
  const wanted = new Set(domains.map((domain) => domain ?? ''));
  return (machine) => wanted.has(machine.spec.failureDomain ?? '');
}

/** MachineHealthCheck found it unhealthy. */
export const isUnhealthy: MachineFilter = (machine) => conditionIsFalse(machine, HEALTH_CHECK_SUCCEEDED_CONDITION);

/** Unhealthy and waiting for its owner (the control plane) to remediate it. */
export const needsOwnerRemediation: MachineFilter = (machine) =>
  isUnhealthy(machine) && conditionIsFalse(machine, OWNER_REMEDIATED_CONDITION);

export const isDeleting: MachineFilter = (machine) => machine.metadata.deletionTimestamp !== undefined;

export const not = (filter: MachineFilter): MachineFilter => (machine) => !filter(machine);

// Creation order, oldest first; the name breaks ties (timestamps have second precision) and a
// Machine not yet created (no timestamp) counts as newest.
function byCreation(a: Machine, b: Machine): number {
  const at = a.metadata.creationTimestamp ?? '\uffff';
  const bt = b.metadata.creationTimestamp ?? '\uffff';
  if (at !== bt) return at < bt ? -1 : 1;
  const an = a.metadata.name ?? '';
  const bn = b.metadata.name ?? '';
  return an < bn ? -1 : an > bn ? 1 : 0;
}

export class Machines implements Iterable<Machine> {
  private constructor(private readonly items: readonly Machine[]) {}

  static of(machines: Iterable<Machine>): Machines {
    return new Machines([...machines]);
  }

  get size(): number {
    return this.items.length;
  }

  [Symbol.iterator](): Iterator<Machine> {
    return this.items[Symbol.iterator]();
  }

  /** The Machines passing every filter. */
  filter(...filters: MachineFilter[]): Machines {
    return new Machines(this.items.filter((machine) => filters.every((filter) => filter(machine))));
  }

  /** True if some Machine passes every filter. */
  any(...filters: MachineFilter[]): boolean {
    return this.items.some((machine) => filters.every((filter) => filter(machine)));
  }

  /** The Machines whose spec no longer matches what the owner wants; the owner decides (`needsRollout`). */
  needingRollout(needsRollout: MachineFilter): Machines {
    return this.filter(needsRollout);
  }

  sortedByCreation(): Machine[] {
    return [...this.items].sort(byCreation);
  }

  oldest(): Machine | undefined {
    return this.sortedByCreation()[0];
  }

  newest(): Machine | undefined {
    return this.sortedByCreation().at(-1);
  }

  names(): string[] {
    return this.items.map((machine) => machine.metadata.name ?? '');
  }
}
