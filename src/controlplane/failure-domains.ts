// Spreading control-plane Machines over the Cluster's failure domains, as KCP does: only domains
// the infrastructure marks `controlPlane: true` count; a new Machine goes to the domain with the
// fewest up-to-date Machines (then the fewest Machines, then the first by name); a scale-down or
// rollout step takes from the domain with the most candidates, a Machine in a domain the Cluster
// no longer offers first. Pure and deterministic: the same Machines give the same answer.
import type { Cluster, Machine } from '../api/capi/v1beta2/types';

/** The failure domains control-plane Machines may use, by name. */
export function controlPlaneFailureDomains(cluster: Cluster): string[] {
  return (cluster.status?.failureDomains ?? []).filter((d) => d.controlPlane === true).map((d) => d.name).sort();
}

const countIn = (machines: readonly Machine[], domain: string) => machines.filter((m) => m.spec.failureDomain === domain).length;

/** Where a new Machine goes; undefined when the Cluster offers no control-plane domain. */
export function failureDomainForNewMachine(
  domains: readonly string[], machines: readonly Machine[], isUpToDate: (machine: Machine) => boolean,
): string | undefined {
  const upToDate = machines.filter(isUpToDate);
  const rank = (domain: string) => [countIn(upToDate, domain), countIn(machines, domain)] as const;
  return [...domains].sort((a, b) => {
    const [ra, rb] = [rank(a), rank(b)];
    return ra[0] - rb[0] || ra[1] - rb[1] || (a < b ? -1 : a > b ? 1 : 0);
  })[0];
}

/**
 * The candidates a removal chooses among (oldest first, as given): those in domains the Cluster no
 * longer offers, else those in the domain holding the most of them (ties: first by name). With no
 * domains offered, all of them.
 */
export function fromMostPopulatedDomain(domains: readonly string[], candidates: readonly Machine[]): Machine[] {
  if (domains.length === 0) return [...candidates];
  const stray = candidates.filter((m) => m.spec.failureDomain === undefined || !domains.includes(m.spec.failureDomain));
  if (stray.length > 0) return stray;
  let best: string | undefined;
  for (const domain of domains) {
    if (best === undefined || countIn(candidates, domain) > countIn(candidates, best)) best = domain;
  }
  return candidates.filter((m) => m.spec.failureDomain === best);
}
