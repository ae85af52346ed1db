// What the e2e scenarios declare in the world, the way a user writes it: a Cluster with its
// SimCluster, Machines and MachineDeployments with their bootstrap and infrastructure templates.
// Nothing here plays a controller: Cluster API core, the simulated infrastructure provider and our
// operator run in the world. The one step that belongs to a control-plane provider (not there
// yet) is `bootstrapEtcd`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readWorld } from '../world/world';
import { KubeClient } from '../../src/kube/client/client';
import type { KubeObject } from '../../src/kube/meta/object';
import type { ResourceKind } from '../../src/kube/client/resource';
import { ClusterKind, MachineKind } from '../../src/api/capi/v1beta2/resources';
import { API_VERSION as CAPI_API_VERSION, CLUSTER_NAME_LABEL, CONTROL_PLANE_LABEL, type Cluster, type FailureDomain, type Machine } from '../../src/api/capi/v1beta2/types';
import type { Condition } from '../../src/api/meta';
import { V1BETA1 } from '../../src/api/bootstrap/resources';
import type { TalosConfigSpec } from '../../src/api/bootstrap/v1beta1/types';
import { TalosApiError, TalosClient, unwrapAll } from '../../src/talos/api';
import { INFRA_API_VERSION, INFRA_GROUP, SimClusterKind, SimMachineKind, SimMachineTemplateKind, type SimMachine } from '../world/infra/api';
import { createNamespace, decode, eventually } from '../support/capi-fixtures';
import { TalosSimControl } from '../support/talos-sim';

export { eventually, decode };

const kind = (name: string, plural: string, group = 'cluster.x-k8s.io', version = 'v1beta2'): ResourceKind => ({ group, version, kind: name, plural, namespaced: true });
export const MachineDeploymentKind = kind('MachineDeployment', 'machinedeployments');
export const MachineHealthCheckKind = kind('MachineHealthCheck', 'machinehealthchecks');
export const SecretKind: ResourceKind = { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true };

/** Kubernetes version the scenarios run (its kubelet image is in every rendered config). */
export const KUBERNETES_VERSION = 'v1.34.1';
export const TALOS_VERSION = 'v1.13';
/** The simulated machines are metal: like every bare-metal user, the configs name the install disk. */
export const INSTALL_DISK_PATCH = { op: 'add', path: '/machine/install/disk', value: '/dev/vda' };
/** The config patch naming the Talos installer image (so the Talos version a node runs). */
export const installerImagePatch = (image: string) => ({ op: 'add', path: '/machine/install/image', value: image });

export interface World {
  client: KubeClient;
  /** The world's simulator (faults, power, node views). */
  sim: TalosSimControl;
  dir: string;
}

export function world(): World {
  const dir = process.env.WORLD_DIR;
  if (!dir) throw new Error('WORLD_DIR is not set: run the e2e project (npm run test:e2e)');
  const state = readWorld(dir);
  return { client: KubeClient.load(state.kubeconfig, { qps: 50, burst: 100 }), sim: new TalosSimControl(state.infra.simControlUrl), dir };
}

/** How long the simulator took to boot a node: its first event to its last of the first boot. */
export async function nodeBootSeconds(w: World, nodeId: string): Promise<number> {
  const node = await w.sim.inspect(nodeId);
  const times = (node.events ?? []).map((e) => Date.parse(e.at)).filter((t) => Number.isFinite(t));
  return times.length < 2 ? 0 : (Math.max(...times) - Math.min(...times)) / 1000;
}

export { createNamespace };

const bootstrapRef = (name: string, kindName = 'TalosConfig') => ({ apiGroup: 'bootstrap.cluster.x-k8s.io', kind: kindName, name });
const infraRef = (name: string, kindName: string) => ({ apiGroup: INFRA_GROUP, kind: kindName, name });

