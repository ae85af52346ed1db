// A seed-style Cluster whose control plane is a TalosControlPlane of 3 replicas, plus a
// MachineDeployment of 2 workers, comes up in the world with nothing played by hand: our control
// plane provider creates the Machines, bootstraps etcd through the Talos API and writes the
// kubeconfig; the real Cluster API marks the Cluster's control plane initialized and available.
import { ClusterKind } from '../../src/api/capi/v1beta2/resources';
import { CONTROL_PLANE_LABEL, type Cluster, type Machine } from '../../src/api/capi/v1beta2/types';
import type { TalosControlPlane } from '../../src/api/controlplane/v1alpha3/types';
import { unwrapSingle } from '../../src/talos/api';
import {
  conditionOf, createClusterWithControlPlane, createMachineDeployment, createNamespace, createWorkerTemplates, eventually,
  KUBERNETES_VERSION, machinesOf, talosClientFor, TalosControlPlaneKind, waitForRunningMachines, workloadClient, world,
} from './world-fixtures';
import { NodeKind } from '../../src/kube/client/resource';

jest.setTimeout(900_000);

const w = world();
const controlPlanes = (m: Machine) => CONTROL_PLANE_LABEL in (m.metadata.labels ?? {});

describe('a TalosControlPlane of 3 replicas and 2 workers', () => {
  let namespace: string;
  let cluster: Cluster;
  let appliedAt = 0;

  beforeAll(async () => {
    appliedAt = Date.now();
    namespace = await createNamespace(w.client, 'e2e-cp-up');
    cluster = await createClusterWithControlPlane(w.client, namespace, 'gamma', 3);
    await createWorkerTemplates(w.client, namespace, 'gamma-workers');
    await createMachineDeployment(w.client, cluster, 'gamma-workers', 2, 'gamma-workers');
  });

  it('comes up: 3 control-plane Machines and 2 workers Running, the control plane Ready and the Cluster says so', async () => {
    const tcpReady = eventually('TalosControlPlane 3/3 ready', async () => {
      const tcp = await w.client.get<TalosControlPlane>(TalosControlPlaneKind, namespace, 'gamma-control-plane');
      return tcp.status?.readyReplicas === 3 && tcp.status.ready ? tcp : undefined;
    }, { timeoutMs: 300_000, intervalMs: 250 }).then((tcp) => ({ tcp, at: Date.now() }));
    const machines = await waitForRunningMachines(w.client, namespace, 'gamma', 5, { timeoutMs: 300_000 });
    const { at } = await tcpReady;
    const running = Date.now();
    // Ready counts Nodes Ready in the workload cluster; Available counts Cluster API's Machine
    // Available, which follows once Cluster API's own cache of the workload cluster has connected.
    const tcp = await eventually('TalosControlPlane 3/3 available', async () => {
      const current = await w.client.get<TalosControlPlane>(TalosControlPlaneKind, namespace, 'gamma-control-plane');
      return current.status?.availableReplicas === 3 ? current : undefined;
    }, { timeoutMs: 120_000, intervalMs: 250 });
    process.stderr.write(`[figures] apply → control plane 3/3 Ready: ${((at - appliedAt) / 1000).toFixed(1)} s; → 5 Machines Running: ${((running - appliedAt) / 1000).toFixed(1)} s; → 3/3 Available: ${((Date.now() - appliedAt) / 1000).toFixed(1)} s\n`);

    const cps = machines.filter(controlPlanes);
    expect(cps).toHaveLength(3);
    for (const machine of cps) {
      expect(machine.metadata.ownerReferences?.find((r) => r.controller)?.name).toBe('gamma-control-plane');
      expect(machine.spec.version).toBe(KUBERNETES_VERSION);
      // One name for the Machine, its TalosConfig and its infrastructure machine.
      expect(machine.spec.bootstrap.configRef?.name).toBe(machine.metadata.name);
      expect(machine.spec.infrastructureRef.name).toBe(machine.metadata.name);
    }
    expect(tcp.status).toMatchObject({
      replicas: 3, readyReplicas: 3, availableReplicas: 3, upToDateReplicas: 3, unavailableReplicas: 0,
      initialized: true, ready: true, bootstrapped: true, initialization: { controlPlaneInitialized: true },
      versions: [{ version: KUBERNETES_VERSION, replicas: 3 }], selector: 'cluster.x-k8s.io/cluster-name=gamma,cluster.x-k8s.io/control-plane=',
    });
    const conditions = Object.fromEntries((tcp.status?.v1beta2?.conditions ?? []).map((c) => [c.type, c.status]));
    expect(conditions).toMatchObject({
      Available: 'True', Paused: 'False', ScalingUp: 'False', ScalingDown: 'False', RollingOut: 'False', Deleting: 'False',
      Initialized: 'True', MachinesUpToDate: 'True',
    });
    await eventually('etcd and the Talos services reported healthy', async () => {
      const current = await w.client.get<TalosControlPlane>(TalosControlPlaneKind, namespace, 'gamma-control-plane');
      const healthy = (type: string) => current.status?.v1beta2?.conditions?.find((c) => c.type === type)?.status === 'True';
      return healthy('EtcdClusterHealthy') && healthy('ControlPlaneComponentsHealthy') && healthy('CertificatesAvailable') ? true : undefined;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    // Each control-plane Machine carries its etcd member's, its Talos services' and its static pods' health.
    const perMachine = [
      'EtcdMemberHealthy', 'ApidHealthy', 'ContainerdHealthy', 'CriHealthy', 'KubeletHealthy', 'MachinedHealthy', 'TrustdHealthy',
      'APIServerPodHealthy', 'ControllerManagerPodHealthy', 'SchedulerPodHealthy',
    ];
    await eventually('each control-plane Machine says its etcd member, Talos services and static pods are healthy', async () => {
      const current = (await machinesOf(w.client, namespace, 'gamma')).filter(controlPlanes);
      return current.length === 3 && current.every((m) => perMachine.every((type) => conditionOf(m, type)?.status === 'True')) ? true : undefined;
    }, { timeoutMs: 60_000, intervalMs: 250 });

    let last: Cluster | undefined;
    await eventually('Cluster ControlPlaneInitialized, ControlPlaneAvailable and ControlPlaneMachinesUpToDate', async () => {
      last = await w.client.get<Cluster>(ClusterKind, namespace, 'gamma');
      // ControlPlaneMachinesUpToDate: Cluster API sums up the UpToDate condition the provider keeps on each Machine.
      return ['ControlPlaneInitialized', 'ControlPlaneAvailable', 'ControlPlaneMachinesUpToDate'].every((type) => conditionOf(last, type)?.status === 'True') ? last : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500 }).catch((error: Error) => {
      const seen = (last?.status?.conditions ?? []).map((c) => `${c.type}=${c.status} (${c.reason})`).join(', ');
      throw new Error(`${error.message}; conditions: ${seen}`);
    });
    expect(last?.status?.initialization?.controlPlaneInitialized).toBe(true);
  });

  it('has one etcd of 3 members, named after the control-plane Nodes', async () => {
    const cps = (await waitForRunningMachines(w.client, namespace, 'gamma', 3, { filter: controlPlanes }));
    const talos = await talosClientFor(w.client, cluster, cps[0]!);
    try {
      const list = unwrapSingle(await talos.etcdMemberList(), 'EtcdMemberList');
      expect(list.members.map((m) => m.hostname).sort()).toEqual(cps.map((m) => m.status!.nodeRef!.name).sort());
    } finally {
      talos.close();
    }
  });

  it('writes a <cluster>-kubeconfig that works against the workload apiserver', async () => {
    const workload = await workloadClient(w, namespace, 'gamma');
    const nodes = await workload.list(NodeKind, {});
    expect(nodes.items).toHaveLength(5);
  });

  it('deleted by itself, it waits for the workers to go first and says so; with its Cluster it deletes its Machines, then lets itself go', async () => {
    await w.client.delete(TalosControlPlaneKind, namespace, 'gamma-control-plane');
    const deleting = await eventually('Deleting=True WaitingForWorkers', async () => {
      const tcp = await w.client.get<TalosControlPlane>(TalosControlPlaneKind, namespace, 'gamma-control-plane');
      return tcp.status?.v1beta2?.conditions?.find((c) => c.type === 'Deleting' && c.reason === 'WaitingForWorkers');
    }, { timeoutMs: 60_000, intervalMs: 250 });
    expect(deleting.message).toMatch(/^Waiting for 2 worker Machines to be deleted first: gamma-workers-/);
    expect((await machinesOf(w.client, namespace, 'gamma')).filter((m) => controlPlanes(m) && m.metadata.deletionTimestamp)).toEqual([]);

    await w.client.delete(ClusterKind, namespace, 'gamma');
    await eventually('Cluster, TalosControlPlane and Machines gone', async () => {
      const [machines, tcp, gone] = await Promise.all([
        machinesOf(w.client, namespace, 'gamma'),
        w.client.get(TalosControlPlaneKind, namespace, 'gamma-control-plane').then(() => false, () => true),
        w.client.get(ClusterKind, namespace, 'gamma').then(() => false, () => true),
      ]);
      return machines.length === 0 && tcp && gone ? true : undefined;
    }, { timeoutMs: 180_000, intervalMs: 500 });
  });
});
