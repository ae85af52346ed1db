// A ClusterClass whose control plane is a TalosControlPlaneTemplate (with SimClusterTemplate,
// SimMachineTemplate and TalosConfigTemplate beside it) brings a topology Cluster up in the world —
// the real Cluster API topology controller stamps out the TalosControlPlane in v1beta1 — and a
// topology version bump rolls the control plane, then the workers, to the new version.
import { ClusterKind } from '../../src/api/capi/v1beta2/resources';
import { API_VERSION as CAPI_API_VERSION, CONTROL_PLANE_LABEL, type Cluster, type Machine } from '../../src/api/capi/v1beta2/types';
import { V1BETA1 as CONTROLPLANE_V1BETA1 } from '../../src/api/controlplane/resources';
import type { TalosControlPlane } from '../../src/api/controlplane/v1beta1/types';
import type { ResourceKind } from '../../src/kube/client/resource';
import { INFRA_API_VERSION, SimClusterTemplateKind, SimMachineTemplateKind } from '../world/infra/api';
import {
  conditionOf, createNamespace, createWorkerTemplates, eventually, INSTALL_DISK_PATCH, machinesOf, TALOS_VERSION, world,
} from './world-fixtures';

jest.setTimeout(900_000);

const w = world();
const ClusterClassKind: ResourceKind = { group: 'cluster.x-k8s.io', version: 'v1beta2', kind: 'ClusterClass', plural: 'clusterclasses', namespaced: true };
const FROM = 'v1.33.5';
const TO = 'v1.34.1';
const controlPlanes = (m: Machine) => CONTROL_PLANE_LABEL in (m.metadata.labels ?? {});

