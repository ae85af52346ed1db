// The workload cluster's Node cache: followed through a kubeconfig, a change to a Node asks for a
// pass at once, Machines find their Nodes by nodeRef or provider ID, and the control plane counts
// a Machine Ready when its Node is.
import type { ListOptions, ListResult, Query } from '../../../src/kube/client/client';
import type { ListWatchSource } from '../../../src/kube/cache/informer';
import type { KubeObject } from '../../../src/kube/meta/object';
import { NodeIndex, WorkloadNodes, type ControlPlanePod, type WorkloadNode } from '../../../src/cluster/workload-nodes';
import type { ResourceKind } from '../../../src/kube/client/resource';
import { cluster, machine, tcp } from '../controlplane/fixtures';
import { ControlPlane } from '../../../src/controlplane/control-plane';
import { updateStatus } from '../../../src/controlplane/status';
import type { Machine } from '../../../src/api/capi/v1beta2/types';

const node = (name: string, ready: boolean, providerID = `sim://${name}`): WorkloadNode => ({
  apiVersion: 'v1', kind: 'Node',
  metadata: { name, resourceVersion: '1', labels: { 'node-role.kubernetes.io/control-plane': '' } },
  spec: { providerID },
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

/** Lists `nodes` and `pods`, then keeps one watch of each the test writes events into. */
class WorkloadSource implements ListWatchSource {
  readonly lists: string[] = [];
  private readonly watches = new Map<'nodes' | 'pods', ReadableStreamDefaultController<Uint8Array>>();
  private watchOpened!: () => void;
  readonly watching = new Promise<void>((resolve) => (this.watchOpened = resolve));

  constructor(private readonly nodes: WorkloadNode[], private readonly pods: ControlPlanePod[] = []) {}

  async list<T extends KubeObject>(kind: ResourceKind, options?: ListOptions): Promise<ListResult<T>> {
    this.lists.push(`${kind.plural} ${options?.namespace ?? '*'} ${options?.labelSelector}`);
    return { items: (kind.plural === 'pods' ? this.pods : this.nodes) as unknown as T[], resourceVersion: '1' };
  }

  async stream(path: string, _query: Query, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const which = path.includes('/pods') ? 'pods' : 'nodes';
    const body = new ReadableStream<Uint8Array>({ start: (c) => void this.watches.set(which, c) });
    signal.addEventListener('abort', () => void body.cancel().catch(() => undefined), { once: true });
    if (this.watches.size === 2) this.watchOpened();
    return body;
  }

  send(type: string, object: WorkloadNode | ControlPlanePod): void {
    const which = object.kind === 'Pod' ? 'pods' : 'nodes';
    this.watches.get(which)!.enqueue(new TextEncoder().encode(`${JSON.stringify({ type, object })}\n`));
  }
}

const apiserverPod = (nodeName: string, ready: boolean, resourceVersion = '1'): ControlPlanePod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: `kube-apiserver-${nodeName}`, namespace: 'kube-system', resourceVersion, labels: { 'k8s-app': 'kube-apiserver', tier: 'control-plane' } },
  spec: { nodeName },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
};

const withProviderId = (m: Machine, providerID: string): Machine => ({ ...m, spec: { ...m.spec, providerID } });

