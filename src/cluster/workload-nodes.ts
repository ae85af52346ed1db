// The control-plane Nodes of each workload cluster, from a cache per cluster built from its
// kubeconfig (as Cluster API's ClusterCache does): one Node informer per followed owner, whose
// every change is reported at once, so the owner is reconciled when a Node turns Ready — no
// polling. A Machine finds its Node by `status.nodeRef`, else by provider ID (Cluster API sets
// nodeRef only after it has seen the Node itself). The same client writes to the workload cluster
// (cordon, drain, uncordon of a node upgraded in place).
import type { Machine } from '../api/capi/v1beta2/types';
import { Informer, type ListWatchSource } from '../kube/cache/informer';
import { KubeClient } from '../kube/client/client';
import { accessFromKubeconfigs } from '../kube/client/kubeconfig';
import { NodeKind } from '../kube/client/resource';
import type { Logger } from '../kube/log/logger';
import type { KubeObject } from '../kube/meta/object';

/** Talos labels its control-plane Nodes so; the cache holds only those. */
const CONTROL_PLANE_NODE_LABEL = 'node-role.kubernetes.io/control-plane';

export interface WorkloadNode extends KubeObject {
  spec?: { providerID?: string };
  status?: { conditions?: { type: string; status: string }[]; nodeInfo?: { kubeletVersion?: string } };
}

export const isNodeReady = (node: WorkloadNode): boolean =>
  (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** One workload cluster's control-plane Nodes, looked up the way a Machine refers to them. */
export class NodeIndex {
  private readonly byName = new Map<string, WorkloadNode>();
  private readonly byProviderId = new Map<string, WorkloadNode>();

  constructor(nodes: Iterable<WorkloadNode>) {
    for (const node of nodes) {
      this.byName.set(node.metadata.name ?? '', node);
      if (node.spec?.providerID) this.byProviderId.set(node.spec.providerID, node);
    }
  }

  nodeOf(machine: Machine): WorkloadNode | undefined {
    const name = machine.status?.nodeRef?.name;
    if (name) return this.byName.get(name);
    return machine.spec.providerID ? this.byProviderId.get(machine.spec.providerID) : undefined;
  }
}

/** Reads a workload cluster through a kubeconfig (tests give a fake). */
export type ConnectWorkload = (kubeconfig: string) => ListWatchSource;

const connectWithKubeconfig = (kubeconfig: string): KubeClient =>
  new KubeClient(accessFromKubeconfigs([{ path: 'workload-kubeconfig', text: kubeconfig }]), { qps: 5, burst: 10 });

interface Followed {
  kubeconfig: string;
  /** Made when first asked for: only an in-place upgrade writes. */
  client?: KubeClient;
  informer: Informer<WorkloadNode>;
}

export class WorkloadNodes {
  private readonly followed = new Map<string, Followed>();

  constructor(
    private readonly changed: (owner: string) => void,
    private readonly options: { logger?: Logger; connect?: ConnectWorkload } = {},
  ) {}

  /** Keeps a Node cache for `owner` reading through `kubeconfig`; a new kubeconfig starts it afresh. */
  follow(owner: string, kubeconfig: string): void {
    const current = this.followed.get(owner);
    if (current?.kubeconfig === kubeconfig) return;
    if (current) void current.informer.stop();
    const connect = this.options.connect ?? connectWithKubeconfig;
    const informer = new Informer<WorkloadNode>(connect(kubeconfig), {
      kind: NodeKind, labelSelector: CONTROL_PLANE_NODE_LABEL, logger: this.options.logger?.child({ workload: owner }),
    });
    const report = () => this.changed(owner);
    informer.addHandlers({ add: report, update: report, delete: report });
    this.followed.set(owner, { kubeconfig, informer });
    informer.start();
  }

  /** The owner's Nodes once its cache has synced; undefined before (or when not followed). */
  nodesOf(owner: string): NodeIndex | undefined {
    const informer = this.followed.get(owner)?.informer;
    return informer?.hasSynced() ? new NodeIndex(informer.list()) : undefined;
  }

  /** A client of the owner's workload cluster, once it is followed. */
  clientOf(owner: string): KubeClient | undefined {
    const followed = this.followed.get(owner);
    if (followed) followed.client ??= connectWithKubeconfig(followed.kubeconfig);
    return followed?.client;
  }

  forget(owner: string): void {
    void this.followed.get(owner)?.informer.stop();
    this.followed.delete(owner);
  }

  close(): void {
    for (const owner of [...this.followed.keys()]) this.forget(owner);
  }
}
