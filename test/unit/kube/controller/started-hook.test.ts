// A reconciler may get ready when its controller starts (on the leader), before the first key.
import { Controller } from '../../../../src/kube/controller/controller';
import type { ResourceKind } from '../../../../src/kube/client/resource';

const Widget: ResourceKind = { group: 'example.dev', version: 'v1', kind: 'Widget', plural: 'widgets', namespaced: true };

it('calls started once when the controller starts, before any reconcile, and again after a restart', async () => {
  const calls: string[] = [];
  const controller = new Controller({
    name: 'widget', primary: Widget, sources: [],
    reconciler: { started: () => calls.push('started'), reconcile: async (key) => void calls.push(`reconcile ${key.name}`) },
  });
  expect(calls).toEqual([]);
  controller.start();
  controller.start(); // already running: not again
  controller.enqueue({ namespace: 'ns', name: 'w' });
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(calls).toEqual(['started', 'reconcile w']);
  await controller.stop(0);
  controller.start();
  expect(calls).toEqual(['started', 'reconcile w', 'started']);
  await controller.stop(0);
});
