import type { Machine } from '../../../src/api/capi/v1beta2/types';
import {
  Machines, inFailureDomain, isDeleting, isUnhealthy, needsOwnerRemediation, not, ownedBy,
} from '../../../src/cluster/machines';
import type { Condition } from '../../../src/kube/patch/conditions';
import { deepFreeze } from '../../../src/util/json';

interface Shape {
  created?: string;
  domain?: string;
  owner?: { kind: string; name: string; uid: string };
  deleting?: boolean;
  conditions?: Array<[string, Condition['status']]>;
  version?: string;
}

function machine(name: string, shape: Shape = {}): Machine {
  return deepFreeze({
    apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Machine',
    metadata: {
      name, namespace: 'ns',
      ...(shape.created ? { creationTimestamp: shape.created } : {}),
      ...(shape.deleting ? { deletionTimestamp: '2026-01-02T00:00:00Z' } : {}),
      ...(shape.owner ? { ownerReferences: [{ apiVersion: 'controlplane.cluster.x-k8s.io/v1alpha3', controller: true, ...shape.owner }] } : {}),
    },
    spec: {
      clusterName: 'c', bootstrap: {}, infrastructureRef: { apiGroup: 'infra', kind: 'M', name },
      ...(shape.domain ? { failureDomain: shape.domain } : {}), ...(shape.version ? { version: shape.version } : {}),
    },
    status: { conditions: (shape.conditions ?? []).map(([type, status]) => ({ type, status, reason: 'R', lastTransitionTime: 't' })) },
  } as Machine);
}

const cp = { kind: 'TalosControlPlane', name: 'cp', uid: 'uid-cp' };
const other = { kind: 'TalosControlPlane', name: 'other', uid: 'uid-other' };
const all = Machines.of([
  machine('m-b', { created: '2026-01-01T00:00:02Z', domain: 'az1', owner: cp, version: 'v1.33.0' }),
  machine('m-a', { created: '2026-01-01T00:00:02Z', domain: 'az2', owner: cp, conditions: [['HealthCheckSucceeded', 'False'], ['OwnerRemediated', 'False']] }),
  machine('m-c', { created: '2026-01-01T00:00:01Z', owner: cp, deleting: true, conditions: [['HealthCheckSucceeded', 'False']] }),
  machine('m-d', { created: '2026-01-01T00:00:05Z', domain: 'az1', owner: other, conditions: [['HealthCheckSucceeded', 'True']] }),
  machine('m-new', { domain: 'az1', owner: cp }),
]);

describe('Machines', () => {
  it('filters by owner (UID, or kind and name without one), composing filters as AND', () => {
    expect(all.filter(ownedBy({ kind: 'TalosControlPlane', metadata: { name: 'cp', uid: 'uid-cp' } })).names()).toEqual(['m-b', 'm-a', 'm-c', 'm-new']);
    expect(all.filter(ownedBy({ kind: 'TalosControlPlane', metadata: { name: 'other' } })).names()).toEqual(['m-d']);
    expect(all.filter(ownedBy({ kind: 'TalosControlPlane', metadata: { name: 'cp', uid: 'uid-cp' } }), inFailureDomain('az1')).names()).toEqual(['m-b', 'm-new']);
  });

  it('a Machine another controller owns is not ours, even with a reference to us that is not the controller\'s', () => {
    const taken = deepFreeze({
      ...machine('m-taken'),
      metadata: {
        name: 'm-taken', namespace: 'ns',
        ownerReferences: [
          { apiVersion: 'controlplane.cluster.x-k8s.io/v1beta1', kind: 'TalosControlPlane', name: 'cp', uid: 'uid-cp', controller: false },
          { apiVersion: 'controlplane.cluster.x-k8s.io/v1beta2', kind: 'KubeadmControlPlane', name: 'k', uid: 'uid-k', controller: true },
        ],
      },
    } as Machine);
    expect(Machines.of([taken]).filter(ownedBy({ kind: 'TalosControlPlane', metadata: { name: 'cp', uid: 'uid-cp' } })).size).toBe(0);
    expect(Machines.of([taken]).filter(ownedBy({ kind: 'KubeadmControlPlane', metadata: { name: 'k', uid: 'uid-k' } })).size).toBe(1);
  });

  it('filters by failure domain, undefined standing for machines without one', () => {
    expect(all.filter(inFailureDomain('az2', undefined)).names()).toEqual(['m-a', 'm-c']);
    expect(all.filter(inFailureDomain()).size).toBe(0);
  });

  it('finds unhealthy machines (HealthCheckSucceeded=False) and those waiting for their owner to remediate', () => {
    expect(all.filter(isUnhealthy).names()).toEqual(['m-a', 'm-c']);
    expect(all.filter(needsOwnerRemediation).names()).toEqual(['m-a']);
    expect(all.filter(not(isUnhealthy)).names()).toEqual(['m-b', 'm-d', 'm-new']);
  });

  it('finds deleting machines and answers "is there any"', () => {
    expect(all.filter(isDeleting).names()).toEqual(['m-c']);
    expect(all.any(isDeleting, inFailureDomain('az1'))).toBe(false);
    expect(all.any(isDeleting)).toBe(true);
  });

  it('asks the caller which machines need a rollout', () => {
    const outdated = (m: Machine) => m.spec.version !== 'v1.33.0';
    expect(all.filter(ownedBy({ kind: 'TalosControlPlane', metadata: { name: 'cp', uid: 'uid-cp' } })).needingRollout(outdated).names()).toEqual(['m-a', 'm-c', 'm-new']);
  });

  it('sorts by creation (name breaks ties, not-yet-created last): oldest and newest', () => {
    expect(all.sortedByCreation().map((m) => m.metadata.name)).toEqual(['m-c', 'm-a', 'm-b', 'm-d', 'm-new']);
    expect(all.oldest()?.metadata.name).toBe('m-c');
    expect(all.filter(inFailureDomain('az1'), not(isDeleting)).newest()?.metadata.name).toBe('m-new');
    expect(Machines.of([]).oldest()).toBeUndefined();
  });

  it('never changes the collection it was made from or the (frozen) machines', () => {
    const before = all.names();
    all.filter(isUnhealthy);
    all.sortedByCreation();
    expect(all.names()).toEqual(before);
    expect([...all].map((m) => m.metadata.name)).toEqual(before);
  });
});
