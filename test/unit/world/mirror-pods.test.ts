// A simulated kubelet's mirror pods: what it posts for a static pod, and when a change is a new pod.
import { mirrorPodObject, mirrorPodStatus, postedKey, specKey } from '../../../test/world/mirror-pods';
import type { StaticPodView } from '../../../test/support/talos-sim';

const apiserver: StaticPodView = { name: 'kube-apiserver', image: 'example.org/kube-apiserver:v1.35.0', configVersion: 2, ready: true };

it('posts the pod as Talos renders it: bound to and owned by its Node, with the config version it was rendered at', () => {
  const pod = mirrorPodObject(apiserver, { name: 'cp-1', uid: 'u-1' });
  expect(pod.metadata).toMatchObject({
    name: 'kube-apiserver-cp-1',
    namespace: 'kube-system',
    labels: { 'k8s-app': 'kube-apiserver', tier: 'control-plane' },
    annotations: { 'talos.dev/config-version': '2', 'kubernetes.io/config.source': 'file' },
    ownerReferences: [{ kind: 'Node', name: 'cp-1', uid: 'u-1', controller: true }],
  });
  expect(pod.metadata.annotations['kubernetes.io/config.mirror']).toBeDefined();
  expect(pod.spec).toMatchObject({ nodeName: 'cp-1', containers: [{ name: 'kube-apiserver', image: apiserver.image }] });
});

it('reports Ready as the node says, with the reason a pod is not', () => {
  const ready = mirrorPodStatus(apiserver, '10.0.0.1', '2026-12-04T00:00:00Z');
  expect(ready).toMatchObject({ phase: 'Running', hostIP: '10.0.0.1' });
  expect(ready.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
  const broken = mirrorPodStatus({ ...apiserver, ready: false, message: 'Back-off pulling image' }, undefined, '2026-12-04T00:00:00Z');
  expect(broken.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', message: 'Back-off pulling image' });
});

it('makes a new pod for a new image or config version, and only a status update for readiness', () => {
  const notReady = { ...apiserver, ready: false };
  expect(specKey(notReady)).toBe(specKey(apiserver));
  expect(postedKey(notReady)).not.toBe(postedKey(apiserver));
  expect(specKey({ ...apiserver, configVersion: 3 })).not.toBe(specKey(apiserver));
  expect(specKey({ ...apiserver, image: 'example.org/kube-apiserver:v1.36.0' })).not.toBe(specKey(apiserver));
});
