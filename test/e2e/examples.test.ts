// examples/ — what `make demo` applies and users copy — applied unchanged into a namespace of the
// world comes up with nothing played by hand, by the demo's own definition of Ready (its table's
// reader): the Cluster's control plane Available, 3 control-plane and 2 worker Machines Running,
// Ready, with Nodes, 3 etcd members; the workload apiserver lists the 5 Nodes.
import { applyExamples, planOf, readExamples } from '../../scripts/demo-examples';
import { ClusterReader } from '../../scripts/demo-status';
import { frameOf, isReady, snapshotTables, type Snapshot } from '../../scripts/demo-table';
import { createNamespace, eventually, workloadClient, world } from './world-fixtures';
import { NodeKind } from '../../src/kube/client/resource';

jest.setTimeout(600_000);

const w = world();

it('examples/ comes up Ready: 3 control-plane nodes in one etcd, 2 workers, 5 Nodes in the workload cluster', async () => {
  const objects = readExamples();
  const plan = planOf(objects);
  const namespace = await createNamespace(w.client, 'e2e-examples');
  const appliedAt = Date.now();
  await applyExamples(w.client, objects, namespace);

  const reader = new ClusterReader(w.client, namespace, plan);
  let last: Snapshot | undefined;
  try {
    last = await eventually('the examples Ready', async () => {
      last = await reader.snapshot();
      return isReady(last, plan.controlPlaneReplicas + plan.workerReplicas) && last.etcdMembers?.length === plan.controlPlaneReplicas ? last : undefined;
    }, { timeoutMs: 300_000, intervalMs: 1_000 }).catch((error: Error) => {
      throw new Error(`${error.message}\n${last ? frameOf(snapshotTables(last)) : 'nothing read'}`);
    });
  } finally {
    reader.etcd.close();
  }
  process.stderr.write(`[figures] examples/ apply → Ready: ${((Date.now() - appliedAt) / 1000).toFixed(1)} s\n`);

  const nodeNames = last.machines.map((m) => m.status?.nodeRef?.name).sort();
  expect(last.etcdMembers!.map((m) => m.hostname).sort()).toEqual(
    last.machines.filter((m) => m.metadata.name!.startsWith(plan.controlPlane)).map((m) => m.status?.nodeRef?.name).sort());
  const workload = await workloadClient(w, namespace, plan.cluster);
  expect((await workload.list(NodeKind, {})).items.map((n) => n.metadata.name).sort()).toEqual(nodeNames);
});
