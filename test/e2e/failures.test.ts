// What goes wrong shows up where a user looks: a config Talos rejects is a failed boot on the
// SimMachine and the Machine never runs; a worker whose node dies goes NotReady in the workload
// cluster, a MachineHealthCheck marks it, and Cluster API replaces it with a new worker.
import { CONTROL_PLANE_LABEL, type Machine } from '../../src/api/capi/v1beta2/types';
import { MachineKind } from '../../src/api/capi/v1beta2/resources';
import type { KubeObject } from '../../src/kube/meta/object';
import {
  bootstrapEtcd, conditionOf, createMachine, createMachineDeployment, createNamespace, createSimCluster, createWorkerTemplates,
  eventually, INSTALL_DISK_PATCH, MachineHealthCheckKind, simMachine, waitForRunningMachines, workloadClient, world,
} from './world-fixtures';
import { NodeKind } from '../../src/kube/client/resource';

jest.setTimeout(900_000);

const w = world();
const workers = (m: Machine) => !(CONTROL_PLANE_LABEL in (m.metadata.labels ?? {}));

interface Node extends KubeObject {
  status?: { conditions?: { type: string; status: string; reason?: string }[] };
}

describe('failures in the world', () => {
  let namespace: string;

  beforeAll(async () => {
    namespace = await createNamespace(w.client, 'e2e-failures');
    const cluster = await createSimCluster(w.client, namespace, 'bravo');
    await createMachine(w.client, cluster, 'bravo-cp-0', { controlPlane: true });
    // Our engine renders it; Talos's validator refuses a shared VIP on a worker.
    await createMachine(w.client, cluster, 'bravo-bad-worker', {
      config: {
        generateType: 'worker', talosVersion: 'v1.13',
        configPatches: [INSTALL_DISK_PATCH, { op: 'add', path: '/machine/network/interfaces', value: [{ interface: 'eth0', dhcp: true, vip: { ip: '10.5.0.200' } }] }],
      },
    });
    await createWorkerTemplates(w.client, namespace, 'bravo-workers');
    await createMachineDeployment(w.client, cluster, 'bravo-workers', 1, 'bravo-workers');
    await bootstrapEtcd(w.client, cluster, 'bravo-cp-0');
  });

  it('a config Talos rejects: the SimMachine shows the failed boot with Talos\'s message, the Machine never runs', async () => {
    const failed = await eventually('SimMachine BootFailed', async () => {
      const machine = await simMachine(w.client, namespace, 'bravo-bad-worker');
      return conditionOf(machine, 'Ready')?.reason === 'BootFailed' ? machine : undefined;
    }, { timeoutMs: 180_000, intervalMs: 500 });
    expect(failed.status?.bootError).toContain('virtual (shared) IP is not allowed on non-controlplane nodes');
    expect(conditionOf(failed, 'Ready')?.message).toContain('virtual (shared) IP is not allowed');
    // The rest of the cluster comes up; this Machine is still not Running then.
    await waitForRunningMachines(w.client, namespace, 'bravo', 2, { filter: (m) => m.metadata.name !== 'bravo-bad-worker' });
    const bad = await w.client.get<Machine>(MachineKind, namespace, 'bravo-bad-worker');
    expect(bad.status?.phase).not.toBe('Running');
    expect(bad.status?.nodeRef).toBeUndefined();
    expect(conditionOf(bad, 'InfrastructureReady')?.status).toBe('False');
  });

  it('a worker whose node stops goes NotReady, the MachineHealthCheck marks it and Cluster API replaces it', async () => {
    const isDeploymentWorker = (m: Machine) => workers(m) && m.metadata.name !== 'bravo-bad-worker';
    const [victim] = await waitForRunningMachines(w.client, namespace, 'bravo', 1, { filter: isDeploymentWorker });
    await w.client.create(MachineHealthCheckKind, {
      apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'MachineHealthCheck', metadata: { name: 'bravo-workers', namespace },
      spec: {
        clusterName: 'bravo',
        selector: { matchLabels: { 'cluster.x-k8s.io/deployment-name': 'bravo-workers' } },
        checks: { unhealthyNodeConditions: [{ type: 'Ready', status: 'Unknown', timeoutSeconds: 5 }, { type: 'Ready', status: 'False', timeoutSeconds: 5 }] },
      },
    });
    const simNode = (await simMachine(w.client, namespace, victim!.metadata.name!)).status!.nodeId!;
    await w.sim.stopNode(simNode);

    const workload = await workloadClient(w, namespace, 'bravo');
    const notReady = await eventually('the stopped worker\'s Node NotReady', async () => {
      const node = await workload.get<Node>(NodeKind, '', victim!.status!.nodeRef!.name);
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
      return ready && ready.status !== 'True' ? ready : undefined;
    }, { timeoutMs: 120_000, intervalMs: 500 });
    // Decided by the workload cluster's own kube-controller-manager, as in a real cluster.
    expect(notReady.reason).toBe('NodeStatusUnknown');

    const replacement = await eventually('a new worker Running', async () => {
      const running = await waitForRunningMachines(w.client, namespace, 'bravo', 1, { filter: isDeploymentWorker });
      return running[0]!.metadata.uid !== victim!.metadata.uid ? running[0] : undefined;
    }, { timeoutMs: 400_000, intervalMs: 1_000 });
    expect(replacement!.metadata.name).not.toBe(victim!.metadata.name);
    await eventually('the unhealthy Machine gone', async () => {
      const gone = await w.client.get<Machine>(MachineKind, namespace, victim!.metadata.name!).then(() => false, () => true);
      return gone;
    }, { timeoutMs: 120_000, intervalMs: 1_000 });
  });
});
