// When a node upgraded in place counts as running its new static pods: each config the node holds
// names the new image, and its mirror pod carries that config's version, runs the image and is Ready.
import { CONFIG_VERSION_ANNOTATION, staticPodProblem, type StaticPodComponent, type StaticPodSeen } from '../../../src/controlplane/static-pods';
import type { ControlPlanePod } from '../../../src/cluster/workload-nodes';
import type { KubernetesImage } from '../../../src/talos/config/kubernetes-images';

const NEW = (component: StaticPodComponent) => `example.org/${component}:v1.35.0`;
const expected: KubernetesImage[] = (['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet'] as const)
  .map((component) => ({ component, image: NEW(component as StaticPodComponent) }));

function pod(component: StaticPodComponent, version: string, image = NEW(component), ready = true): ControlPlanePod {
  return {
    metadata: { name: `${component}-cp-1`, namespace: 'kube-system', annotations: { [CONFIG_VERSION_ANNOTATION]: version } },
    spec: { containers: [{ name: component, image }] },
    status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

const upgraded = (component: StaticPodComponent): StaticPodSeen => ({ component, config: { version: '2', image: NEW(component) }, pod: pod(component, '2') });
const all = (change: Partial<Record<StaticPodComponent, StaticPodSeen>> = {}): StaticPodSeen[] =>
  (['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const).map((c) => change[c] ?? upgraded(c));

it('is satisfied when every pod runs the new image at its config version and is Ready', () => {
  expect(staticPodProblem(expected, all())).toBeUndefined();
});

it('waits for the node to take in the config, then for the pod rendered from it', () => {
  const old = 'example.org/kube-apiserver:v1.34.1';
  expect(staticPodProblem(expected, all({ 'kube-apiserver': { component: 'kube-apiserver', config: { version: '1', image: old }, pod: pod('kube-apiserver', '1', old) } })))
    .toBe(`its kube-apiserver config to name ${NEW('kube-apiserver')} (it names ${old})`);
  expect(staticPodProblem(expected, all({ 'kube-scheduler': { ...upgraded('kube-scheduler'), pod: pod('kube-scheduler', '1', 'example.org/kube-scheduler:v1.34.1') } })))
    .toBe('the kube-scheduler static pod at config version 2 (it is at 1)');
  expect(staticPodProblem(expected, all({ 'kube-scheduler': { ...upgraded('kube-scheduler'), pod: undefined } })))
    .toBe('the kube-scheduler static pod to appear in the workload cluster');
  expect(staticPodProblem(expected, all({ 'kube-scheduler': { ...upgraded('kube-scheduler'), pod: 'unknown' } })))
    .toBe('the workload cluster\'s pods to be seen (its kube-scheduler static pod)');
});

it('waits for a pod at the new version that runs another image or is not Ready', () => {
  expect(staticPodProblem(expected, all({ 'kube-controller-manager': { ...upgraded('kube-controller-manager'), pod: pod('kube-controller-manager', '2', 'example.org/other:v1') } })))
    .toBe(`the kube-controller-manager static pod to run ${NEW('kube-controller-manager')} (it runs example.org/other:v1)`);
  expect(staticPodProblem(expected, all({ 'kube-apiserver': { ...upgraded('kube-apiserver'), pod: pod('kube-apiserver', '2', NEW('kube-apiserver'), false) } })))
    .toBe('the kube-apiserver static pod to be Ready');
});

it('does not wait for a component the node does not run', () => {
  expect(staticPodProblem(expected, all({ 'kube-scheduler': { component: 'kube-scheduler', config: undefined, pod: undefined } }))).toBeUndefined();
});
