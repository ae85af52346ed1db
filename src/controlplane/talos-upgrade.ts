// One step of an in-place Talos upgrade on one control-plane node (in-place.ts decides which; the
// planner lets a step that takes a node down start only while every other member is healthy):
// pull — the installer image pulled into the system namespace (ImageService.Pull; a node older
// than Talos 1.13 has none and pulls it itself); install — LifecycleService.Upgrade on Talos 1.13
// and later, which only writes the new boot entry, else MachineService.Upgrade staged for the next
// boot; drain — the Node cordoned and its pods evicted through the workload cluster; reboot — etcd
// leadership handed off (unless it is the only member), then Reboot; finish — the node reports the
// new version (Version), the Node is uncordoned, the bootstrap data Secret names the new image and
// the Machine records it (so the Machine counts as up to date). Each step records itself on the
// Machine after it is done, so a step interrupted is done again, never skipped.
import { MachineKind } from '../api/capi/v1beta2/resources';
import type { KubeClient } from '../kube/client/client';
import { SecretKind } from '../kube/client/resource';
import { drainNode, setUnschedulable } from '../cluster/node-drain';
import { fromBase64, toBase64, type SecretObject } from '../cluster/secrets';
import { TALOS_ADMIN, TALOS_READER } from '../cluster/talos-access';
import { collect, unwrapAll, unwrapSingle, type TalosClient, type UpgradeProgress } from '../talos/api';
import { imageTagOf, withInstallerImage } from '../talos/config/installer-image';
import { errorMessage } from '../util/errors';
import { talosVersionText, type TalosUpgradeAction } from './in-place';
import { IN_PLACE_UPGRADE_ANNOTATION } from './in-place-progress';
import { pullImages, recordProgress, secretNameOf, type InPlaceStepInput, type StepResult } from './in-place-upgrade';
import { INSTALLED_IMAGE_ANNOTATION } from './installer';
import { forfeitLeadership } from './scale-down';

/** Pulling an installer may take minutes on a slow registry, and so may installing it. */
const INSTALLER_TIMEOUT_MS = 5 * 60_000;

export interface TalosStepInput extends InPlaceStepInput<TalosUpgradeAction> {
  /** A client of the workload cluster (for the Node); undefined until its kubeconfig is known. */
  workload: KubeClient | undefined;
  /** The Machine's Node. */
  nodeName: string | undefined;
  /** The node runs the only etcd member, which has no leadership to hand off (Talos refuses to). */
  soleMember: boolean;
}

/** `v1.13.2` is at least 1.13; an unparsable tag counts as new (as Talos's own tools read it). */
export function talosAtLeast(tag: string, major: number, minor: number): boolean {
  const match = /^v?(\d+)\.(\d+)/.exec(tag);
  if (!match) return true;
  const [got, gotMinor] = [Number(match[1]), Number(match[2])];
  return got > major || (got === major && gotMinor >= minor);
}

/** The installer's output ended in success; else what it said last, as an error. */
function checkInstaller(output: readonly UpgradeProgress[]): void {
  const exit = output.at(-1);
  if (exit?.kind === 'exit' && exit.exitCode === 0) return;
  const said = output.filter((p) => p.kind === 'message').at(-1);
  const how = exit?.kind === 'exit' ? `exited with code ${exit.exitCode}` : 'ended without an exit code';
  throw new Error(`the installer ${how}${said?.kind === 'message' ? ` (last output: ${said.message})` : ''}`);
}

async function install(talos: TalosClient, installer: string, signal: AbortSignal): Promise<string> {
  const { tag } = unwrapSingle(await talos.version({ signal }), 'Version');
  if (talosAtLeast(tag, 1, 13)) {
    checkInstaller(unwrapAll(await collect(talos.lifecycleUpgrade({ image: installer }, { signal, timeoutMs: INSTALLER_TIMEOUT_MS }))));
    return `LifecycleService.Upgrade (the node ran Talos ${tag})`;
  }
  unwrapSingle(await talos.upgrade({ image: installer, stage: true, preserve: true }, { signal, timeoutMs: INSTALLER_TIMEOUT_MS }), 'Upgrade');
  return `MachineService.Upgrade, staged (the node ran Talos ${tag}, which has no LifecycleService)`;
}

