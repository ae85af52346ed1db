import type { KubeClient } from '../../../src/kube/client/client';
import type { UnstructuredClient } from '../../../src/kube/client/unstructured';
import { createMachineObjects } from '../../../src/controlplane/create-machine';
import type { MachineObjects } from '../../../src/controlplane/machine-objects';

const objects = {
  infraMachine: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1alpha1', kind: 'SimMachine', metadata: { name: 'cp-x', namespace: 'ns' } },
  talosConfig: { apiVersion: 'bootstrap.cluster.x-k8s.io/v1alpha3', kind: 'TalosConfig', metadata: { name: 'cp-x', namespace: 'ns' }, spec: {} },
  machine: { apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Machine', metadata: { name: 'cp-x', namespace: 'ns' }, spec: { clusterName: 'c', bootstrap: {}, infrastructureRef: { apiGroup: 'g', kind: 'SimMachine', name: 'cp-x' } } },
} as unknown as MachineObjects;

function writers(failOn: string) {
  const log: string[] = [];
  const act = async (what: string) => {
    log.push(what);
    if (what === failOn) throw new Error(`${what} refused`);
  };
  const client = {
    create: (kind: { kind: string }) => act(`create ${kind.kind}`),
    delete: (kind: { kind: string }) => act(`delete ${kind.kind}`),
  } as unknown as KubeClient;
  const unstructured = {
    create: (obj: { kind: string }) => act(`create ${obj.kind}`),
    delete: (ref: { kind: string }) => act(`delete ${ref.kind}`),
  } as unknown as UnstructuredClient;
  return { client, unstructured, log };
}

describe('createMachineObjects', () => {
  const signal = new AbortController().signal;

  it('creates the infrastructure machine, the TalosConfig and the Machine, in that order', async () => {
    const w = writers('none');
    await createMachineObjects(w, objects, signal);
    expect(w.log).toEqual(['create SimMachine', 'create TalosConfig', 'create Machine']);
  });

  it('a refused Machine takes back the TalosConfig and the infrastructure machine, and its error is reported', async () => {
    const w = writers('create Machine');
    await expect(createMachineObjects(w, objects, signal)).rejects.toThrow('create Machine refused');
    expect(w.log).toEqual(['create SimMachine', 'create TalosConfig', 'create Machine', 'delete TalosConfig', 'delete SimMachine']);
  });

  it('a refused TalosConfig takes back the infrastructure machine only', async () => {
    const w = writers('create TalosConfig');
    await expect(createMachineObjects(w, objects, signal)).rejects.toThrow('create TalosConfig refused');
    expect(w.log).toEqual(['create SimMachine', 'create TalosConfig', 'delete SimMachine']);
  });
});