describe('WorkloadNodes', () => {
  let nodes: WorkloadNodes;
  afterEach(() => nodes.close());

  it('reads only control-plane Nodes through the kubeconfig it follows, and has nothing to say before its cache synced', async () => {
    const source = new WorkloadSource([node('cp-0', true)]);
    const kubeconfigs: string[] = [];
    nodes = new WorkloadNodes(() => undefined, { connect: (kubeconfig) => (kubeconfigs.push(kubeconfig), source) });
    expect(nodes.nodesOf('ns/cp')).toBeUndefined();
    nodes.follow('ns/cp', 'kubeconfig-1');
    nodes.follow('ns/cp', 'kubeconfig-1');
    expect(kubeconfigs).toEqual(['kubeconfig-1']);
    await until(() => nodes.nodesOf('ns/cp') !== undefined);
    expect(source.lists.sort()).toEqual(['nodes * node-role.kubernetes.io/control-plane', 'pods kube-system tier=control-plane']);
    expect(nodes.nodesOf('ns/other')).toBeUndefined();
  });

  it('asks for a pass of the owner as soon as one of its Nodes changes', async () => {
    const source = new WorkloadSource([node('cp-0', false)]);
    const changed: string[] = [];
    nodes = new WorkloadNodes((owner) => changed.push(owner), { connect: () => source });
    nodes.follow('ns/cp', 'kubeconfig');
    await source.watching;
    const before = changed.length;
    source.send('MODIFIED', { ...node('cp-0', true), metadata: { ...node('cp-0', true).metadata, resourceVersion: '2' } });
    await until(() => changed.length > before);
    expect(changed.at(-1)).toBe('ns/cp');
    expect(nodes.nodesOf('ns/cp')!.nodeOf(withProviderId(machine('m'), 'sim://cp-0'))?.status?.conditions?.[0]?.status).toBe('True');
  });

  it('keeps the control-plane static pods too: a change to one asks for a pass, and each is found by its Node and component', async () => {
    const source = new WorkloadSource([node('cp-0', true)], [apiserverPod('cp-0', false)]);
    const changed: string[] = [];
    nodes = new WorkloadNodes((owner) => changed.push(owner), { connect: () => source });
    nodes.follow('ns/cp', 'kubeconfig');
    await source.watching;
    await until(() => nodes.nodesOf('ns/cp') !== undefined);
    expect(nodes.nodesOf('ns/cp')!.staticPodOf('cp-0', 'kube-apiserver')?.status?.conditions?.[0]?.status).toBe('False');
    expect(nodes.nodesOf('ns/cp')!.staticPodOf('cp-0', 'kube-scheduler')).toBeUndefined();
    expect(nodes.nodesOf('ns/cp')!.staticPodOf('cp-1', 'kube-apiserver')).toBeUndefined();
    const before = changed.length;
    source.send('MODIFIED', apiserverPod('cp-0', true, '2'));
    await until(() => changed.length > before && nodes.nodesOf('ns/cp')!.staticPodOf('cp-0', 'kube-apiserver')?.status?.conditions?.[0]?.status === 'True');
  });

  it('starts afresh with a new kubeconfig (a renewed certificate), and stops following a forgotten owner', async () => {
    const sources = [new WorkloadSource([node('cp-0', true)]), new WorkloadSource([node('cp-0', true), node('cp-1', true)])];
    const kubeconfigs: string[] = [];
    nodes = new WorkloadNodes(() => undefined, { connect: (kubeconfig) => sources[kubeconfigs.push(kubeconfig) - 1]! });
    nodes.follow('ns/cp', 'old');
    await until(() => nodes.nodesOf('ns/cp') !== undefined);
    nodes.follow('ns/cp', 'renewed');
    expect(kubeconfigs).toEqual(['old', 'renewed']);
    await until(() => nodes.nodesOf('ns/cp')?.nodeOf(machine('cp-1', { node: true })) !== undefined);
    nodes.forget('ns/cp');
    expect(nodes.nodesOf('ns/cp')).toBeUndefined();
  });
});

describe('NodeIndex', () => {
  const index = new NodeIndex([node('cp-0', true, 'sim://a'), node('cp-1', false, 'sim://b')]);

  it('finds a Machine\'s Node by nodeRef first, else by provider ID, never by anything else', () => {
    expect(index.nodeOf(machine('cp-1', { node: true }))?.metadata.name).toBe('cp-1');
    expect(index.nodeOf(withProviderId(machine('other'), 'sim://a'))?.metadata.name).toBe('cp-0');
    expect(index.nodeOf(machine('cp-0'))).toBeUndefined();
  });
});

describe('readiness from the workload cluster', () => {
  const machines = [
    withProviderId(machine('cp-0', { ready: 'False' }), 'sim://a'),
    withProviderId(machine('cp-1', { ready: 'True' }), 'sim://b'),
  ];

  it('counts a Machine Ready when its Node is Ready, before Cluster API says so on the Machine', () => {
    const view = new ControlPlane(structuredClone(tcp({ bootstrapped: true })), cluster, machines, new Map(), undefined,
      new NodeIndex([node('n-a', true, 'sim://a'), node('n-b', false, 'sim://b')]));
    updateStatus(view, { kubeconfigWritten: true });
    expect(view.isReady(machines[0]!)).toBe(true);
    expect(view.isReady(machines[1]!)).toBe(false);
    expect(view.tcp.status?.readyReplicas).toBe(1);
  });

  it('falls back to the Machines\' Ready condition while the workload cache has not synced', () => {
    const view = new ControlPlane(structuredClone(tcp({ bootstrapped: true })), cluster, machines);
    expect(machines.map((m) => view.isReady(m))).toEqual([false, true]);
  });
});
