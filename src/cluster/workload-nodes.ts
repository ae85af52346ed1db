// The control-plane Nodes of each workload cluster and their static pods' copies (the mirror pods
// in kube-system labelled tier=control-plane, as Talos renders kube-apiserver, -controller-manager
// and -scheduler), from a cache per cluster built from its kubeconfig (as Cluster API's
// ClusterCache does): a Node and a pod informer per followed owner, whose every change is
// reported at once, so the owner is reconciled when a Node turns Ready — no polling. A Machine finds its Node by `status.nodeRef`, else by provider ID (Cluster API sets
// nodeRef only after it has seen the Node itself). The same client writes to the workload cluster
// (cordon, drain, uncordon of a node upgraded in place).
import type { Machine } from '../api/capi/v1beta2/types';
import { Informer, type ListWatchSource } from '../kube/cache/informer';
import { KubeClient } from '../kube/client/client';
import { accessFromKubeconfigs } from '../kube/client/kubeconfig';
import { NodeKind } from '../kube/client/resource';
import { PodKind } from './node-drain';
import type { Logger } from '../kube/log/logger';
import type { KubeObject } from '../kube/meta/object';

/** Talos labels its control-plane Nodes so; the cache holds only those. */
const CONTROL_PLANE_NODE_LABEL = 'node-role.kubernetes.io/control-plane';
/** And its static pods so (with `k8s-app: <component>`); the cache holds only those, of kube-system. */
const CONTROL_PLANE_POD_SELECTOR = 'tier=control-plane';

/** A control-plane static pod as the workload cluster shows it (its mirror pod). */
export interface ControlPlanePod extends KubeObject {
  spec?: { nodeName?: string; containers?: { name?: string; image?: string }[] };
  status?: { phase?: string; conditions?: { type: string; status: string; message?: string }[] };
}

export interface WorkloadNode extends KubeObject {
  spec?: { providerID?: string };
  status?: { conditions?: { type: string; status: string }[]; nodeInfo?: { kubeletVersion?: string } };
}

export const isPodReady = (pod: ControlPlanePod): boolean =>
  (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

export const isNodeReady = (node: WorkloadNode): boolean =>
  (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** One workload cluster's control-plane Nodes, looked up the way a Machine refers to them. */
export class NodeIndex {
  private readonly byName = new Map<string, WorkloadNode>();
  private readonly byProviderId = new Map<string, WorkloadNode>();

  private readonly pods: readonly ControlPlanePod[];

  constructor(nodes: Iterable<WorkloadNode>, pods: readonly ControlPlanePod[] = []) {
    for (const node of nodes) {
      this.byName.set(node.metadata.name ?? '', node);
      if (node.spec?.providerID) this.byProviderId.set(node.spec.providerID, node);
    }
    this.pods = pods;
  }

  /** The static pod of `component` (its k8s-app label) bound to Node `nodeName`. */
  staticPodOf(nodeName: string, component: string): ControlPlanePod | undefined {
    return this.pods.find((p) => p.spec?.nodeName === nodeName && p.metadata.labels?.['k8s-app'] === component);
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
  pods: Informer<ControlPlanePod>;
}

const stop = (followed: Followed) => {
  void followed.informer.stop();
  void followed.pods.stop();
};

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
    if (current) stop(current);
    const connect = this.options.connect ?? connectWithKubeconfig;
    const source = connect(kubeconfig);
    const logger = this.options.logger?.child({ workload: owner });
    const informer = new Informer<WorkloadNode>(source, { kind: NodeKind, labelSelector: CONTROL_PLANE_NODE_LABEL, logger });
    const pods = new Informer<ControlPlanePod>(source, { kind: PodKind, namespace: 'kube-system', labelSelector: CONTROL_PLANE_POD_SELECTOR, logger });
    const report = () => this.changed(owner);
    for (const cache of [informer, pods] as const) cache.addHandlers({ add: report, update: report, delete: report });
    this.followed.set(owner, { kubeconfig, informer, pods });
    informer.start();
    pods.start();
  }

  /** The owner's Nodes and static pods once both caches have synced; undefined before (or when not followed). */
  nodesOf(owner: string): NodeIndex | undefined {
    const followed = this.followed.get(owner);
    return followed?.informer.hasSynced() && followed.pods.hasSynced() ? new NodeIndex(followed.informer.list(), followed.pods.list()) : undefined;
  }

  /** A client of the owner's workload cluster, once it is followed. */
  clientOf(owner: string): KubeClient | undefined {
    const followed = this.followed.get(owner);
    if (followed) followed.client ??= connectWithKubeconfig(followed.kubeconfig);
    return followed?.client;
  }

  forget(owner: string): void {
    const followed = this.followed.get(owner);
    if (followed) stop(followed);
    this.followed.delete(owner);
  }

  close(): void {
    for (const owner of [...this.followed.keys()]) this.forget(owner);
  }
}
