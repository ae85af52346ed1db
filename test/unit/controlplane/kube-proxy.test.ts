// kube-proxy follows the Kubernetes version: due once every control-plane Machine runs it (in
// place or by replacement), not again once recorded; the DaemonSet's kube-proxy container retagged
// (repository kept), one that is absent or not Talos's left alone.
import type { Machine } from '../../../src/api/capi/v1beta2/types';
import type { TalosControlPlane } from '../../../src/api/controlplane/v1beta1/types';
import { NodeIndex, type WorkloadNode } from '../../../src/cluster/workload-nodes';
import { ControlPlane } from '../../../src/controlplane/control-plane';
import { KUBE_PROXY_VERSION_ANNOTATION, kubeProxyChange, kubeProxyVersionDue, type DaemonSet } from '../../../src/controlplane/kube-proxy';
import { at, cluster, machine, tcp, withProgress, type MachineShape } from './fixtures';

const OLD = 'v1.33.5';
const NEW = 'v1.34.1';
const running = (name: string, minute: number, shape: MachineShape = {}) => machine(name, { address: '127.0.0.8', node: true, created: at(minute), version: NEW, ...shape });
const node = (name: string, kubeletVersion: string): WorkloadNode => ({
  metadata: { name }, status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion } },
});
const synced = (plane: TalosControlPlane, version: string): TalosControlPlane =>
  ({ ...plane, metadata: { ...plane.metadata, annotations: { [KUBE_PROXY_VERSION_ANNOTATION]: version } } });

function due(machines: Machine[], options: { plane?: TalosControlPlane; kubelets?: Record<string, string>; nodes?: boolean } = {}): string | undefined {
  const plane = options.plane ?? tcp({ bootstrapped: true, version: NEW });
  const kubelets = options.kubelets ?? {};
  const index = options.nodes === false ? undefined : new NodeIndex(machines.map((m) => node(m.metadata.name!, kubelets[m.metadata.name!] ?? m.spec.version!)));
  return kubeProxyVersionDue(new ControlPlane(structuredClone(plane), cluster, machines, new Map(), undefined, index));
}
const three = (shapes: MachineShape[] = []) => ['cp-a', 'cp-b', 'cp-c'].map((n, i) => running(n, i, shapes[i]));

describe('when kube-proxy is due', () => {
  it('once every control-plane Machine is at the spec version and its Node reports that kubelet', () => {
    expect(due(three())).toBe(NEW);
  });

  it('not while a Machine is still at the old version (in place, or waiting to be replaced)', () => {
    expect(due(three([{}, {}, { version: OLD }]))).toBeUndefined();
    // An old Machine being deleted after its replacement joined still counts.
    expect(due([...three(), running('cp-old', 9, { version: OLD, deleting: true })])).toBeUndefined();
  });

  it('not while a node is on its way to another version, or its Node reports another kubelet, or the Nodes are not known', () => {
    expect(due(three([{ annotations: withProgress({ version: 'v1.34.2', step: 'applied' }) }]))).toBeUndefined();
    expect(due(three(), { kubelets: { 'cp-b': OLD } })).toBeUndefined();
    expect(due(three(), { nodes: false })).toBeUndefined();
  });

  it('not before etcd is bootstrapped, nor without Machines', () => {
    expect(due(three(), { plane: tcp({ version: NEW }) })).toBeUndefined();
    expect(due([])).toBeUndefined();
  });

  it('not again once the version is recorded; a new version is due once rolled out', () => {
    const plane = synced(tcp({ bootstrapped: true, version: NEW }), NEW);
    expect(due(three(), { plane })).toBeUndefined();
    expect(due(three(), { plane: synced(tcp({ bootstrapped: true, version: NEW }), OLD) })).toBe(NEW);
  });

  it('reads the spec version with or without its v', () => {
    expect(due(three(), { plane: tcp({ bootstrapped: true, version: '1.34.1' }) })).toBe(NEW);
  });
});

const daemonSet = (containers: { name: string; image?: string }[]): DaemonSet => ({
  metadata: { name: 'kube-proxy', namespace: 'kube-system' }, spec: { template: { spec: { containers } } },
});

describe('what the DaemonSet needs', () => {
  it('its kube-proxy container retagged, the repository (and a registry port) kept, guarded by tests of what was read', () => {
    const read = daemonSet([{ name: 'sidecar', image: 'mirror.local:5000/tools/sidecar:1.0' }, { name: 'kube-proxy', image: `mirror.local:5000/k8s/kube-proxy:${OLD}` }]);
    expect(kubeProxyChange(read, NEW)).toEqual({
      action: 'retag', from: `mirror.local:5000/k8s/kube-proxy:${OLD}`, to: `mirror.local:5000/k8s/kube-proxy:${NEW}`,
      patch: [
        { op: 'test', path: '/spec/template/spec/containers/1/name', value: 'kube-proxy' },
        { op: 'test', path: '/spec/template/spec/containers/1/image', value: `mirror.local:5000/k8s/kube-proxy:${OLD}` },
        { op: 'replace', path: '/spec/template/spec/containers/1/image', value: `mirror.local:5000/k8s/kube-proxy:${NEW}` },
      ],
    });
  });

  it('a digest pin gives way to the version tag', () => {
    expect(kubeProxyChange(daemonSet([{ name: 'kube-proxy', image: `example.org/kube-proxy:${OLD}@sha256:abc` }]), NEW)).toMatchObject({ action: 'retag', to: `example.org/kube-proxy:${NEW}` });
  });

  it('nothing when the image is at the version already', () => {
    expect(kubeProxyChange(daemonSet([{ name: 'kube-proxy', image: `example.org/kube-proxy:${NEW}` }]), NEW)).toEqual({ action: 'none' });
  });

  it('left alone when there is no DaemonSet, or no kube-proxy container with an image in it', () => {
    expect(kubeProxyChange(undefined, NEW)).toEqual({ action: 'leave', why: 'the workload cluster has no DaemonSet kube-system/kube-proxy (kube-proxy disabled, or run by the CNI or the user)' });
    expect(kubeProxyChange(daemonSet([{ name: 'proxy', image: 'example.org/proxy:1' }]), NEW)).toMatchObject({ action: 'leave', why: expect.stringContaining('has no kube-proxy container') });
    expect(kubeProxyChange(daemonSet([{ name: 'kube-proxy' }]), NEW)).toMatchObject({ action: 'leave' });
  });
});
