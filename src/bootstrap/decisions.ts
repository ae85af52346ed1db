// Pure decisions of the TalosConfig reconciler: everything that can be said
// from the objects alone, without I/O, so each rule is testable on its own.
import type { Cluster, Machine, MachinePool } from '../api/capi/v1beta2/types';
import { CONTROL_PLANE_LABEL } from '../api/capi/v1beta2/types';
import type { TalosConfigSpec } from '../api/bootstrap/spec';
import { compareCodeUnits } from '../util/compare';

/** The object a TalosConfig bootstraps: a Machine, or each replica of a MachinePool. */
export type ConfigOwner = Machine | MachinePool;

export type MachineType = 'init' | 'controlplane' | 'worker';

export type GeneratePlan = { kind: 'generate'; machineType: MachineType } | { kind: 'userData' } | { kind: 'invalid'; message: string };

/**
 * What to do for a generateType. `join` and an empty value are the old names of `worker`,
 * as Talos's own type parser has them.
 */
export function planFor(spec: TalosConfigSpec): GeneratePlan {
  const type = spec.generateType ?? '';
  switch (type) {
    case 'init':
    case 'controlplane':
      return { kind: 'generate', machineType: type };
    case 'worker':
    case 'join':
    case '':
      return { kind: 'generate', machineType: 'worker' };
    case 'none':
      return spec.data && spec.data.trim() !== ''
        ? { kind: 'userData' }
        : { kind: 'invalid', message: 'generateType "none" needs the machine config in spec.data, which is empty' };
    default:
      return {
        kind: 'invalid',
        message: `unknown generateType ${JSON.stringify(type)}: allowed values are init, controlplane, worker, join, none`,
      };
  }
}

function ownerMachineSpec(owner: ConfigOwner): Machine['spec'] {
  return owner.kind === 'MachinePool' ? owner.spec.template.spec : owner.spec;
}

/** Kubernetes version from the owner (leading `v` dropped), or undefined to use the contract's default. */
export function kubernetesVersionOf(owner: ConfigOwner): string | undefined {
  const version = ownerMachineSpec(owner).version?.trim();
  return version ? version.replace(/^v/, '') : undefined;
}

export function clusterNameOf(owner: ConfigOwner): string {
  return owner.spec.clusterName;
}

/**
 * The control-plane endpoint as `https://host:port`, IPv6 hosts bracketed. Undefined until the
 * infrastructure provider has set both host and a non-zero port: a config must never carry
 * `https://:0` (CABPT writes that when it does not wait).
 */
export function controlPlaneEndpointUrl(cluster: Cluster): string | undefined {
  const endpoint = cluster.spec?.controlPlaneEndpoint;
  const host = endpoint?.host?.trim();
  if (!host || !endpoint?.port) return undefined;
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `https://${bracketed}:${endpoint.port}`;
}

export function infrastructureProvisioned(cluster: Cluster): boolean {
  return cluster.status?.initialization?.infrastructureProvisioned === true;
}

/** Why a config cannot be generated yet, or undefined when the Cluster is ready for it. */
export function waitingForCluster(cluster: Cluster): string | undefined {
  if (!infrastructureProvisioned(cluster)) return 'Waiting for the cluster infrastructure to be ready';
  if (!controlPlaneEndpointUrl(cluster)) return 'Waiting for the cluster control plane endpoint to be set';
  return undefined;
}

export interface ClusterNetworkInputs {
  dnsDomain?: string;
  podCIDRs?: string[];
  serviceCIDRs?: string[];
}

/** Cluster network settings that override the generator's defaults; only what the Cluster sets. */
export function clusterNetworkOf(cluster: Cluster): ClusterNetworkInputs {
  const network = cluster.spec?.clusterNetwork;
  const out: ClusterNetworkInputs = {};
  if (network?.serviceDomain) out.dnsDomain = network.serviceDomain;
  if (network?.pods?.cidrBlocks?.length) out.podCIDRs = [...network.pods.cidrBlocks];
  if (network?.services?.cidrBlocks?.length) out.serviceCIDRs = [...network.services.cidrBlocks];
  return out;
}

/**
 * The hostname a config pins, if its hostname source asks for one. MachinePools have one
 * config for many machines, so a per-machine name cannot apply (CABPT ignores it silently too).
 */
export function hostnameFor(spec: TalosConfigSpec, owner: ConfigOwner): string | undefined {
  if (owner.kind !== 'Machine') return undefined;
  switch (spec.hostname?.source) {
    case 'MachineName':
      return owner.metadata.name;
    case 'InfrastructureName':
      return owner.spec.infrastructureRef?.name;
    default:
      return undefined;
  }
}

/** Equinix Metal (Packet) reads user data as Talos config only behind this marker. */
export function userDataPrefix(owner: ConfigOwner): string {
  const infraKind = ownerMachineSpec(owner).infrastructureRef?.kind;
  return infraKind === 'PacketMachine' || infraKind === 'PacketMachinePool' ? '#!talos\n' : '';
}