describe('a ClusterClass with a TalosControlPlaneTemplate', () => {
  let namespace: string;
  const name = 'topo';

  beforeAll(async () => {
    namespace = await createNamespace(w.client, 'e2e-cc');
    await w.client.create(SimClusterTemplateKind, {
      apiVersion: INFRA_API_VERSION, kind: 'SimClusterTemplate', metadata: { name: 'sim', namespace }, spec: { template: { spec: {} } },
    });
    await w.client.create(SimMachineTemplateKind, {
      apiVersion: INFRA_API_VERSION, kind: 'SimMachineTemplate', metadata: { name: 'sim-control-plane', namespace }, spec: { template: { spec: {} } },
    });
    await w.client.create(CONTROLPLANE_V1BETA1.talosControlPlaneTemplate, {
      apiVersion: 'controlplane.cluster.x-k8s.io/v1beta1', kind: 'TalosControlPlaneTemplate', metadata: { name: 'talos', namespace },
      spec: {
        template: {
          spec: {
            controlPlaneConfig: { controlplane: { generateType: 'controlplane', talosVersion: TALOS_VERSION, configPatches: [INSTALL_DISK_PATCH] } },
            machineTemplate: { metadata: { labels: { 'example.com/pool': 'control-plane' } } },
          },
        },
      },
    });
    await createWorkerTemplates(w.client, namespace, 'sim-workers');
    const templateRef = (apiVersion: string, kind: string, ref: string) => ({ templateRef: { apiVersion, kind, name: ref } });
    await w.client.create(ClusterClassKind, {
      apiVersion: CAPI_API_VERSION, kind: 'ClusterClass', metadata: { name: 'talos-sim', namespace },
      spec: {
        infrastructure: templateRef(INFRA_API_VERSION, 'SimClusterTemplate', 'sim'),
        controlPlane: {
          ...templateRef('controlplane.cluster.x-k8s.io/v1beta1', 'TalosControlPlaneTemplate', 'talos'),
          machineInfrastructure: templateRef(INFRA_API_VERSION, 'SimMachineTemplate', 'sim-control-plane'),
        },
        workers: {
          machineDeployments: [{
            class: 'default-worker',
            bootstrap: templateRef('bootstrap.cluster.x-k8s.io/v1beta1', 'TalosConfigTemplate', 'sim-workers'),
            infrastructure: templateRef(INFRA_API_VERSION, 'SimMachineTemplate', 'sim-workers'),
          }],
        },
      },
    });
    await w.client.create(ClusterKind, {
      apiVersion: CAPI_API_VERSION, kind: 'Cluster', metadata: { name, namespace },
      spec: {
        topology: {
          classRef: { name: 'talos-sim' },
          version: FROM,
          controlPlane: { replicas: 1 },
          workers: { machineDeployments: [{ class: 'default-worker', name: 'md-0', replicas: 1 }] },
        },
      },
    });
  });

  const controlPlane = async () => {
    const cluster = await w.client.get<Cluster>(ClusterKind, namespace, name);
    const ref = cluster.spec?.controlPlaneRef;
    return ref ? w.client.get<TalosControlPlane>(CONTROLPLANE_V1BETA1.talosControlPlane, namespace, ref.name) : undefined;
  };

  /** Both Machines Running at `version`, the control plane's replicas all up to date and Ready, the Cluster's topology reconciled. */
  const settledAt = (version: string) => eventually(`topology cluster settled at ${version}`, async () => {
    const [tcp, machines, cluster] = await Promise.all([controlPlane(), machinesOf(w.client, namespace, name), w.client.get<Cluster>(ClusterKind, namespace, name)]);
    const s = tcp?.status;
    const ready = s?.observedGeneration === tcp?.metadata.generation && s?.readyReplicas === 1 && s?.upToDateReplicas === 1 && s.replicas === 1;
    const machinesAt = machines.length === 2 && machines.every((m) => m.spec.version === version && m.status?.phase === 'Running' && !m.metadata.deletionTimestamp);
    return ready && machinesAt && conditionOf(cluster, 'TopologyReconciled')?.status === 'True' ? { tcp: tcp!, machines } : undefined;
  }, { timeoutMs: 420_000, intervalMs: 1_000 });

  it('brings the topology Cluster up: the TalosControlPlane is made from the template in v1beta1, its Machines carry the class metadata', async () => {
    const { tcp, machines } = await settledAt(FROM);
    expect(tcp.spec).toMatchObject({
      replicas: 1,
      version: FROM,
      machineTemplate: { spec: { infrastructureRef: { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: 'SimMachineTemplate' } } },
      controlPlaneConfig: { controlplane: { generateType: 'controlplane', talosVersion: TALOS_VERSION } },
      rollout: { strategy: { type: 'RollingUpdate' } },
    });
    // The topology controller clones the machine template under a name of its own.
    expect(tcp.spec.machineTemplate.spec.infrastructureRef.name).toMatch(/^topo-/);
    expect(conditionOf({ status: { conditions: tcp.status?.conditions } }, 'Available')?.status).toBe('True');
    const [machine] = machines.filter(controlPlanes);
    expect(machine!.metadata.labels?.['example.com/pool']).toBe('control-plane');
  });

  it('a label added through the topology reaches the running control-plane Machine in place, without a rollout', async () => {
    const [before] = (await machinesOf(w.client, namespace, name)).filter(controlPlanes);
    await w.client.patch(ClusterKind, namespace, name, { spec: { topology: { controlPlane: { metadata: { labels: { 'example.com/tier': 'gold' } } } } } }, 'merge');
    const after = await eventually('the Machine labelled', async () => {
      const [m] = (await machinesOf(w.client, namespace, name)).filter(controlPlanes);
      return m?.metadata.labels?.['example.com/tier'] === 'gold' ? m : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    expect(after.metadata.uid).toBe(before!.metadata.uid);
    expect(after.metadata.labels?.['example.com/pool']).toBe('control-plane');
    const tcp = await controlPlane();
    expect(tcp?.status?.upToDateReplicas).toBe(1);
  });

  it('rolls the control plane and the workers to a new topology version', async () => {
    const [before] = (await machinesOf(w.client, namespace, name)).filter(controlPlanes);
    await w.client.patch(ClusterKind, namespace, name, { spec: { topology: { version: TO } } }, 'merge');
    const { tcp, machines } = await settledAt(TO);
    expect(tcp.spec.version).toBe(TO);
    expect(tcp.status?.versions).toEqual([{ version: TO, replicas: 1 }]);
    const [after] = machines.filter(controlPlanes);
    expect(after!.metadata.uid).not.toBe(before!.metadata.uid);
    // The replacement is made from the template as it is now: both labels.
    expect(after!.metadata.labels).toMatchObject({ 'example.com/pool': 'control-plane', 'example.com/tier': 'gold' });
  });

  it('rollout.after (not managed by the topology) replaces the Machines created before it', async () => {
    const [before] = (await machinesOf(w.client, namespace, name)).filter(controlPlanes);
    const tcp = await controlPlane();
    await w.client.patch(CONTROLPLANE_V1BETA1.talosControlPlane, namespace, tcp!.metadata.name!, { spec: { rollout: { after: new Date().toISOString() } } }, 'merge');
    await eventually('the control-plane Machine replaced', async () => {
      const [m] = (await machinesOf(w.client, namespace, name)).filter(controlPlanes);
      return m && m.metadata.uid !== before!.metadata.uid ? m : undefined;
    }, { timeoutMs: 240_000, intervalMs: 1_000 });
    await settledAt(TO);
  });
});