/** A Cluster whose infrastructure is a SimCluster of the same name (no control-plane provider yet). */
export async function createSimCluster(client: KubeClient, namespace: string, name: string): Promise<Cluster> {
  await client.create(SimClusterKind, { apiVersion: INFRA_API_VERSION, kind: 'SimCluster', metadata: { name, namespace }, spec: {} });
  return client.create<Cluster>(ClusterKind, {
    apiVersion: CAPI_API_VERSION, kind: 'Cluster', metadata: { name, namespace },
    spec: { infrastructureRef: infraRef(name, 'SimCluster') },
  } as Cluster);
}

export interface MachineOptions {
  controlPlane?: boolean;
  /** The TalosConfig spec (default: an init config for a control plane, else a worker). */
  config?: TalosConfigSpec;
  /** Create the TalosConfig from this manifest instead (e.g. a seed, as v1alpha3). */
  configManifest?: { kind: ResourceKind; body: KubeObject };
  version?: string;
  /** Labels of all three objects besides the cluster ones (e.g. a watch filter). */
  labels?: Record<string, string>;
}

/** A Machine with its TalosConfig and SimMachine, all named `name`. */
export async function createMachine(client: KubeClient, cluster: Cluster, name: string, options: MachineOptions = {}): Promise<Machine> {
  const namespace = cluster.metadata.namespace!;
  const clusterName = cluster.metadata.name!;
  if (options.configManifest) {
    await client.create(options.configManifest.kind, { ...options.configManifest.body, metadata: { ...options.configManifest.body.metadata, name, namespace } });
  } else {
    const spec = options.config ?? { generateType: options.controlPlane ? 'init' : 'worker', talosVersion: TALOS_VERSION, configPatches: [INSTALL_DISK_PATCH] };
    await client.create(V1BETA1.talosConfig, { apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1', kind: 'TalosConfig', metadata: { name, namespace, labels: options.labels }, spec });
  }
  await client.create(SimMachineKind, { apiVersion: INFRA_API_VERSION, kind: 'SimMachine', metadata: { name, namespace, labels: options.labels }, spec: {} });
  const labels: Record<string, string> = { ...options.labels, [CLUSTER_NAME_LABEL]: clusterName, ...(options.controlPlane ? { [CONTROL_PLANE_LABEL]: '' } : {}) };
  return client.create<Machine>(MachineKind, {
    apiVersion: CAPI_API_VERSION, kind: 'Machine', metadata: { name, namespace, labels },
    spec: {
      clusterName, version: options.version ?? KUBERNETES_VERSION,
      bootstrap: { configRef: bootstrapRef(name, options.configManifest?.body.kind ?? 'TalosConfig') },
      infrastructureRef: infraRef(name, 'SimMachine'),
    },
  } as Machine);
}

/** A TalosConfigTemplate and a SimMachineTemplate for workers, both named `name`. */
export async function createWorkerTemplates(client: KubeClient, namespace: string, name: string, spec: Partial<TalosConfigSpec> = {}): Promise<void> {
  await client.create(V1BETA1.talosConfigTemplate, {
    apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1', kind: 'TalosConfigTemplate', metadata: { name, namespace },
    spec: { template: { spec: { generateType: 'worker', talosVersion: TALOS_VERSION, ...spec, configPatches: [INSTALL_DISK_PATCH, ...(spec.configPatches ?? [])] } } },
  });
  await client.create(SimMachineTemplateKind, {
    apiVersion: INFRA_API_VERSION, kind: 'SimMachineTemplate', metadata: { name, namespace }, spec: { template: { spec: {} } },
  });
}

export interface MachineDeployment extends KubeObject {
  spec: {
    clusterName: string;
    replicas?: number;
    template: { spec: { bootstrap: { configRef: { name: string } }; infrastructureRef: { name: string } } };
  };
  status?: { replicas?: number; readyReplicas?: number; availableReplicas?: number; upToDateReplicas?: number; phase?: string };
}

/** A MachineDeployment of workers from the templates named `templates`, at `version` (default KUBERNETES_VERSION). */
export async function createMachineDeployment(
  client: KubeClient, cluster: Cluster, name: string, replicas: number, templates: string, version = KUBERNETES_VERSION,
): Promise<MachineDeployment> {
  const namespace = cluster.metadata.namespace!;
  const clusterName = cluster.metadata.name!;
  const selector = { [CLUSTER_NAME_LABEL]: clusterName, 'cluster.x-k8s.io/deployment-name': name };
  return client.create<MachineDeployment>(MachineDeploymentKind, {
    apiVersion: CAPI_API_VERSION, kind: 'MachineDeployment', metadata: { name, namespace },
    spec: {
      clusterName, replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: selector },
        spec: {
          clusterName, version,
          bootstrap: { configRef: bootstrapRef(templates, 'TalosConfigTemplate') },
          infrastructureRef: infraRef(templates, 'SimMachineTemplate'),
        },
      },
    },
  } as unknown as MachineDeployment);
}

