// Which control-plane Machines no longer match their TalosControlPlane, and why, as CACPPT decides
// it: the Kubernetes version (also a node an in-place upgrade left on its way to another one), the
// infrastructure template the infrastructure machine was cloned from (Cluster API's cloned-from
// annotations), and the TalosConfig spec against `controlPlaneConfig` — a difference in nothing but
// the Talos installer image (see installer.ts) is a Talos version change of its own; and, as KCP, a
// Machine created before a `rollout.after` that has passed.
// A part the caches do not hold (yet) counts as matching, as upstream. Pure.
import type { Machine } from '../api/capi/v1beta2/types';
import { convertTalosConfig } from '../api/bootstrap/conversion';
import { TALOS_CONFIG_KIND } from '../api/bootstrap/group';
import { V1ALPHA3 as BOOTSTRAP_V1ALPHA3 } from '../api/bootstrap/resources';
import { infrastructureRefOf, kubernetesVersionOf, talosConfigSpecForMachine } from '../api/controlplane/spec';
import type { TalosControlPlane } from '../api/controlplane/v1beta1/types';
import { apiVersionOf } from '../kube/client/resource';
import { deepEqual } from '../util/json';
import { CLONED_FROM_GROUPKIND, CLONED_FROM_NAME } from './machine-objects';
import { fromMostPopulatedDomain } from './failure-domains';
import { kubernetesProgressOf, talosProgressOf } from './in-place-progress';
import { installedImageOf, installerImageOfSpec, withoutInstallerImage } from './installer';