/** The version the node runs, or why it cannot be told yet (it is still rebooting). */
async function reportedTag(input: TalosStepInput, address: string): Promise<{ tag: string } | { waiting: string }> {
  try {
    return await input.talosAt(address, TALOS_READER, async (talos) => unwrapSingle(await talos.version({ signal: input.signal }), 'Version'));
  } catch (error) {
    if (input.signal.aborted) throw error;
    return { waiting: `its Talos API to answer Version (${errorMessage(error)})` };
  }
}

async function finish(input: TalosStepInput, address: string, workload: KubeClient, nodeName: string): Promise<StepResult> {
  const { client, action: { machine, installer }, signal } = input;
  const name = machine.metadata.name ?? '';
  const reported = await reportedTag(input, address);
  const wanted = imageTagOf(installer);
  const waiting = 'waiting' in reported ? reported.waiting
    : wanted !== undefined && reported.tag !== wanted ? `the node to report Talos ${wanted} (it reports ${reported.tag})` : undefined;
  if (waiting) return { waiting: `Upgrading Machine ${name} to ${talosVersionText(installer)} in place: rebooted, waiting for ${waiting}` };
  await setUnschedulable(workload, nodeName, false, signal);
  const namespace = machine.metadata.namespace ?? '';
  const secret = await client.get<SecretObject>(SecretKind, namespace, secretNameOf(machine), signal);
  const config = withInstallerImage(fromBase64(secret.data?.value), installer);
  if (config !== undefined && config !== fromBase64(secret.data?.value)) {
    await client.patch(SecretKind, namespace, secretNameOf(machine), { data: { value: toBase64(config) } }, 'merge', { signal });
  }
  await client.patch(MachineKind, namespace, name, {
    metadata: { annotations: { [INSTALLED_IMAGE_ANNOTATION]: installer, [IN_PLACE_UPGRADE_ANNOTATION]: null } },
  }, 'merge', { signal });
  return `Upgraded Machine ${name} to ${talosVersionText(installer)} in place: its node reports it, its etcd member and Node are healthy, Node ${nodeName} uncordoned`;
}

export async function talosStep(input: TalosStepInput): Promise<StepResult> {
  const { client, action: { machine, installer, step }, address, talosAt, signal, workload, nodeName, soleMember } = input;
  const name = machine.metadata.name ?? '';
  if (!address) throw new Error('the Machine reports no address to reach its Talos API at');
  const record = (done: 'pulled' | 'installed' | 'drained' | 'rebooted') => recordProgress(client, machine, { progress: { installer, step: done } }, signal);
  if ((step === 'drain' || step === 'finish') && (!workload || !nodeName)) {
    return { waiting: `Upgrading Machine ${name} to ${talosVersionText(installer)} in place: waiting for ${workload ? 'its Node to be known' : 'the workload cluster to be reachable'}` };
  }
  switch (step) {
    case 'pull': {
      const pulled = await talosAt(address, TALOS_ADMIN, (talos) => pullImages(talos, [{ image: installer, namespace: 'SYSTEM' }], signal));
      await record('pulled');
      return pulled
        ? `Pulled installer ${installer} onto Machine ${name}'s node`
        : `Machine ${name}'s node serves no ImageService (Talos < 1.13): MachineService.Upgrade pulls installer ${installer} itself`;
    }
    case 'install': {
      const how = await talosAt(address, TALOS_ADMIN, (talos) => install(talos, installer, signal));
      await record('installed');
      return `Installed ${installer} on Machine ${name}'s node for its next boot through ${how}`;
    }
    case 'drain': {
      const held = await drainNode(workload!, nodeName!, signal);
      if (held) return { waiting: `Upgrading Machine ${name} to ${talosVersionText(installer)} in place: draining Node ${nodeName}, waiting for ${held}` };
      await record('drained');
      return `Cordoned and drained Node ${nodeName} of Machine ${name}`;
    }
    case 'reboot': {
      await talosAt(address, TALOS_ADMIN, async (talos) => {
        if (!soleMember) await forfeitLeadership(talos, signal);
        unwrapSingle(await talos.reboot({}, { signal }), 'Reboot');
      });
      await record('rebooted');
      const etcd = soleMember ? 'the only etcd member, down until it is back' : 'its etcd leadership handed off first';
      return `Rebooted Machine ${name}'s node into ${talosVersionText(installer)} (${etcd})`;
    }
    case 'finish':
      return finish(input, address, workload!, nodeName!);
  }
}
