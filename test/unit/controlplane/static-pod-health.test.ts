// A control-plane Machine's static pods judged as KCP does, from their copies in the workload cluster.
import { staticPodCondition } from '../../../src/controlplane/static-pod-health';
import type { ControlPlanePod } from '../../../src/cluster/workload-nodes';

const pod = (phase: string, ready: boolean, extra: Partial<ControlPlanePod['metadata']> = {}): ControlPlanePod => ({
  metadata: { name: 'kube-apiserver-cp-1', namespace: 'kube-system', labels: { 'k8s-app': 'kube-apiserver' }, ...extra },
  spec: { nodeName: 'cp-1' },
  status: { phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', message: ready ? undefined : 'containers with unready status: [kube-apiserver]' }] },
});
const judge = (seen: ControlPlanePod | undefined | 'unknown') => staticPodCondition('APIServerPodHealthy', 'kube-apiserver', seen, 3);

it('is True (Running) for a Ready pod, with the Machine generation observed', () => {
  expect(judge(pod('Running', true))).toEqual({ type: 'APIServerPodHealthy', status: 'True', reason: 'Running', message: '', observedGeneration: 3 });
});

it('says why a pod is not healthy, with KCP\'s reasons', () => {
  expect(judge(undefined)).toMatchObject({ status: 'False', reason: 'DoesNotExist', message: 'The kube-apiserver static pod is not in the workload cluster' });
  expect(judge(pod('Pending', false))).toMatchObject({ status: 'False', reason: 'Provisioning' });
  expect(judge(pod('Running', false))).toMatchObject({ status: 'False', reason: 'NotReady', message: 'The kube-apiserver pod is not Ready (containers with unready status: [kube-apiserver])' });
  expect(judge(pod('Failed', false))).toMatchObject({ status: 'False', reason: 'Failed' });
  expect(judge(pod('Running', true, { deletionTimestamp: '2026-12-04T00:00:00Z' }))).toMatchObject({ status: 'False', reason: 'Deleting' });
});

it('is Unknown while the workload cluster or the Machine\'s Node cannot be seen', () => {
  expect(judge('unknown')).toMatchObject({ status: 'Unknown', reason: 'Inspecting' });
});