interface PartMetadata {
  name?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The objects a control-plane Machine was made with, as the caches hold them. */
export interface MachineParts {
  /** Its TalosConfig, in the version the bootstrap informer serves (v1beta1). */
  talosConfig?: { metadata?: PartMetadata; spec?: unknown };
  /** Its infrastructure machine (the annotations say what it was cloned from). */
  infraMachine?: { apiVersion?: string; kind?: string; metadata: PartMetadata };
}

/** The annotation a user sets on a Machine to have it removed first when scaling down. */
export const DELETE_MACHINE_ANNOTATION = 'cluster.x-k8s.io/delete-machine';

/** A TalosConfig spec as `controlPlaneConfig` gives it (v1alpha3), in the version the cache holds (e.g. v1beta1). */
function servedSpec(spec: unknown, servedVersion: string): unknown {
  const object = { apiVersion: apiVersionOf(BOOTSTRAP_V1ALPHA3.talosConfig), kind: TALOS_CONFIG_KIND, metadata: {}, spec };
  return (convertTalosConfig(object, servedVersion) as { spec?: unknown }).spec;
}

/** When `spec.rollout.after` asks every older Machine to be replaced (ms since the epoch); undefined when it does not. */
export function rolloutAfterOf(tcp: TalosControlPlane): number | undefined {
  const after = tcp.spec.rollout?.after;
  const at = after ? Date.parse(after) : Number.NaN;
  return Number.isNaN(at) ? undefined : at;
}

/** What about a Machine differs from the spec: only a `version` or `talos` (installer image) difference can be made in place. */
export type OutdatedKind = 'version' | 'talos' | 'infrastructure' | 'config' | 'rolloutAfter';

export interface OutdatedReason {
  kind: OutdatedKind;
  /** In words, for conditions and Events. */
  message: string;
  /** `talos`: the installer image wanted. */
  installer?: string;
}

/**
 * The config reason of a Machine whose TalosConfig spec is `config` (its node running `installed`)
 * against the specs it may match: none when one matches, `talos` when one differs in nothing but
 * an installer image it names, else `config`.
 */
function configReason(wanted: readonly unknown[], config: unknown, installed: string | undefined): OutdatedReason | undefined {
  const sameOtherwise = wanted.filter((spec) => deepEqual(withoutInstallerImage(spec), withoutInstallerImage(config)));
  if (sameOtherwise.some((spec) => installerImageOfSpec(spec) === installed)) return undefined;
  const installer = sameOtherwise.map(installerImageOfSpec).find((image) => image !== undefined);
  if (installer === undefined) return { kind: 'config', message: 'TalosConfig differs from controlPlaneConfig' };
  return { kind: 'talos', message: `Talos installer ${installed ?? '(the default)'}, ${installer} wanted`, installer };
}

/** Why `machine` no longer matches the spec at `now`; empty when it is up to date. */
export function outdatedBecause(tcp: TalosControlPlane, machine: Machine, parts: MachineParts = {}, servedVersion?: string, now = Date.now()): OutdatedReason[] {
  const reasons: OutdatedReason[] = [];
  const version = kubernetesVersionOf(tcp.spec);
  const left = kubernetesProgressOf(machine)?.version;
  if (machine.spec.version !== version) reasons.push({ kind: 'version', message: `Kubernetes version ${machine.spec.version ?? '(none)'}, ${version} wanted` });
  // The version changed back while the node was upgraded in place: it may run another one.
  else if (left !== undefined && left !== version) reasons.push({ kind: 'version', message: `node left on its way to Kubernetes ${left} by an in-place upgrade, ${version} wanted` });

  const after = rolloutAfterOf(tcp);
  const created = Date.parse(machine.metadata.creationTimestamp ?? '');
  if (after !== undefined && now >= after && created < after) reasons.push({ kind: 'rolloutAfter', message: `created before rollout.after (${tcp.spec.rollout?.after})` });

  const annotations = parts.infraMachine?.metadata.annotations;
  const clonedFrom = annotations?.[CLONED_FROM_NAME];
  const clonedFromGroupKind = annotations?.[CLONED_FROM_GROUPKIND];
  if (clonedFrom !== undefined && clonedFromGroupKind !== undefined) {
    const template = infrastructureRefOf(tcp);
    const groupKind = `${template.kind}.${template.apiGroup}`;
    if (clonedFrom !== template.name || clonedFromGroupKind !== groupKind) {
      reasons.push({ kind: 'infrastructure', message: `infrastructure cloned from ${clonedFromGroupKind} ${clonedFrom}, ${groupKind} ${template.name} wanted` });
    }
  }

  const config = parts.talosConfig?.spec;
  if (config !== undefined) {
    // The first Machine may hold the deprecated `init` config: either role's spec is up to date.
    const wanted = [talosConfigSpecForMachine(tcp.spec, false), talosConfigSpecForMachine(tcp.spec, true)]
      .map((spec) => (servedVersion ? servedSpec(spec, servedVersion) : spec));
    const installed = installedImageOf(machine, config);
    const reason = configReason(wanted, config, installed);
    // The wanted image changed back while the node was upgraded in place: it may have another one staged.
    const staged = talosProgressOf(machine)?.installer;
    if (reason) reasons.push(reason);
    else if (staged !== undefined && staged !== installed) {
      const message = `node left on its way to Talos installer ${staged} by an in-place upgrade, ${installed ?? '(the default)'} wanted`;
      reasons.push(installed === undefined ? { kind: 'config', message } : { kind: 'talos', message, installer: installed });
    }
  }
  return reasons;
}

const hasDeleteAnnotation = (machine: Machine) => DELETE_MACHINE_ANNOTATION in (machine.metadata.annotations ?? {});

/**
 * The Machine a scale-down removes (CACPPT's and KCP's order): an outdated one marked for deletion,
 * any one marked, an outdated one, any one; in the first group that has any, from the failure
 * domain holding most of them (see failure-domains.ts), the oldest (`machines` come oldest first).
 */
export function machineToRemove(
  machines: readonly Machine[], isOutdated: (machine: Machine) => boolean, failureDomains: readonly string[] = [],
): Machine | undefined {
  const groups = [
    machines.filter((m) => isOutdated(m) && hasDeleteAnnotation(m)),
    machines.filter(hasDeleteAnnotation),
    machines.filter(isOutdated),
    [...machines],
  ];
  const group = groups.find((candidates) => candidates.length > 0);
  return group && fromMostPopulatedDomain(failureDomains, group)[0];
}
