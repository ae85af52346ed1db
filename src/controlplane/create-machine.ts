// Creating the three objects of a control-plane Machine: infrastructure machine, TalosConfig,
// Machine, in that order. When one fails, what was created before it is deleted again (nothing
// would ever own it: CACPPT leaves such orphans behind), and the first error is the one reported.
import type { KubeClient } from '../kube/client/client';
import { isNotFound } from '../kube/client/api-error';
import type { UnstructuredClient } from '../kube/client/unstructured';
import { MachineKind } from '../api/capi/v1beta2/resources';
import { V1ALPHA3 as BOOTSTRAP_V1ALPHA3 } from '../api/bootstrap/resources';
import type { MachineObjects } from './machine-objects';

export interface MachineWriters {
  client: KubeClient;
  unstructured: UnstructuredClient;
}

export async function createMachineObjects({ client, unstructured }: MachineWriters, objects: MachineObjects, signal: AbortSignal): Promise<void> {
  const { infraMachine, talosConfig, machine } = objects;
  const undo: (() => Promise<void>)[] = [];
  try {
    await unstructured.create(infraMachine, signal);
    undo.push(() => unstructured.delete({ apiVersion: infraMachine.apiVersion, kind: infraMachine.kind, namespace: infraMachine.metadata.namespace, name: infraMachine.metadata.name! }));
    await client.create(BOOTSTRAP_V1ALPHA3.talosConfig, talosConfig, signal);
    undo.push(async () => { await client.delete(BOOTSTRAP_V1ALPHA3.talosConfig, talosConfig.metadata.namespace!, talosConfig.metadata.name!); });
    await client.create(MachineKind, machine, signal);
  } catch (error) {
    // Not under the reconcile's signal: an aborted pass must not leave orphans behind either.
    for (const step of undo.reverse()) {
      await step().catch((undoError: unknown) => {
        if (!isNotFound(undoError)) throw undoError;
      });
    }
    throw error;
  }
}
