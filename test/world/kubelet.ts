// A kubelet as the API server sees it, for simulated nodes: it registers its Node with its own
// certificate (system:node:<name>, group system:nodes, so the Node authorizer and NodeRestriction
// apply), then heartbeats — the Node Lease in kube-node-lease renewed every interval and the
// Ready condition's lastHeartbeatTime refreshed less often. Stopping it is a powered-off node:
// the Node stays and the workload cluster's kube-controller-manager marks it NotReady.
//
// The pure parts first (what is written, and when), then the SimKubelet that sends it.
import { isAlreadyExists, isNotFound } from '../../src/kube/client/api-error';
import { KubeClient } from '../../src/kube/client/client';
import { accessFor } from '../../src/kube/client/kubeconfig';
import type { KubeObject } from '../../src/kube/meta/object';
import { LeaseKind, NodeKind } from '../../src/kube/client/resource';
import { issueCertificate, loadCertificateAuthority, type CertificateAuthority } from '../testbed/pki';
import type { StaticPodView } from '../support/talos-sim';
import { mirrorPodName, mirrorPodObject, mirrorPodStatus, postedKey, specKey } from './mirror-pods';

export type NodeAddressType = 'InternalIP' | 'Hostname' | 'ExternalIP';

export interface NodeIdentity {
  nodeName: string;
  providerID: string;
  addresses: { type: NodeAddressType; address: string }[];
  kubeletVersion: string;
  labels?: Record<string, string>;
}

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** The kubelet's default nodeLeaseDurationSeconds. */
export const NODE_LEASE_DURATION_SECONDS = 40;
export const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';

/** A small machine: what a simulated node reports as capacity (and allocatable). */
const RESOURCES = { cpu: '2', memory: '4026532Ki', pods: '110', 'ephemeral-storage': '10255636Ki' };

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastHeartbeatTime: string;
  lastTransitionTime: string;
}

/** The labels a kubelet puts on its own Node (all allowed by NodeRestriction), plus --node-labels. */
export function kubeletLabels(identity: NodeIdentity): Record<string, string> {
  return {
    'kubernetes.io/hostname': identity.nodeName,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/arch': 'amd64',
    ...identity.labels,
  };
}

/** Ready and the three pressure conditions of a healthy kubelet; `since` is when Ready last became True. */
export function healthyConditions(now: Date, since: Date): Condition[] {
  const times = { lastHeartbeatTime: seconds(now), lastTransitionTime: seconds(since) };
  return [
    { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available', ...times },
    { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure', ...times },
    { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available', ...times },
    { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', ...times },
  ];
}

export interface NodeStatus {
  addresses: NodeIdentity['addresses'];
  capacity: Record<string, string>;
  allocatable: Record<string, string>;
  conditions: Condition[];
  daemonEndpoints: { kubeletEndpoint: { Port: number } };
  nodeInfo: Record<string, string>;
}

export interface NodeObject {
  apiVersion: 'v1';
  kind: 'Node';
  metadata: { name: string; labels: Record<string, string> };
  spec: { providerID: string };
  status: NodeStatus;
}

export function nodeStatus(identity: NodeIdentity, now: Date, readySince: Date): NodeStatus {
  return {
    addresses: identity.addresses,
    capacity: { ...RESOURCES },
    allocatable: { ...RESOURCES },
    conditions: healthyConditions(now, readySince),
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: '',
      systemUUID: '',
      bootID: '',
      kernelVersion: '',
      osImage: 'Talos (simulated)',
      containerRuntimeVersion: 'containerd://2.0.0',
      kubeletVersion: identity.kubeletVersion,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
  };
}

/** The Node as a kubelet registers it. */
export function nodeObject(identity: NodeIdentity, now: Date): NodeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: identity.nodeName, labels: kubeletLabels(identity) },
    spec: { providerID: identity.providerID },
    status: nodeStatus(identity, now, now),
  };
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits (Go parses the width strictly). */
export function microTime(at: Date): string {
  return at.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** metav1.Time: RFC 3339 in whole seconds. */
function seconds(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function nodeLease(nodeName: string, nodeUid: string, now: Date) {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: nodeName,
      namespace: NODE_LEASE_NAMESPACE,
      // Owned by the Node, so deleting the Node collects its Lease.
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid }],
    },
    spec: { holderIdentity: nodeName, leaseDurationSeconds: NODE_LEASE_DURATION_SECONDS, renewTime: microTime(now) },
  };
}

