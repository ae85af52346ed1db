// What happened to each Machine during a bring-up or rollout, as seen by polling: when a new one
// appeared and turned Ready, when an old one started deleting and was gone. The spans a one-at-a-
// time control plane must wait out are work Cluster API, the infrastructure provider and the
// simulator do (provision, boot, join etcd, register the Node; drain, delete); the rest of the
// time is the control-plane provider's.
import type { Machine } from '../../src/api/capi/v1beta2/types';

interface Moments {
  /** First poll that saw it; undefined for Machines there before the first poll. */
  appeared?: number;
  ready?: number;
  deleting?: number;
  gone?: number;
}

export type Span = readonly [start: number, end: number];

const machineReady = (m: Machine) => (m.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** Total time covered by the spans, overlaps counted once. */
export function coveredMs(spans: readonly Span[]): number {
  const sorted = [...spans].filter(([s, e]) => e > s).sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = -Infinity;
  for (const [s, e] of sorted) {
    if (e <= end) continue;
    total += e - Math.max(s, end);
    end = e;
  }
  return total;
}

export class MachineTimeline {
  private readonly moments = new Map<string, Moments>();
  /** When the control plane first counted n + 1 replicas Ready, at index n. */
  private readonly readyCountAt: number[] = [];
  private polls = 0;

  /** One poll: every Machine that exists at `now`, and how many replicas the control plane counts Ready. */
  observe(machines: readonly Machine[], now: number, readyReplicas = 0): void {
    while (this.readyCountAt.length < readyReplicas) this.readyCountAt.push(now);
    const present = new Set<string>();
    for (const machine of machines) {
      const name = machine.metadata.name ?? '';
      present.add(name);
      let moments = this.moments.get(name);
      if (!moments) this.moments.set(name, (moments = this.polls === 0 ? {} : { appeared: now }));
      if (moments.ready === undefined && machineReady(machine)) moments.ready = now;
      if (moments.deleting === undefined && machine.metadata.deletionTimestamp) moments.deleting = now;
    }
    for (const [name, moments] of this.moments) {
      if (!present.has(name) && moments.gone === undefined) moments.gone = now;
    }
    this.polls++;
  }

  /**
   * The new Machines in the order they appeared, each from appearing to when the next change could
   * start (`readyAt`, by Machine name: e.g. its etcd member joined and its Node registered), for
   * the last one until every new Machine was Ready — Cluster API's Machine Ready (`machine`), or as
   * many replicas as there are new Machines counted Ready by the control plane (`counted`).
   */
  newMachineSpans(readyAt: ReadonlyMap<string, number>, readiness: 'machine' | 'counted'): Span[] {
    const appeared = [...this.moments].filter(([, m]) => m.appeared !== undefined).sort(([, a], [, b]) => a.appeared! - b.appeared!);
    const readyTimes = appeared.map(([, m]) => m.ready);
    const allReady = readiness === 'counted'
      ? this.readyCountAt[appeared.length - 1]
      : readyTimes.every((t) => t !== undefined) ? Math.max(...(readyTimes as number[])) : undefined;
    return appeared.flatMap(([name, m], i) => {
      const end = i === appeared.length - 1 ? allReady : readyAt.get(name);
      return end === undefined ? [] : [[m.appeared!, end] as const];
    });
  }

  /** Old Machines from deleting to gone. */
  deletions(): Span[] {
    return [...this.moments.values()].flatMap((m) => (m.deleting !== undefined && m.gone !== undefined ? [[m.deleting, m.gone] as const] : []));
  }
}