export function conditionOf(object: { status?: { conditions?: Condition[] } } | undefined, type: string): Condition | undefined {
  return object?.status?.conditions?.find((c) => c.type === type);
}

export async function machinesOf(client: KubeClient, namespace: string, clusterName: string): Promise<Machine[]> {
  const list = await client.list<Machine>(MachineKind, { namespace, labelSelector: `${CLUSTER_NAME_LABEL}=${clusterName}` });
  return list.items;
}

/** Waits until exactly `count` Machines of the cluster (matching `filter`) are Running with a nodeRef. */
export async function waitForRunningMachines(
  client: KubeClient, namespace: string, clusterName: string, count: number,
  { timeoutMs = 240_000, filter = () => true }: { timeoutMs?: number; filter?: (m: Machine) => boolean } = {},
): Promise<Machine[]> {
  let last: Machine[] = [];
  try {
    return await eventually(`${count} Running Machines in ${namespace}/${clusterName}`, async () => {
      last = (await machinesOf(client, namespace, clusterName)).filter(filter);
      const running = last.filter((m) => m.status?.phase === 'Running' && m.status.nodeRef?.name && !m.metadata.deletionTimestamp);
      return running.length === count && last.length === count ? running : undefined;
    }, { timeoutMs, intervalMs: 500 });
  } catch (error) {
    const states = last.map((m) => `${m.metadata.name}: ${m.status?.phase ?? '-'} nodeRef=${m.status?.nodeRef?.name ?? '-'}`).join('; ');
    throw new Error(`${(error as Error).message} (machines: ${states || 'none'})`, { cause: error });
  }
}

export async function simMachine(client: KubeClient, namespace: string, name: string): Promise<SimMachine> {
  return client.get<SimMachine>(SimMachineKind, namespace, name);
}

/**
 * Bootstraps etcd on a control-plane Machine's node through our Talos client with the
 * talosconfig the operator wrote — a control-plane provider's job, played here until one exists.
 */
export async function bootstrapEtcd(client: KubeClient, cluster: Cluster, machineName: string): Promise<void> {
  const namespace = cluster.metadata.namespace!;
  const machine = await eventually(`Machine ${machineName} has an address`, async () => {
    const m = await client.get<Machine>(MachineKind, namespace, machineName);
    return m.status?.addresses?.some((a) => a.type === 'InternalIP') ? m : undefined;
  }, { timeoutMs: 120_000, intervalMs: 250 });
  const address = machine.status!.addresses!.find((a) => a.type === 'InternalIP')!.address;
  const secret = await client.get<KubeObject & { data?: Record<string, string> }>(SecretKind, namespace, `${cluster.metadata.name}-talosconfig`);
  const talos = TalosClient.fromTalosconfig(decode(secret.data?.talosconfig), { endpoints: [address] });
  try {
    await eventually(`etcd bootstrap on ${machineName}`, async () => {
      try {
        unwrapAll(await talos.bootstrap());
      } catch (error) {
        if (!(error instanceof TalosApiError && error.codeName === 'ALREADY_EXISTS')) throw error;
      }
      return true;
    }, { timeoutMs: 60_000, intervalMs: 500 });
  } finally {
    talos.close();
  }
}

