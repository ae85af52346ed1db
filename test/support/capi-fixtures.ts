// Cluster API objects for integration tests against the test bed: what the
// Cluster API core controllers and an infrastructure provider would have made,
// created directly (the test bed runs no controllers of its own).
import { randomBytes } from 'node:crypto';
import { KubeClient } from '../../src/kube/client/client';
import type { KubeObject } from '../../src/kube/meta/object';
import { SecretKind, type ResourceKind } from '../../src/kube/client/resource';
import { isNotFound } from '../../src/kube/client/api-error';
import { ClusterKind, MachineKind } from '../../src/api/capi/v1beta2/resources';
import { V1BETA1 } from '../../src/api/bootstrap/resources';
import { CLUSTER_NAME_LABEL, CONTROL_PLANE_LABEL, type Cluster, type Machine, type MachineAddress } from '../../src/api/capi/v1beta2/types';
import type { TalosConfig, TalosConfigSpec } from '../../src/api/bootstrap/v1beta1/types';

export const NamespaceKind: ResourceKind = { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false };

export function testClient(): KubeClient {
  const path = process.env.KUBECONFIG;
  if (!path) throw new Error('KUBECONFIG is not set: run this test in the jest integration project');
  return KubeClient.load(path, { qps: 500, burst: 1000 });
}

export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(3).toString('hex')}`;

export async function createNamespace(client: KubeClient, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await client.create(NamespaceKind, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

export interface ClusterOptions {
  endpoint?: { host: string; port: number };
  provisioned?: boolean;
  paused?: boolean;
  clusterNetwork?: NonNullable<Cluster['spec']>['clusterNetwork'];
}

export async function createCluster(client: KubeClient, namespace: string, name: string, options: ClusterOptions = {}): Promise<Cluster> {
  const endpoint = 'endpoint' in options ? options.endpoint : { host: `${name}.example.com`, port: 6443 };
  const created = await client.create<Cluster>(ClusterKind, {
    apiVersion: 'cluster.x-k8s.io/v1beta2',
    kind: 'Cluster',
    metadata: { name, namespace },
    spec: {
      ...(endpoint ? { controlPlaneEndpoint: endpoint } : {}),
      ...(options.clusterNetwork ? { clusterNetwork: options.clusterNetwork } : {}),
      ...(options.paused ? { paused: true } : {}),
      infrastructureRef: { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: 'ProxmoxCluster', name },
    },
  });
  if (options.provisioned === false) return created;
  return setClusterStatus(client, created, { initialization: { infrastructureProvisioned: true } });
}

export async function setClusterStatus(client: KubeClient, cluster: Cluster, status: NonNullable<Cluster['status']>): Promise<Cluster> {
  return client.patch<Cluster>(ClusterKind, cluster.metadata.namespace!, cluster.metadata.name!, { status }, 'merge', { subresource: 'status' });
}

export async function patchCluster(client: KubeClient, cluster: Cluster, patch: Record<string, unknown>): Promise<Cluster> {
  return client.patch<Cluster>(ClusterKind, cluster.metadata.namespace!, cluster.metadata.name!, patch, 'merge');
}

export interface MachineOptions {
  controlPlane?: boolean;
  version?: string;
  configName?: string;
  infraKind?: string;
  infraName?: string;
  dataSecretName?: string;
}

export async function createMachine(client: KubeClient, cluster: Cluster, name: string, options: MachineOptions = {}): Promise<Machine> {
  const labels: Record<string, string> = { [CLUSTER_NAME_LABEL]: cluster.metadata.name! };
  if (options.controlPlane) labels[CONTROL_PLANE_LABEL] = '';
  return client.create<Machine>(MachineKind, {
    apiVersion: 'cluster.x-k8s.io/v1beta2',
    kind: 'Machine',
    metadata: { name, namespace: cluster.metadata.namespace, labels },
    spec: {
      clusterName: cluster.metadata.name!,
      version: options.version ?? 'v1.34.1',
      bootstrap: {
        configRef: { apiGroup: 'bootstrap.cluster.x-k8s.io', kind: 'TalosConfig', name: options.configName ?? name },
        ...(options.dataSecretName ? { dataSecretName: options.dataSecretName } : {}),
      },
      infrastructureRef: { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: options.infraKind ?? 'ProxmoxMachine', name: options.infraName ?? `${name}-infra` },
    },
  });
}

export async function setMachineAddresses(client: KubeClient, machine: Machine, addresses: MachineAddress[]): Promise<Machine> {
  return client.patch<Machine>(MachineKind, machine.metadata.namespace!, machine.metadata.name!, { status: { addresses } }, 'merge', {
    subresource: 'status',
  });
}

/** A TalosConfig owned by its Machine, as Cluster API's Machine controller leaves it. */
export async function createTalosConfig(client: KubeClient, machine: Machine, spec: TalosConfigSpec, name = machine.metadata.name!): Promise<TalosConfig> {
  return client.create<TalosConfig>(V1BETA1.talosConfig, {
    apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1',
    kind: 'TalosConfig',
    metadata: {
      name,
      namespace: machine.metadata.namespace,
      labels: { [CLUSTER_NAME_LABEL]: machine.spec.clusterName },
      ownerReferences: [{ apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Machine', name: machine.metadata.name!, uid: machine.metadata.uid! }],
    },
    spec,
  });
}

export async function getTalosConfig(client: KubeClient, namespace: string, name: string): Promise<TalosConfig> {
  return client.get<TalosConfig>(V1BETA1.talosConfig, namespace, name);
}

export interface SecretData extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

export async function readSecret(client: KubeClient, namespace: string, name: string): Promise<SecretData | undefined> {
  try {
    return await client.get<SecretData>(SecretKind, namespace, name);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export const decode = (value: string | undefined) => Buffer.from(value ?? '', 'base64').toString('utf8');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `probe` returns a value (not undefined/false), or fails with the last state described. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  { timeoutMs = 30_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

/** Waits until the TalosConfig reports its data secret, then returns it with the Secret's content. */
export async function waitForBootstrapData(client: KubeClient, namespace: string, name: string, timeoutMs = 60_000) {
  let last: TalosConfig | undefined;
  const config = await eventually(`TalosConfig ${namespace}/${name} dataSecretCreated`, async () => {
    last = await getTalosConfig(client, namespace, name);
    return last.status?.initialization?.dataSecretCreated ? last : undefined;
  }, { timeoutMs }).catch((error: Error) => {
    throw new Error(`${error.message}; last conditions: ${JSON.stringify(last?.status?.conditions ?? [])}`);
  });
  const secret = await readSecret(client, namespace, config.status!.dataSecretName!);
  if (!secret) throw new Error(`bootstrap data Secret ${config.status!.dataSecretName} is missing`);
  return { config, secret, data: decode(secret.data?.value) };
}

export interface EventView {
  metadata: { name?: string };
  reason?: string;
  note?: string;
  type?: string;
  regarding?: { name?: string; kind?: string };
}

const EventsKind: ResourceKind = { group: 'events.k8s.io', version: 'v1', kind: 'Event', plural: 'events', namespaced: true };

/** Waits for events.k8s.io Events about `objectName` with `reason` in `namespace`. */
export async function eventsFor(client: KubeClient, namespace: string, objectName: string, reason: string): Promise<EventView[]> {
  return eventually(`a ${reason} Event for ${namespace}/${objectName}`, async () => {
    const list = await client.list<EventView & KubeObject>(EventsKind, { namespace });
    const found = list.items.filter((e) => e.regarding?.name === objectName && e.reason === reason);
    return found.length ? found : undefined;
  });
}
