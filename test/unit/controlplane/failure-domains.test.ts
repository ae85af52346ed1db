// Failure domains: where a new control-plane Machine goes, which one a removal takes.
import type { Cluster, Machine } from '../../../src/api/capi/v1beta2/types';
import { controlPlaneFailureDomains, failureDomainForNewMachine, fromMostPopulatedDomain } from '../../../src/controlplane/failure-domains';
import { machineToRemove } from '../../../src/controlplane/rollout';
import { ControlPlane } from '../../../src/controlplane/control-plane';
import { nextStep } from '../../../src/controlplane/scale';
import { machineObjects } from '../../../src/controlplane/machine-objects';
import { cluster, machine, tcp } from './fixtures';

const inDomain = (name: string, domain: string | undefined, created = '2026-01-01T00:00:00Z'): Machine => {
  const m = machine(name, { created, node: true, address: '10.0.0.1' });
  return { ...m, spec: { ...m.spec, ...(domain ? { failureDomain: domain } : {}) } };
};

const withDomains = (...domains: Array<[string, boolean | undefined]>): Cluster => ({
  ...cluster, status: { failureDomains: domains.map(([name, controlPlane]) => ({ name, ...(controlPlane === undefined ? {} : { controlPlane }) })) },
});

describe('controlPlaneFailureDomains', () => {
  it('keeps only the domains marked for control planes, by name', () => {
    expect(controlPlaneFailureDomains(withDomains(['fd-c', true], ['fd-a', true], ['fd-b', false], ['fd-d', undefined]))).toEqual(['fd-a', 'fd-c']);
    expect(controlPlaneFailureDomains(cluster)).toEqual([]);
  });
});

describe('failureDomainForNewMachine', () => {
  const domains = ['fd-a', 'fd-b', 'fd-c'];

  it('picks the domain with the fewest up-to-date Machines, then the fewest Machines, then the first by name', () => {
    expect(failureDomainForNewMachine(domains, [], () => true)).toBe('fd-a');
    expect(failureDomainForNewMachine(domains, [inDomain('m1', 'fd-a')], () => true)).toBe('fd-b');
    const machines = [inDomain('old-a', 'fd-a'), inDomain('new-b', 'fd-b'), inDomain('old-c', 'fd-c')];
    // fd-a and fd-c hold no up-to-date Machine; fd-a comes first by name.
    expect(failureDomainForNewMachine(domains, machines, (m) => m.metadata.name!.startsWith('new'))).toBe('fd-a');
    // A tie on up-to-date Machines goes to the domain with fewer Machines.
    expect(failureDomainForNewMachine(domains, [inDomain('old-a', 'fd-a'), inDomain('old-a2', 'fd-a'), inDomain('old-b', 'fd-b')], () => false)).toBe('fd-c');
  });

  it('gives none when the Cluster offers no domain', () => {
    expect(failureDomainForNewMachine([], [inDomain('m1', 'fd-a')], () => true)).toBeUndefined();
  });
});

describe('removal across failure domains', () => {
  const domains = ['fd-a', 'fd-b', 'fd-c'];

  it('takes first a Machine in a domain no longer offered, else from the domain holding most candidates', () => {
    const stray = inDomain('stray', 'fd-gone');
    const a1 = inDomain('a1', 'fd-a');
    const b1 = inDomain('b1', 'fd-b');
    const b2 = inDomain('b2', 'fd-b');
    expect(fromMostPopulatedDomain(domains, [a1, b1, stray, b2])).toEqual([stray]);
    expect(fromMostPopulatedDomain(domains, [a1, b1, b2])).toEqual([b1, b2]);
    expect(fromMostPopulatedDomain([], [a1, b1])).toEqual([a1, b1]);
  });

  it('machineToRemove keeps its order of groups and takes the oldest in the fullest domain', () => {
    const a1 = inDomain('a1', 'fd-a', '2026-01-01T00:00:00Z');
    const b1 = inDomain('b1', 'fd-b', '2026-01-02T00:00:00Z');
    const b2 = inDomain('b2', 'fd-b', '2026-01-03T00:00:00Z');
    expect(machineToRemove([a1, b1, b2], () => false, domains)?.metadata.name).toBe('b1');
    // Outdated ones still go first, whatever the domains say.
    expect(machineToRemove([a1, b1, b2], (m) => m === a1, domains)?.metadata.name).toBe('a1');
    expect(machineToRemove([a1, b1, b2], () => false)?.metadata.name).toBe('a1');
  });

  it('a scale-down of 5 spread 2/2/1 takes the older Machine of the first full domain', () => {
    const machines = [
      inDomain('a1', 'fd-a', '2026-01-01T00:00:00Z'), inDomain('b1', 'fd-b', '2026-01-01T00:01:00Z'), inDomain('c1', 'fd-c', '2026-01-01T00:02:00Z'),
      inDomain('a2', 'fd-a', '2026-01-01T00:03:00Z'), inDomain('b2', 'fd-b', '2026-01-01T00:04:00Z'),
    ];
    const view = new ControlPlane(structuredClone(tcp({ bootstrapped: true, replicas: 3 })), withDomains(['fd-a', true], ['fd-b', true], ['fd-c', true]), machines);
    const healthy = new Set(machines.map((m) => m.metadata.name!));
    expect(nextStep(view, healthy)).toMatchObject({ action: 'removeMachine', machine: { metadata: { name: 'a1' } } });
    expect(view.failureDomainForNewMachine()).toBe('fd-c');
  });
});

describe('a new Machine\'s failure domain', () => {
  const template = {
    apiVersion: 'infrastructure.cluster.x-k8s.io/v1alpha1', kind: 'SimMachineTemplate', metadata: { name: 'tmpl', namespace: 'ns' }, spec: { template: { spec: {} } },
  };

  it('is set on the Machine when there is one, and left out when there is none', () => {
    const placed = machineObjects({ tcp: tcp(), clusterName: 'c', template, name: 'n', first: false, failureDomain: 'fd-b' });
    expect(placed.machine.spec.failureDomain).toBe('fd-b');
    const unplaced = machineObjects({ tcp: tcp(), clusterName: 'c', template, name: 'n', first: false });
    expect(unplaced.machine.spec).not.toHaveProperty('failureDomain');
  });
});
