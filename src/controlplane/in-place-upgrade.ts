// One step of an in-place Kubernetes upgrade on one control-plane node (in-place.ts decides which):
// pull — the new images pre-pulled through ImageService.Pull (the kubelet's into the system
// namespace, the others into the CRI one, where Talos runs them; a node older than Talos 1.13 has
// no ImageService and pulls them itself when the config is applied); apply — the node's machine
// config, read from its Machine's bootstrap data Secret, with every Kubernetes image it names at
// the new version (kube-proxy's too), applied without a reboot, then written back into the Secret
// so that the Secret stays what the node runs; finish — once the node's static pods run the new
// images from the config applied (static-pods.ts), the Machine's spec.version set. Each step
// records itself on the Machine in the same write that ends it. etcd is never touched. The runner
// of a step (this one's or a Talos upgrade's, see talos-upgrade.ts) checks first that the cache's
// Machine is current, and names the Machine and the step in a failure.
import type { Machine } from '../api/capi/v1beta2/types';
import { MachineKind } from '../api/capi/v1beta2/resources';
import type { KubeClient } from '../kube/client/client';
import { SecretKind } from '../kube/client/resource';
import { fromBase64, toBase64, type SecretObject } from '../cluster/secrets';
import { TALOS_ADMIN } from '../cluster/talos-access';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { collect, TalosApiError, unwrapAll, unwrapSingle, type TalosClient } from '../talos/api';
import { withKubernetesVersion, type KubernetesImage } from '../talos/config/kubernetes-images';
import { errorMessage } from '../util/errors';
import { isObject } from '../util/json';
import { inPlaceTargetOf, type InPlaceAction, type TalosUpgradeAction } from './in-place';
import { IN_PLACE_UPGRADE_ANNOTATION, progressAnnotation, type InPlaceProgress } from './in-place-progress';
import type { TalosAt } from './scale-down';
import { seeStaticPods, staticPodProblem, type PodSeen, type StaticPodComponent } from './static-pods';

/** One ImageService.Pull (a Kubernetes image or a Talos installer) may take minutes on a slow registry; every other call is short. */
const IMAGE_PULL_TIMEOUT_MS = 5 * 60_000;

type AnyInPlaceAction = InPlaceAction | TalosUpgradeAction;

export class InPlaceStepFailed extends Error {
  override readonly name = 'InPlaceStepFailed';

  constructor(
    action: AnyInPlaceAction,
    cause: unknown,
    /** A call to the node's Talos API threw `cause` (else the management cluster did, or this code). */
    readonly fromTalosCall: boolean,
  ) {
    super(`In-place upgrade of Machine ${action.machine.metadata.name} to ${inPlaceTargetOf(action)} stopped: step ${action.step} failed: ${errorMessage(cause)}`, { cause });
  }
}

export interface InPlaceStepInput<A extends AnyInPlaceAction = InPlaceAction> {
  client: KubeClient;
  action: A;
  /** Where the Machine's own Talos API answers. */
  address: string | undefined;
  talosAt: TalosAt;
  signal: AbortSignal;
}

export interface KubernetesStepInput extends InPlaceStepInput {
  /** The copy of one of the node's static pods in the workload cluster (from its cache). */
  staticPodOf: (component: StaticPodComponent) => PodSeen;
}

/** What a step did, for its Event; `stale` when the cache is behind the Machine (nothing was done); `waiting` when the node is not there yet. */
export type InPlaceStepOutcome = { done: true; note: string } | { done: false; stale: true } | { done: false; waiting: string };

/** A step's own result: what it did, or what it waits for (it did nothing then). */
export type StepResult = string | { waiting: string };

export function secretNameOf(machine: Machine): string {
  const name = machine.spec.bootstrap.dataSecretName;
  if (!name) throw new Error('the Machine names no bootstrap data Secret');
  return name;
}

/** The config the node runs and the same config at the new version. */
async function configs(client: KubeClient, machine: Machine, version: string, signal: AbortSignal) {
  const secret = await client.get<SecretObject>(SecretKind, machine.metadata.namespace ?? '', secretNameOf(machine), signal);
  const current = fromBase64(secret.data?.value);
  if (current === '') throw new Error(`bootstrap data Secret ${secret.metadata.name} holds no machine config`);
  return { current, ...withKubernetesVersion(current, version) };
}

const namespaceOf = (image: KubernetesImage) => (image.component === 'kubelet' ? 'SYSTEM' as const : 'CRI' as const);
const componentsOf = (images: readonly KubernetesImage[]) => images.map((i) => i.component).join(', ');

