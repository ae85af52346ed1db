// Turns a TalosConfig spec plus its owner, Cluster and secrets bundle into the
// bootstrap data a Machine boots from. No I/O: `talos-capi render` and the
// reconciler share it, and any error here is the user's input, worded for them.
import type { Cluster } from '../api/capi/v1beta2/types';
import type { TalosConfigSpec } from '../api/bootstrap/spec';
import {
  CURRENT_CONTRACT,
  DEFAULT_KUBERNETES_VERSION,
  encodeConfig,
  parseConfig,
  parseContract,
  renderMachineConfig,
  type ConfigDocument,
  type JsonPatchOperation,
  type SecretsBundle,
  type TalosContract,
} from '../talos/config';
import {
  clusterNameOf,
  clusterNetworkOf,
  controlPlaneEndpointUrl,
  hostnameFor,
  kubernetesVersionOf,
  planFor,
  userDataPrefix,
  type ConfigOwner,
  type MachineType,
} from './decisions';
import { moveMisplacedSettings } from './patch-compat';

/** Bad input in a TalosConfig: retrying cannot help, only a new TalosConfig can. */
export class InvalidTalosConfig extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTalosConfig';
  }
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export function contractOf(spec: TalosConfigSpec): TalosContract {
  if (!spec.talosVersion) return CURRENT_CONTRACT;
  try {
    return parseContract(spec.talosVersion);
  } catch (error) {
    throw new InvalidTalosConfig(`invalid talosVersion ${JSON.stringify(spec.talosVersion)}: ${messageOf(error)}`);
  }
}

export interface GeneratedRequest {
  spec: TalosConfigSpec;
  machineType: MachineType;
  owner: ConfigOwner;
  cluster: Cluster;
  bundle: SecretsBundle;
}

export interface Rendered {
  data: string;
  /** Rewrites of known misplaced configPatches, to tell the user about. */
  notes: string[];
}

/** A generated (init / controlplane / worker) config with the spec's patches applied. */
export function renderGenerated(request: GeneratedRequest): Rendered {
  const { spec, owner, cluster } = request;
  const endpoint = controlPlaneEndpointUrl(cluster);
  if (!endpoint) throw new Error('the Cluster has no control plane endpoint yet');
  const contract = contractOf(spec);
  const notes: string[] = [];
  const grubUseUKICmdline = contract.features.grubUseUKICmdlineDefault;
  let rendered: string;
  try {
    rendered = renderMachineConfig({
      clusterName: clusterNameOf(owner),
      endpoint,
      kubernetesVersion: kubernetesVersionOf(owner) ?? DEFAULT_KUBERNETES_VERSION,
      contract,
      bundle: request.bundle,
      machineType: request.machineType,
      ...clusterNetworkOf(cluster),
      hostname: hostnameFor(spec, owner),
      patches: {
        jsonPatches: (spec.configPatches ?? []) as JsonPatchOperation[],
        strategicPatches: spec.strategicPatches ?? [],
      },
      patchOptions: {
        repairV1Alpha1: (document, source) => {
          const repaired = moveMisplacedSettings(document, { grubUseUKICmdline });
          notes.push(...repaired.notes.map((note) => `${source}: ${note}`));
          return repaired.document;
        },
      },
    });
  } catch (error) {
    throw new InvalidTalosConfig(messageOf(error));
  }
  return { data: userDataPrefix(owner) + rendered, notes };
}

export interface UserDataResult {
  data: string;
  /** The Kubernetes CA, when the user's config carries both its certificate and key. */
  kubernetesCA?: { crt: string; key: string };
  /** The Talos OS CA, when the config carries both: enough to issue a talosconfig. */
  osCA?: { crt: string; key: string };
  machineType?: string;
}

function pemPair(section: unknown): { crt: string; key: string } | undefined {
  if (!section || typeof section !== 'object') return undefined;
  const { crt, key } = section as { crt?: unknown; key?: unknown };
  if (typeof crt !== 'string' || typeof key !== 'string' || !crt || !key) return undefined;
  const decode = (value: string) => Buffer.from(value, 'base64').toString('utf8');
  return { crt: decode(crt), key: decode(key) };
}

function v1alpha1Of(documents: ConfigDocument[]): Record<string, unknown> | undefined {
  return documents.find((doc) => doc.version === 'v1alpha1') as Record<string, unknown> | undefined;
}

/** generateType `none`: the user's config, loaded strictly and re-encoded in Talos's layout. */
export function renderUserData(spec: TalosConfigSpec, owner: ConfigOwner): UserDataResult {
  let documents: ConfigDocument[];
  try {
    documents = parseConfig(spec.data ?? '');
  } catch (error) {
    throw new InvalidTalosConfig(`spec.data is not a valid Talos machine config: ${messageOf(error)}`);
  }
  const v1alpha1 = v1alpha1Of(documents);
  const machine = (v1alpha1?.machine ?? {}) as Record<string, unknown>;
  const clusterSection = (v1alpha1?.cluster ?? {}) as Record<string, unknown>;
  const machineType = typeof machine.type === 'string' ? machine.type : undefined;
  const isWorker = machineType === 'worker' || machineType === 'join';
  return {
    data: userDataPrefix(owner) + encodeConfig(documents),
    kubernetesCA: isWorker ? undefined : pemPair(clusterSection.ca),
    osCA: isWorker ? undefined : pemPair(machine.ca),
    machineType,
  };
}

/** The generate plan for a spec, or an InvalidTalosConfig explaining why there is none. */
export function requirePlan(spec: TalosConfigSpec) {
  const plan = planFor(spec);
  if (plan.kind === 'invalid') throw new InvalidTalosConfig(plan.message);
  return plan;
}