/** A client for the workload cluster, from the `<cluster>-kubeconfig` Secret Cluster API wrote. */
export async function workloadClient(w: World, namespace: string, clusterName: string): Promise<KubeClient> {
  const secret = await eventually(`${clusterName}-kubeconfig`, () =>
    w.client.get<KubeObject & { data?: Record<string, string> }>(SecretKind, namespace, `${clusterName}-kubeconfig`).catch(() => undefined),
  { timeoutMs: 120_000, intervalMs: 500 });
  const path = join(w.dir, `kubeconfig-${namespace}-${clusterName}`);
  writeFileSync(path, decode(secret.data?.value), { mode: 0o600 });
  return KubeClient.load(path);
}

/**
 * A Cluster whose control plane is a TalosControlPlane of `replicas` Machines cloned from a
 * SimMachineTemplate, seed style: the controlplane config leaves nothing but the Talos version and
 * the install disk to say. All objects are named after the cluster.
 */
export interface ClusterOptions {
  /** Labels of every object created here (e.g. a watch filter). */
  labels?: Record<string, string>;
  /** The failure domains the SimCluster offers (Cluster API copies them to the Cluster). */
  failureDomains?: FailureDomain[];
  /** The control plane's Kubernetes version (default KUBERNETES_VERSION). */
  version?: string;
  /** Annotations of the TalosControlPlane (e.g. the InPlace rollout strategy). */
  annotations?: Record<string, string>;
  /** Config patches of the control-plane Machines besides the install disk. */
  configPatches?: Record<string, unknown>[];
}

export async function createClusterWithControlPlane(
  client: KubeClient, namespace: string, name: string, replicas: number, { labels, failureDomains, version = KUBERNETES_VERSION, annotations, configPatches = [] }: ClusterOptions = {},
): Promise<Cluster> {
  await client.create(SimClusterKind, {
    apiVersion: INFRA_API_VERSION, kind: 'SimCluster', metadata: { name, namespace, labels }, spec: failureDomains ? { failureDomains } : {},
  });
  await client.create(SimMachineTemplateKind, {
    apiVersion: INFRA_API_VERSION, kind: 'SimMachineTemplate', metadata: { name: `${name}-control-plane`, namespace, labels }, spec: { template: { spec: {} } },
  });
  await client.create(TalosControlPlaneKind, {
    apiVersion: 'controlplane.cluster.x-k8s.io/v1alpha3', kind: 'TalosControlPlane', metadata: { name: `${name}-control-plane`, namespace, labels, annotations },
    spec: {
      version,
      replicas,
      infrastructureTemplate: { apiVersion: INFRA_API_VERSION, kind: 'SimMachineTemplate', name: `${name}-control-plane` },
      controlPlaneConfig: { controlplane: { generateType: 'controlplane', talosVersion: TALOS_VERSION, configPatches: [INSTALL_DISK_PATCH, ...configPatches] } },
    },
  });
  return client.create<Cluster>(ClusterKind, {
    apiVersion: CAPI_API_VERSION, kind: 'Cluster', metadata: { name, namespace, labels },
    spec: {
      infrastructureRef: infraRef(name, 'SimCluster'),
      controlPlaneRef: { apiGroup: 'controlplane.cluster.x-k8s.io', kind: 'TalosControlPlane', name: `${name}-control-plane` },
    },
  } as Cluster);
}

export const TalosControlPlaneKind: ResourceKind = {
  group: 'controlplane.cluster.x-k8s.io', version: 'v1alpha3', kind: 'TalosControlPlane', plural: 'taloscontrolplanes', namespaced: true,
};

/** A Talos client for a Machine's node with the cluster's talosconfig (close it after use). */
export async function talosClientFor(client: KubeClient, cluster: Cluster, machine: Machine): Promise<TalosClient> {
  const address = machine.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  if (!address) throw new Error(`Machine ${machine.metadata.name} has no InternalIP`);
  const secret = await client.get<KubeObject & { data?: Record<string, string> }>(SecretKind, cluster.metadata.namespace!, `${cluster.metadata.name}-talosconfig`);
  return TalosClient.fromTalosconfig(decode(secret.data?.talosconfig), { endpoints: [address] });
}
