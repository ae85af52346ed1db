// Reads what the demo's table shows, the way a user would look: the Cluster, the TalosControlPlane
// and the Machines from the management cluster, and the etcd members from a control-plane node
// through the Talos API with the talosconfig the operator wrote (`talosctl etcd members`).
import { ClusterKind, MachineKind } from '../src/api/capi/v1beta2/resources';
import { CLUSTER_NAME_LABEL, CONTROL_PLANE_LABEL, type Cluster, type Machine } from '../src/api/capi/v1beta2/types';
import { V1BETA1 } from '../src/api/controlplane/resources';
import type { TalosControlPlane } from '../src/api/controlplane/v1beta1/types';
import type { KubeClient } from '../src/kube/client/client';
import { isNotFound } from '../src/kube/client/api-error';
import { SecretKind } from '../src/kube/client/resource';
import type { KubeObject } from '../src/kube/meta/object';
import { TalosClient, unwrapAll } from '../src/talos/api';
import type { ExamplesPlan } from './demo-examples';
import type { EtcdMemberView, Snapshot } from './demo-table';

const ETCD_TIMEOUT_MS = 2_000;

type Secret = KubeObject & { data?: Record<string, string> };

export const decodeSecret = (secret: Secret, key: string) => Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');

const orUndefined = <T>(read: Promise<T>): Promise<T | undefined> => read.catch((error: unknown) => {
  if (isNotFound(error)) return undefined;
  throw error;
});

/**
 * The InternalIPs of the control-plane Machines, in name order: where `talosctl` would point. A
 * Machine has one once its node booted, before it joins etcd or registers its Node.
 */
export function controlPlaneEndpoints(machines: Machine[]): string[] {
  return machines
    .filter((m) => CONTROL_PLANE_LABEL in (m.metadata.labels ?? {}) && !m.metadata.deletionTimestamp)
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))
    .flatMap((m) => m.status?.addresses?.filter((a) => a.type === 'InternalIP').map((a) => a.address) ?? []);
}

/** Asks the control-plane nodes for the etcd member list; one Talos client per set of endpoints. */
export class EtcdMembers {
  private talos?: TalosClient;
  private key = '';

  constructor(private readonly talosconfig: () => Promise<string | undefined>) {}

  async list(endpoints: string[]): Promise<EtcdMemberView[] | undefined> {
    if (endpoints.length === 0) return undefined;
    if (endpoints.join(',') !== this.key) {
      const config = await this.talosconfig();
      if (!config) return undefined;
      this.close();
      this.talos = TalosClient.fromTalosconfig(config, { endpoints });
      this.key = endpoints.join(',');
    }
    try {
      const [list] = unwrapAll(await this.talos!.etcdMemberList({}, { timeoutMs: ETCD_TIMEOUT_MS }));
      return list?.members.map((m) => ({ hostname: m.hostname, isLearner: m.isLearner }));
    } catch {
      // Not bootstrapped yet, or the node asked is rebooting: the table says "-".
      return undefined;
    }
  }

  close(): void {
    this.talos?.close();
    this.talos = undefined;
    this.key = '';
  }
}

export class ClusterReader {
  readonly etcd: EtcdMembers;

  constructor(private readonly client: KubeClient, private readonly namespace: string, private readonly plan: ExamplesPlan) {
    this.etcd = new EtcdMembers(async () => {
      const secret = await orUndefined(this.secret('talosconfig'));
      return secret && decodeSecret(secret, 'talosconfig');
    });
  }

  /** The `<cluster>-<suffix>` Secret the providers write (kubeconfig, talosconfig). */
  secret(suffix: string): Promise<Secret> {
    return this.client.get<Secret>(SecretKind, this.namespace, `${this.plan.cluster}-${suffix}`);
  }

  async machines(): Promise<Machine[]> {
    return (await this.client.list<Machine>(MachineKind, { namespace: this.namespace, labelSelector: `${CLUSTER_NAME_LABEL}=${this.plan.cluster}` })).items;
  }

  async snapshot(): Promise<Snapshot> {
    const [cluster, controlPlane, machines] = await Promise.all([
      orUndefined(this.client.get<Cluster>(ClusterKind, this.namespace, this.plan.cluster)),
      orUndefined(this.client.get<TalosControlPlane>(V1BETA1.talosControlPlane, this.namespace, this.plan.controlPlane)),
      this.machines(),
    ]);
    return { cluster, controlPlane, machines, etcdMembers: await this.etcd.list(controlPlaneEndpoints(machines)) };
  }
}
