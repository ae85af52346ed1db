// Whether a node upgraded in place runs its control-plane static pods from the config applied,
// as `talosctl upgrade-k8s` checks before going on: for each of kube-apiserver,
// kube-controller-manager and kube-scheduler, the node's config resource (Talos's resource API,
// namespace `controlplane`) names the new image, and the pod's copy in the workload cluster (the
// mirror pod `<component>-<node>` in kube-system) carries that resource's version in
// `talos.dev/config-version`, runs the image and is Ready. A component the node does not run
// (disabled in its config: no config resource) is not waited for. The decision is pure; the
// node's config resources are read below it, the pods come from the workload cluster's cache.
import { parse } from 'yaml';
import { isPodReady, type ControlPlanePod } from '../cluster/workload-nodes';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { TalosApiError, unwrapSingle, type TalosClient, type TalosResource } from '../talos/api';
import type { KubernetesImage } from '../talos/config/kubernetes-images';
import { isObject } from '../util/json';

export const STATIC_POD_COMPONENTS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type StaticPodComponent = (typeof STATIC_POD_COMPONENTS)[number];

/** The resource type of each static pod's config, as Talos names it. */
const CONFIG_TYPES: Record<StaticPodComponent, string> = {
  'kube-apiserver': 'APIServerConfigs.kubernetes.talos.dev',
  'kube-controller-manager': 'ControllerManagerConfigs.kubernetes.talos.dev',
  'kube-scheduler': 'SchedulerConfigs.kubernetes.talos.dev',
};
const CONFIG_NAMESPACE = 'controlplane';

/** The annotation Talos puts on a static pod: the version of the config resource it was rendered from. */
export const CONFIG_VERSION_ANNOTATION = 'talos.dev/config-version';

/** A static pod's config as the node holds it: its version and the image it names. */
export interface StaticPodConfig {
  version: string;
  image: string;
}

/** A static pod's copy in the workload cluster: `unknown` until the workload cluster's cache has synced and the Machine has a Node. */
export type PodSeen = ControlPlanePod | undefined | 'unknown';

/** What the node and the workload cluster show for one component; config undefined: the node does not run it. */
export interface StaticPodSeen {
  component: StaticPodComponent;
  config: StaticPodConfig | undefined;
  pod: PodSeen;
}
const podImage = (pod: ControlPlanePod) => pod.spec?.containers?.[0]?.image;

/** What the first component still lacks, in words; undefined when every one the node runs is at its new image. */
export function staticPodProblem(expected: readonly KubernetesImage[], seen: readonly StaticPodSeen[]): string | undefined {
  for (const { component, config, pod } of seen) {
    const image = expected.find((e) => e.component === component)?.image;
    if (!config || image === undefined) continue;
    if (config.image !== image) return `its ${component} config to name ${image} (it names ${config.image})`;
    if (pod === 'unknown') return `the workload cluster's pods to be seen (its ${component} static pod)`;
    if (!pod) return `the ${component} static pod to appear in the workload cluster`;
    const version = pod.metadata.annotations?.[CONFIG_VERSION_ANNOTATION];
    if (version !== config.version) return `the ${component} static pod at config version ${config.version} (it is at ${version ?? 'none'})`;
    if (podImage(pod) !== image) return `the ${component} static pod to run ${image} (it runs ${podImage(pod) ?? 'nothing'})`;
    if (!isPodReady(pod)) return `the ${component} static pod to be Ready`;
  }
  return undefined;
}

/** The image a config resource's YAML spec names. */
function imageOf(resource: TalosResource): string {
  const spec: unknown = parse(resource.yamlSpec);
  return isObject(spec) && typeof spec.image === 'string' ? spec.image : '';
}

async function configOf(talos: TalosClient, component: StaticPodComponent, signal: AbortSignal): Promise<StaticPodConfig | undefined> {
  try {
    const resource = unwrapSingle(await talos.resource({ namespace: CONFIG_NAMESPACE, type: CONFIG_TYPES[component], id: component }, { signal }), 'Get');
    return { version: resource.version, image: imageOf(resource) };
  } catch (error) {
    if (error instanceof TalosApiError && error.code === GrpcStatus.NOT_FOUND) return undefined;
    throw error;
  }
}

/** Reads each static pod's config from the node; `podOf` gives its copy in the workload cluster. */
export async function seeStaticPods(talos: TalosClient, podOf: (component: StaticPodComponent) => PodSeen, signal: AbortSignal): Promise<StaticPodSeen[]> {
  return Promise.all(STATIC_POD_COMPONENTS.map(async (component) => {
    const config = await configOf(talos, component, signal);
    return { component, config, pod: podOf(component) };
  }));
}
