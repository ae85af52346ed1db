// What a simulated kubelet writes: its Node, its Lease, and when it refreshes Node status.
import { CONTROL_PLANE_LABEL, microTime, nodeLease, nodeObject, shouldPostStatus } from '../../world/kubelet';

const identity = {
  nodeName: 'cp-1',
  providerID: 'sim://world/cp-1',
  addresses: [{ type: 'InternalIP' as const, address: '10.5.0.2' }],
  kubeletVersion: 'v1.34.1',
  labels: { 'example.com/rack': 'r1' },
};

test('the Node carries the providerID, addresses, kubelet version, a Ready condition and resources', () => {
  const now = new Date('2026-12-03T05:00:00.123Z');
  const node = nodeObject(identity, now);
  expect(node.spec.providerID).toBe('sim://world/cp-1');
  expect(node.status.addresses).toEqual(identity.addresses);
  expect(node.status.nodeInfo.kubeletVersion).toBe('v1.34.1');
  expect(node.status.conditions.find((c) => c.type === 'Ready')).toEqual({
    type: 'Ready',
    status: 'True',
    reason: 'KubeletReady',
    message: 'kubelet is posting ready status',
    lastHeartbeatTime: '2026-12-03T05:00:00Z',
    lastTransitionTime: '2026-12-03T05:00:00Z',
  });
  expect(node.status.allocatable).toEqual(node.status.capacity);
  expect(Object.keys(node.status.capacity)).toEqual(expect.arrayContaining(['cpu', 'memory', 'pods']));
});

test('a kubelet labels its Node with its hostname and --node-labels, never with the control-plane role', () => {
  const labels = nodeObject(identity, new Date()).metadata.labels;
  expect(labels).toMatchObject({ 'kubernetes.io/hostname': 'cp-1', 'kubernetes.io/os': 'linux', 'example.com/rack': 'r1' });
  expect(labels[CONTROL_PLANE_LABEL]).toBeUndefined();
});

test('the Lease is held by the node, owned by its Node, renewed at a MicroTime with six fractional digits', () => {
  const lease = nodeLease('cp-1', 'uid-1', new Date('2026-12-03T05:00:00.123Z'));
  expect(lease.metadata).toMatchObject({ name: 'cp-1', namespace: 'kube-node-lease' });
  expect(lease.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Node', name: 'cp-1', uid: 'uid-1' }]);
  expect(lease.spec).toEqual({ holderIdentity: 'cp-1', leaseDurationSeconds: 40, renewTime: '2026-12-03T05:00:00.123000Z' });
  expect(microTime(new Date('2026-12-03T05:00:00Z'))).toBe('2026-12-03T05:00:00.000000Z');
});

test('Node status is posted every few beats, and at once after a failed beat', () => {
  expect(shouldPostStatus(1, false, 5)).toBe(false);
  expect(shouldPostStatus(4, false, 5)).toBe(false);
  expect(shouldPostStatus(5, false, 5)).toBe(true);
  expect(shouldPostStatus(1, true, 5)).toBe(true);
});