/**
 * A kubelet renews its Lease every beat and posts Node status much less often (the Lease is the
 * cheap heartbeat). It posts status at once after a failed beat, so a Node the controller
 * manager marked Unknown during an outage becomes Ready again when the apiserver returns.
 */
export function shouldPostStatus(beatsSinceStatus: number, previousBeatFailed: boolean, statusEveryBeats: number): boolean {
  return previousBeatFailed || beatsSinceStatus >= statusEveryBeats;
}

const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
/** Status every fifth beat: 10 s at the default interval, the kubelet's nodeStatusUpdateFrequency. */
const STATUS_EVERY_BEATS = 5;

export interface SimKubeletOptions extends NodeIdentity {
  /** Workload apiserver URL. */
  server: string;
  kubernetesCa: { certPem: string; keyPem: string };
  /**
   * Adds node-role.kubernetes.io/control-plane="", applied with the admin identity as Talos's
   * machined does: NodeRestriction forbids a kubelet from setting it.
   */
  controlPlane: boolean;
  /** Default 2000. */
  heartbeatIntervalMs?: number;
  /** Where heartbeat trouble is reported (once per outage, and on recovery). Default: stderr. */
  log?: (line: string) => void;
}

/** A client authenticating with a client certificate the cluster's CA signed. */
export function certificateClient(server: string, ca: CertificateAuthority, user: string, leaf: { certPem: string; keyPem: string }): KubeClient {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const access = accessFor(
    { server, 'certificate-authority-data': b64(ca.certPem) },
    { 'client-certificate-data': b64(leaf.certPem), 'client-key-data': b64(leaf.keyPem) },
  );
  // One request at a time per kubelet: no need for the operator's rate limits, but keep a cap.
  return new KubeClient(access, { qps: 10, burst: 10, requestTimeoutMs: 5_000 });
}

export class SimKubelet {
  private timer: NodeJS.Timeout | undefined;
  private kubelet: KubeClient | undefined;
  private nodeUid = '';
  private readySince = new Date();
  private beatsSinceStatus = 0;
  private previousBeatFailed = false;
  private generation = 0;
  private kubeletVersion: string;
  /** What was last posted for each mirror pod, by name. */
  private readonly posted = new Map<string, StaticPodView>();

  constructor(private readonly options: SimKubeletOptions) {
    this.kubeletVersion = options.kubeletVersion;
  }

  /**
   * The kubelet restarted with another image (a live ApplyConfiguration of a new kubelet image):
   * its Node reports the new version at once, as a restarted kubelet posts its status.
   */
  async setKubeletVersion(version: string): Promise<void> {
    if (version === this.kubeletVersion) return;
    this.kubeletVersion = version;
    if (this.kubelet) await this.postStatus(new Date());
  }

