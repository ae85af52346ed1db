// The health of a control-plane Machine's static pods as KCP judges them, from their copies in the
// workload cluster (the mirror pods the kubelet posts for kube-apiserver, kube-controller-manager
// and kube-scheduler; etcd is a Talos service here, judged by EtcdMemberHealthy): one Machine
// condition per pod (APIServerPodHealthy, ControllerManagerPodHealthy, SchedulerPodHealthy) with
// KCP's reasons (Running, Provisioning, Failed, DoesNotExist, Deleting, Inspecting), and the
// problems ControlPlaneComponentsHealthy sums up. Pure.
import type { Machine } from '../api/capi/v1beta2/types';
import { isPodReady } from '../cluster/workload-nodes';
import type { ConditionInput } from '../kube/patch/conditions';
import type { ControlPlane } from './control-plane';
import { STATIC_POD_COMPONENTS, type PodSeen, type StaticPodComponent } from './static-pods';

/** Each static pod's Machine condition, as KCP names them. */
const CONDITION_TYPES: Record<StaticPodComponent, string> = {
  'kube-apiserver': 'APIServerPodHealthy',
  'kube-controller-manager': 'ControllerManagerPodHealthy',
  'kube-scheduler': 'SchedulerPodHealthy',
};

export const STATIC_POD_CONDITION_TYPES = STATIC_POD_COMPONENTS.map((component) => CONDITION_TYPES[component]);

/** The condition of one static pod from what the workload cluster shows of it. */
export function staticPodCondition(type: string, component: string, pod: PodSeen, generation?: number): ConditionInput {
  const observed = generation === undefined ? {} : { observedGeneration: generation };
  const say = (status: ConditionInput['status'], reason: string, message: string): ConditionInput => ({ type, status, reason, message, ...observed });
  if (pod === 'unknown') return say('Unknown', 'Inspecting', `Waiting to see the ${component} pod in the workload cluster`);
  if (!pod) return say('False', 'DoesNotExist', `The ${component} static pod is not in the workload cluster`);
  if (pod.metadata.deletionTimestamp) return say('False', 'Deleting', `The ${component} pod is being deleted`);
  if (pod.status?.phase === 'Failed') return say('False', 'Failed', `The ${component} pod failed`);
  if (isPodReady(pod)) return say('True', 'Running', '');
  const why = pod.status?.conditions?.find((c) => c.type === 'Ready')?.message;
  if (pod.status?.phase === 'Running') return say('False', 'NotReady', `The ${component} pod is not Ready${why ? ` (${why})` : ''}`);
  return say('False', 'Provisioning', `The ${component} pod is starting`);
}

/** The Machine's static pod conditions. */
export function staticPodConditions(view: ControlPlane, machine: Machine): ConditionInput[] {
  return STATIC_POD_COMPONENTS.map((component) => staticPodCondition(CONDITION_TYPES[component], component, view.staticPodOf(machine, component), machine.metadata.generation));
}

/** What is wrong with the Machine's static pods, in words; undefined when they run (or cannot be seen yet). */
export function staticPodsProblem(view: ControlPlane, machine: Machine): string | undefined {
  const wrong = staticPodConditions(view, machine).filter((c) => c.status === 'False').map((c) => c.message);
  return wrong.length === 0 ? undefined : wrong.join('; ');
}