/** An image to pull and the containerd namespace it goes to (SYSTEM for Talos's own, CRI for pods). */
export interface ImageToPull {
  image: string;
  namespace: 'SYSTEM' | 'CRI';
}

/** Pulls every image through ImageService.Pull; false when the node has no ImageService (Talos < 1.13). */
export async function pullImages(talos: TalosClient, images: readonly ImageToPull[], signal: AbortSignal): Promise<boolean> {
  for (const { image, namespace } of images) {
    try {
      unwrapAll(await collect(talos.imagePull({ image, namespace }, { signal, timeoutMs: IMAGE_PULL_TIMEOUT_MS })));
    } catch (error) {
      if (error instanceof TalosApiError && error.code === GrpcStatus.UNIMPLEMENTED) return false;
      throw error;
    }
  }
  return true;
}

export async function recordProgress(client: KubeClient, machine: Machine, patch: { progress?: InPlaceProgress; version?: string }, signal: AbortSignal): Promise<void> {
  await client.patch(MachineKind, machine.metadata.namespace ?? '', machine.metadata.name ?? '', {
    metadata: { annotations: { [IN_PLACE_UPGRADE_ANNOTATION]: patch.progress ? progressAnnotation(patch.progress) : null } },
    ...(patch.version ? { spec: { version: patch.version } } : {}),
  }, 'merge', { signal });
}

export async function kubernetesStep({ client, action, address, talosAt, staticPodOf, signal }: KubernetesStepInput): Promise<StepResult> {
  const { machine, version } = action;
  const name = machine.metadata.name ?? '';
  if (!address) throw new Error('the Machine reports no address to reach its Talos API at');
  const { current, config, images } = await configs(client, machine, version, signal);
  if (action.step === 'finish') {
    const seen = await talosAt(address, TALOS_ADMIN, (talos) => seeStaticPods(talos, staticPodOf, signal));
    const problem = staticPodProblem(images, seen);
    if (problem) return { waiting: `Upgrading Machine ${name} to ${version} in place: waiting for ${problem}` };
    await recordProgress(client, machine, { version }, signal);
    return `Upgraded Machine ${name} to Kubernetes ${version} in place: its static pods run the new images from the config applied and its Node reports kubelet ${version}`;
  }
  if (action.step === 'pull') {
    const pulled = await talosAt(address, TALOS_ADMIN, (talos) => pullImages(talos, images.map((i) => ({ image: i.image, namespace: namespaceOf(i) })), signal));
    await recordProgress(client, machine, { progress: { version, step: 'pulled' } }, signal);
    return pulled
      ? `Pulled the Kubernetes ${version} images onto Machine ${name}'s node (${componentsOf(images)})`
      : `Machine ${name}'s node serves no ImageService (Talos < 1.13): it pulls the Kubernetes ${version} images when the config is applied`;
  }
  await talosAt(address, TALOS_ADMIN, async (talos) => unwrapSingle(await talos.applyConfiguration({ config, mode: 'NO_REBOOT' }, { signal }), 'ApplyConfiguration'));
  if (config !== current) {
    await client.patch(SecretKind, machine.metadata.namespace ?? '', secretNameOf(machine), { data: { value: toBase64(config) } }, 'merge', { signal });
  }
  await recordProgress(client, machine, { progress: { version, step: 'applied' } }, signal);
  return `Applied Machine ${name}'s machine config with the Kubernetes ${version} images (${componentsOf(images)}) without a reboot`;
}

/**
 * Runs the step unless the Machine changed since the cache's copy (a step already done whose
 * record has not reached the cache: its event brings the next pass). A failure names the
 * Machine and the step, and says whether a call to the node threw it (InPlaceStepFailed).
 */
export async function runInPlaceStep<I extends InPlaceStepInput<AnyInPlaceAction>>(input: I, step: (input: I) => Promise<StepResult>): Promise<InPlaceStepOutcome> {
  const { machine } = input.action;
  const fromTalos = new WeakSet<object>();
  const talosAt: TalosAt = (address, role, call) => input.talosAt(address, role, (talos) => call(talos).catch((error: unknown) => {
    if (isObject(error)) fromTalos.add(error);
    throw error;
  }));
  try {
    const fresh = await input.client.get<Machine>(MachineKind, machine.metadata.namespace ?? '', machine.metadata.name ?? '', input.signal);
    if (fresh.metadata.resourceVersion !== machine.metadata.resourceVersion) return { done: false, stale: true };
    const result = await step({ ...input, talosAt });
    return typeof result === 'string' ? { done: true, note: result } : { done: false, waiting: result.waiting };
  } catch (error) {
    if (input.signal.aborted) throw error;
    throw new InPlaceStepFailed(input.action, error, isObject(error) && fromTalos.has(error));
  }
}
