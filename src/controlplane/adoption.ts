// Adoption of orphaned control-plane Machines (as KCP: Machines an older controller made, or left
// behind when its owner went): a Machine of the cluster with the control-plane label, bootstrapped
// by a TalosConfig, not being deleted and with no controller owner gets the TalosControlPlane as
// its controller — unless its Kubernetes version is more than one minor away from the control
// plane's, which no rollout could bridge: that refusal is said and the control plane waits. A
// Machine another controller owns is never touched. Pure: no I/O.
import type { Machine } from '../api/capi/v1beta2/types';
import { TALOS_CONFIG_KIND } from '../api/bootstrap/group';
import type { TalosControlPlane } from '../api/controlplane/v1beta1/types';
import { kubernetesVersionOf } from '../api/controlplane/spec';
import { V1BETA1 } from '../api/controlplane/resources';
import { controllerOwnerReference } from '../kube/meta/owners';
import type { OwnerReference } from '../kube/meta/object';

const hasController = (machine: Machine) => (machine.metadata.ownerReferences ?? []).some((ref) => ref.controller === true);

/** Machines to adopt among the cluster's control-plane Machines in the control plane's namespace. */
export function adoptableMachines(controlPlaneMachines: readonly Machine[]): Machine[] {
  return controlPlaneMachines.filter((m) => !m.metadata.deletionTimestamp && !hasController(m) && m.spec.bootstrap.configRef?.kind === TALOS_CONFIG_KIND);
}

/** major.minor of a Kubernetes version (`v1.34.1`, `1.34`); undefined when it is not one. */
function minorOf(version: string | undefined): { major: number; minor: number } | undefined {
  const match = /^v?(\d+)\.(\d+)/.exec(version ?? '');
  return match ? { major: Number(match[1]), minor: Number(match[2]) } : undefined;
}

/** Why the Machine is not adopted (undefined: it is). */
export function adoptionRefusal(tcp: TalosControlPlane, machine: Machine): string | undefined {
  const wanted = kubernetesVersionOf(tcp.spec);
  const [mine, theirs] = [minorOf(wanted), minorOf(machine.spec.version)];
  const name = machine.metadata.name;
  if (!theirs || !mine) return `Machine ${name} is not adopted: its version ${machine.spec.version ?? '(none)'} cannot be compared with the control plane's ${wanted}`;
  if (mine.major !== theirs.major || Math.abs(mine.minor - theirs.minor) > 1) {
    return `Machine ${name} is not adopted: its version ${machine.spec.version} is more than one minor version away from the control plane's ${wanted}`;
  }
  return undefined;
}

/**
 * A merge patch that makes the TalosControlPlane the Machine's controller, keeping its other owner
 * references; the resourceVersion makes a concurrent change (another controller adopting it) fail.
 */
export function adoptionPatch(tcp: TalosControlPlane, machine: Machine): { metadata: { resourceVersion?: string; ownerReferences: OwnerReference[] } } {
  const ownerReferences = [...(machine.metadata.ownerReferences ?? []), controllerOwnerReference(tcp, V1BETA1.talosControlPlane)];
  return { metadata: { ...(machine.metadata.resourceVersion ? { resourceVersion: machine.metadata.resourceVersion } : {}), ownerReferences } };
}
