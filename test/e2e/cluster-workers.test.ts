// A cluster declared from CRs comes up in the world with the real Cluster API controllers: a
// control-plane Machine and a MachineDeployment of workers, rendered by our bootstrap provider,
// booted by the simulated infrastructure, registered as Nodes of a real workload apiserver. Then
// the real MachineSet controller scales the workers and rolls them to a new bootstrap template.
import { V1BETA1 } from '../../src/api/bootstrap/resources';
import { ClusterKind } from '../../src/api/capi/v1beta2/resources';
import { CONTROL_PLANE_LABEL, type Cluster, type Machine } from '../../src/api/capi/v1beta2/types';
import type { KubeObject } from '../../src/kube/meta/object';
import {
  bootstrapEtcd, conditionOf, createMachine, createMachineDeployment, createNamespace, createSimCluster, createWorkerTemplates,
  eventually, MachineDeploymentKind, machinesOf, nodeBootSeconds, simMachine, waitForRunningMachines, workloadClient, world,
} from './world-fixtures';
import { NodeKind } from '../../src/kube/client/resource';

jest.setTimeout(900_000);

interface Node extends KubeObject {
  spec?: { providerID?: string };
  status?: { conditions?: { type: string; status: string }[]; nodeInfo?: { kubeletVersion?: string } };
}

const w = world();
const workers = (m: Machine) => !(CONTROL_PLANE_LABEL in (m.metadata.labels ?? {}));

describe('a cluster of one control plane and a MachineDeployment of workers', () => {
  let namespace: string;
  let cluster: Cluster;

  let appliedAt = 0;

  beforeAll(async () => {
    appliedAt = Date.now();
    namespace = await createNamespace(w.client, 'e2e-workers');
    cluster = await createSimCluster(w.client, namespace, 'alpha');
    await createMachine(w.client, cluster, 'alpha-cp-0', { controlPlane: true });
    await createWorkerTemplates(w.client, namespace, 'alpha-workers-v1');
    await createMachineDeployment(w.client, cluster, 'alpha-workers', 2, 'alpha-workers-v1');
  });

  it('comes up: every Machine Running with a nodeRef, Nodes Ready in the workload cluster, the Cluster says so', async () => {
    await bootstrapEtcd(w.client, cluster, 'alpha-cp-0');
    const machines = await waitForRunningMachines(w.client, namespace, 'alpha', 3);
    expect(machines.filter(workers)).toHaveLength(2);
    const boots = await Promise.all(machines.map(async (m) => nodeBootSeconds(w, (await simMachine(w.client, namespace, m.metadata.name!)).status!.nodeId!)));
    process.stderr.write(`[figures] apply → 3 Machines Running: ${((Date.now() - appliedAt) / 1000).toFixed(1)} s; simulator boot times ${boots.map((b) => b.toFixed(2)).join(' + ')} = ${boots.reduce((a, b) => a + b, 0).toFixed(2)} s (the floor)\n`);

    const workload = await workloadClient(w, namespace, 'alpha');
    const nodes = await eventually('3 Ready Nodes', async () => {
      const list = await workload.list<Node>(NodeKind, {});
      const ready = list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return ready.length === 3 ? list.items : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    for (const machine of machines) {
      const node = nodes.find((n) => n.metadata.name === machine.status!.nodeRef!.name)!;
      expect(node.spec?.providerID).toBe(machine.spec.providerID);
      expect(node.status?.nodeInfo?.kubeletVersion).toBe(machine.spec.version);
      expect('node-role.kubernetes.io/control-plane' in (node.metadata.labels ?? {})).toBe(!workers(machine));
    }

    // A control plane of stand-alone Machines: CAPI decides initialization from their nodeRefs.
    const expected = ['InfrastructureReady', 'ControlPlaneInitialized', 'RemoteConnectionProbe', 'WorkersAvailable'];
    let last: Cluster | undefined;
    const up = await eventually('Cluster conditions', async () => {
      last = await w.client.get<Cluster>(ClusterKind, namespace, 'alpha');
      return expected.every((type) => conditionOf(last, type)?.status === 'True') ? last : undefined;
    }, { timeoutMs: 120_000, intervalMs: 500 }).catch((error: Error) => {
      const seen = (last?.status?.conditions ?? []).map((c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}`).join(', ');
      throw new Error(`${error.message}; conditions: ${seen}`);
    });
    expect(up.status?.phase).toBe('Provisioned');
  });

  it('scales the MachineDeployment 2 → 4 → 1 through the real MachineSet controller', async () => {
    for (const replicas of [4, 1]) {
      await w.client.patch(MachineDeploymentKind, namespace, 'alpha-workers', { spec: { replicas } }, 'merge');
      await waitForRunningMachines(w.client, namespace, 'alpha', replicas, { filter: workers });
    }
  });

  it('rolls the workers to a new TalosConfigTemplate', async () => {
    const before = new Set((await machinesOf(w.client, namespace, 'alpha')).filter(workers).map((m) => m.metadata.uid));
    await createWorkerTemplates(w.client, namespace, 'alpha-workers-v2', { configPatches: [{ op: 'add', path: '/machine/kubelet/extraArgs', value: { 'v': '2' } }] });
    await w.client.patch(MachineDeploymentKind, namespace, 'alpha-workers', {
      spec: { template: { spec: { bootstrap: { configRef: { name: 'alpha-workers-v2' } } } } },
    }, 'merge');
    const rolled = await eventually('every worker replaced', async () => {
      const running = await waitForRunningMachines(w.client, namespace, 'alpha', 1, { filter: workers });
      return running.every((m) => !before.has(m.metadata.uid)) ? running : undefined;
    }, { timeoutMs: 300_000, intervalMs: 1_000 });
    const config = await w.client.get<KubeObject>(V1BETA1.talosConfig, namespace, rolled[0]!.spec.bootstrap.configRef!.name);
    expect(config.metadata.annotations?.['cluster.x-k8s.io/cloned-from-name']).toBe('alpha-workers-v2');
  });
});