/** The deterministic name of an owner's bootstrap data Secret. */
export function bootstrapDataSecretName(owner: ConfigOwner): string {
  return `${owner.metadata.name}-bootstrap-data`;
}

/** A data secret name already on the owner (a pivot or restore): adopt it instead of generating. */
export function adoptableDataSecretName(owner: ConfigOwner): string | undefined {
  if (owner.kind !== 'Machine') return undefined;
  return owner.spec.bootstrap?.dataSecretName || undefined;
}

/** Only control-plane configs make the cluster's talosconfig. */
export function writesTalosconfig(plan: GeneratePlan): boolean {
  return plan.kind === 'generate' && plan.machineType !== 'worker';
}

/**
 * Endpoints for the cluster's talosconfig: the ones the user named (a DNS name or load balancer),
 * else every ExternalIP/InternalIP of the control-plane Machines, sorted and without duplicates.
 */
export function talosconfigEndpoints(machines: Machine[], explicit?: string[]): string[] {
  if (explicit && explicit.length > 0) return [...explicit];
  const addresses = new Set<string>();
  for (const machine of machines) {
    if (!(CONTROL_PLANE_LABEL in (machine.metadata.labels ?? {}))) continue;
    if (machine.metadata.deletionTimestamp) continue;
    for (const address of machine.status?.addresses ?? []) {
      if (address.type === 'ExternalIP' || address.type === 'InternalIP') addresses.add(address.address);
    }
  }
  return [...addresses].sort();
}

export interface IssuedClientCertificate {
  notBefore: Date;
  notAfter: Date;
  endpoints: string[];
}

/**
 * Renew the talosconfig's client certificate once it has used half its life, or when the
 * endpoints it lists are no longer the right ones; otherwise leave the Secret alone.
 */
export function talosconfigNeedsRenewal(current: IssuedClientCertificate | undefined, wantedEndpoints: string[], now: Date): boolean {
  if (!current) return true;
  const sameEndpoints =
    current.endpoints.length === wantedEndpoints.length && current.endpoints.every((endpoint, i) => endpoint === wantedEndpoints[i]);
  if (!sameEndpoints) return true;
  return now.getTime() >= renewalDue(current).getTime();
}

/** When the client certificate has used half its life. */
export function renewalDue(current: Pick<IssuedClientCertificate, 'notBefore' | 'notAfter'>): Date {
  return new Date(current.notBefore.getTime() + (current.notAfter.getTime() - current.notBefore.getTime()) / 2);
}

/** Timers are 32-bit: look again at least this often, however far off the renewal is. */
export const MAX_REQUEUE_MS = 12 * 3_600_000;

/** How long until the renewal is due, as a requeue delay (at least a second, at most MAX_REQUEUE_MS). */
export function requeueForRenewal(due: Date, now: Date): number {
  return Math.min(MAX_REQUEUE_MS, Math.max(1_000, due.getTime() - now.getTime()));
}

/**
 * Deepest nesting a configPatches value may have. Talos configs nest about a dozen levels; the
 * API accepts thousands, which would overflow recursive copies and merges.
 */
export const MAX_PATCH_DEPTH = 64;

/** Nesting depth of a JSON value, counted without recursion (it may be arbitrarily deep). */
export function jsonDepth(value: unknown, stopAfter = Number.POSITIVE_INFINITY): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    deepest = Math.max(deepest, depth);
    if (deepest > stopAfter) return deepest;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Why the spec's patches cannot be applied safely, or undefined. */
export function patchDepthProblem(spec: TalosConfigSpec): string | undefined {
  const index = (spec.configPatches ?? []).findIndex((patch) => jsonDepth(patch.value, MAX_PATCH_DEPTH) > MAX_PATCH_DEPTH);
  if (index < 0) return undefined;
  return `configPatches[${index}].value nests deeper than ${MAX_PATCH_DEPTH} levels, more than any Talos config has`;
}

interface OwnedConfig {
  metadata: { name?: string; uid?: string; creationTimestamp?: string; deletionTimestamp?: string; ownerReferences?: Array<{ uid: string }> };
  status?: { initialization?: { dataSecretCreated?: boolean } };
}

/**
 * The config that bootstraps `ownerUid`, among all configs that name it as owner: the one that
 * already made its data Secret, else the oldest (by creation, then name). Only it may write
 * `<owner>-bootstrap-data`; any other would replace the Machine's data under it.
 */
export function configClaimingOwner<T extends OwnedConfig>(ownerUid: string, configs: readonly T[]): T | undefined {
  const candidates = configs.filter(
    (c) => !c.metadata.deletionTimestamp && (c.metadata.ownerReferences ?? []).some((ref) => ref.uid === ownerUid),
  );
  const made = candidates.find((c) => c.status?.initialization?.dataSecretCreated);
  if (made) return made;
  return [...candidates].sort((a, b) =>
    compareCodeUnits(a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? '') || compareCodeUnits(a.metadata.name ?? '', b.metadata.name ?? ''),
  )[0];
}