  /**
   * The node's static pods as it now renders them: each mirror pod that changed is posted again
   * (a new image or config version: deleted and created; readiness: its status).
   */
  async setStaticPods(pods: readonly StaticPodView[]): Promise<void> {
    if (!this.kubelet) return;
    const node = { name: this.options.nodeName, uid: this.nodeUid };
    const hostIP = this.options.addresses.find((a) => a.type === 'InternalIP')?.address;
    for (const pod of pods) {
      const name = mirrorPodName(pod, node.name);
      const before = this.posted.get(name);
      if (before && postedKey(before) === postedKey(pod)) continue;
      const path = `/api/v1/namespaces/kube-system/pods/${encodeURIComponent(name)}`;
      if (!before || specKey(before) !== specKey(pod)) {
        // At once, as a kubelet deletes a mirror pod (a graceful delete would wait for it to confirm).
        await this.kubelet.request('DELETE', path, { query: { gracePeriodSeconds: '0' } }).catch((error: unknown) => {
          if (!isNotFound(error)) throw error;
        });
        await this.kubelet.request('POST', '/api/v1/namespaces/kube-system/pods', { body: mirrorPodObject(pod, node) });
      }
      await this.kubelet.request('PATCH', `${path}/status`, {
        body: { status: mirrorPodStatus(pod, hostIP, seconds(new Date())) },
        contentType: STRATEGIC_MERGE_PATCH,
      });
      this.posted.set(name, pod);
    }
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Registers the Node (or finds it registered before a power cycle), posts Ready, starts heartbeating. */
  async start(): Promise<void> {
    if (this.running) return;
    const generation = ++this.generation;
    const { nodeName, server } = this.options;
    const ca = await loadCertificateAuthority(this.options.kubernetesCa.certPem, this.options.kubernetesCa.keyPem);
    const nodeUser = `system:node:${nodeName}`;
    const [nodeLeaf, adminLeaf] = await Promise.all([
      issueCertificate(ca, { commonName: nodeUser, organizations: ['system:nodes'], usage: 'client' }),
      this.options.controlPlane ? issueCertificate(ca, { commonName: 'admin', organizations: ['system:masters'], usage: 'client' }) : undefined,
    ]);
    const kubelet = certificateClient(server, ca, nodeUser, nodeLeaf);
    const now = new Date();
    this.readySince = now;
    const node = await kubelet.create<KubeObject>(NodeKind, nodeObject(this.options, now)).catch((error: unknown) => {
      if (!isAlreadyExists(error)) throw error;
      return kubelet.get<KubeObject>(NodeKind, '', nodeName);
    });
    this.nodeUid = node.metadata.uid ?? '';
    if (adminLeaf) {
      const admin = certificateClient(server, ca, 'admin', adminLeaf);
      await admin.patch(NodeKind, '', nodeName, { metadata: { labels: { [CONTROL_PLANE_LABEL]: '' } } }, 'merge');
    }
    this.kubelet = kubelet;
    await this.postStatus(now);
    await this.renewLease(now);
    this.beatsSinceStatus = 0;
    this.previousBeatFailed = false;
    // stop() while registering wins: the node was powered off before its kubelet came up.
    if (generation === this.generation) this.schedule(generation);
  }

  /** Stops heartbeating (the node is powered off); the Node stays. Also cancels a start() under way. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.generation++;
  }

  private schedule(generation: number): void {
    this.timer = setTimeout(() => void this.beat(generation), this.options.heartbeatIntervalMs ?? 2000);
    // A simulated node must not keep a test process alive.
    this.timer.unref();
  }

  /** One heartbeat; never throws: a failure is logged once and retried on the next beat. */
  private async beat(generation: number): Promise<void> {
    const now = new Date();
    try {
      await this.renewLease(now);
      this.beatsSinceStatus++;
      if (shouldPostStatus(this.beatsSinceStatus, this.previousBeatFailed, STATUS_EVERY_BEATS)) {
        await this.postStatus(now);
        this.beatsSinceStatus = 0;
      }
      if (this.previousBeatFailed) this.report(`heartbeat of node ${this.options.nodeName} recovered`);
      this.previousBeatFailed = false;
    } catch (error) {
      if (!this.previousBeatFailed) this.report(`heartbeat of node ${this.options.nodeName} failed (retrying): ${String(error)}`);
      this.previousBeatFailed = true;
    }
    // stop() during the requests above must win over this beat's rescheduling.
    if (generation === this.generation) this.schedule(generation);
  }

  private report(line: string): void {
    (this.options.log ?? ((text: string) => process.stderr.write(`[sim-kubelet] ${text}\n`)))(line);
  }

  private client(): KubeClient {
    if (!this.kubelet) throw new Error(`kubelet for ${this.options.nodeName} not started`);
    return this.kubelet;
  }

  private async postStatus(now: Date): Promise<void> {
    const status = nodeStatus({ ...this.options, kubeletVersion: this.kubeletVersion }, now, this.readySince);
    await this.client().request('PATCH', `/api/v1/nodes/${encodeURIComponent(this.options.nodeName)}/status`, {
      body: { status },
      contentType: STRATEGIC_MERGE_PATCH,
    });
  }

  private async renewLease(now: Date): Promise<void> {
    const { nodeName } = this.options;
    const lease = nodeLease(nodeName, this.nodeUid, now);
    try {
      await this.client().patch(LeaseKind, NODE_LEASE_NAMESPACE, nodeName, { spec: lease.spec }, 'merge');
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await this.client().create(LeaseKind, lease);
    }
  }
}
