// The three objects of one control-plane Machine, built from the TalosControlPlane alone: a
// TalosConfig from controlPlaneConfig, an infrastructure machine cloned from the template (any
// kind), and the Machine naming both. All three share one name, so each is found from the others.
import { randomInt } from 'node:crypto';
import { API_VERSION as CAPI_API_VERSION, CLUSTER_NAME_LABEL, CONTROL_PLANE_LABEL, type Machine } from '../api/capi/v1beta2/types';
import { BOOTSTRAP_GROUP, TALOS_CONFIG_KIND } from '../api/bootstrap/group';
import { V1ALPHA3 as BOOTSTRAP_V1ALPHA3 } from '../api/bootstrap/resources';
import { V1BETA1 } from '../api/controlplane/resources';
import { kubernetesVersionOf, talosConfigSpecForMachine } from '../api/controlplane/spec';
import type { TalosControlPlane } from '../api/controlplane/v1beta1/types';
import { splitApiVersion } from '../api/meta';
import type { KubeObject, OwnerReference } from '../kube/meta/object';
import { controllerOwnerReference } from '../kube/meta/owners';
import { WATCH_FILTER_LABEL } from '../kube/controller/predicates';
import { apiVersionOf } from '../kube/client/resource';
import type { Unstructured } from '../kube/client/unstructured';
import { isObject } from '../util/json';
import { machineDeletionOf, metadataForNewObject } from './machine-template';
import { ETCD_CLEANUP_HOOK } from './pre-terminate';

/** Which template an infrastructure machine was cloned from (Cluster API's annotations). */
export const CLONED_FROM_NAME = 'cluster.x-k8s.io/cloned-from-name';
export const CLONED_FROM_GROUPKIND = 'cluster.x-k8s.io/cloned-from-groupkind';
/** The control plane a Machine belongs to (KCP's label; CACPPT sets none). */
const CONTROL_PLANE_NAME_LABEL = 'cluster.x-k8s.io/control-plane-name';

// Kubernetes' name generator: no vowels (no words), no 0/1/3 (no look-alikes).
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const SUFFIX_LENGTH = 5;
const MAX_BASE_LENGTH = 58;

export type RandomIndex = (size: number) => number;

function randomSuffix(random: RandomIndex): string {
  let suffix = '';
  for (let i = 0; i < SUFFIX_LENGTH; i++) suffix += SUFFIX_ALPHABET[random(SUFFIX_ALPHABET.length)];
  return suffix;
}

/** A Machine name is also its node's host name (TalosConfig hostname source MachineName): one DNS label. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export class InvalidMachineName extends Error {
  override readonly name = 'InvalidMachineName';
}

/**
 * The name of a new Machine, its TalosConfig and its infrastructure machine: `<tcp>-<5 random>`, or
 * `spec.machineNaming.template` with `{{ .cluster.name }}`, `{{ .talosControlPlane.name }}` and
 * `{{ .random }}` filled in (KCP's template, with our kind's name).
 */
export function machineName(tcp: Pick<TalosControlPlane, 'metadata' | 'spec'>, clusterName: string, random: RandomIndex = randomInt): string {
  const tcpName = tcp.metadata.name ?? '';
  const template = tcp.spec.machineNaming?.template;
  if (!template) return `${tcpName.slice(0, MAX_BASE_LENGTH)}-${randomSuffix(random)}`;
  const values: Record<string, string> = { 'cluster.name': clusterName, 'talosControlPlane.name': tcpName, random: randomSuffix(random) };
  const name = template.replace(/\{\{\s*\.([\w.]+)\s*\}\}/g, (whole, key: string) => {
    const value = values[key];
    if (value === undefined) throw new InvalidMachineName(`spec.machineNaming.template: ${whole} is not known (use {{ .cluster.name }}, {{ .talosControlPlane.name }}, {{ .random }})`);
    return value;
  });
  if (!DNS_LABEL.test(name)) throw new InvalidMachineName(`spec.machineNaming.template gives "${name}", which is not a DNS label (lower case letters, digits and '-', at most 63)`);
  return name;
}

export class InvalidInfrastructureTemplate extends Error {
  override readonly name = 'InvalidInfrastructureTemplate';
}

export interface MachineObjects {
  talosConfig: KubeObject & { spec: unknown };
  infraMachine: Unstructured;
  machine: Machine;
}

/** A plain (not controller) owner reference: Cluster API makes the Machine their controller. */
function ownerReference(tcp: TalosControlPlane): OwnerReference {
  return { ...controllerOwnerReference(tcp, V1BETA1.talosControlPlane), controller: false };
}

function stringMap(value: unknown): Record<string, string> {
  return isObject(value) ? Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string')) : {};
}

export interface MachineObjectsInput {
  tcp: TalosControlPlane;
  clusterName: string;
  /** The infrastructure template as the API server has it. */
  template: Unstructured;
  name: string;
  /** The first Machine of the control plane gets the `init` config when there is one. */
  first: boolean;
  /** Where Cluster API should place the Machine (left out when the Cluster has no control-plane failure domains). */
  failureDomain?: string;
  /** Annotations of the Machine (a replacement's `remediation-for`). */
  annotations?: Record<string, string>;
}

/**
 * The TalosControlPlane's watch-filter label, for what it creates: the operator instance (shard)
 * that reconciles the control plane then also sees its Machines and reconciles their TalosConfigs.
 */
function watchFilterLabel(tcp: TalosControlPlane): Record<string, string> {
  const value = tcp.metadata.labels?.[WATCH_FILTER_LABEL];
  return value === undefined ? {} : { [WATCH_FILTER_LABEL]: value };
}

export function machineObjects({ tcp, clusterName, template, name, first, failureDomain, annotations }: MachineObjectsInput): MachineObjects {
  const namespace = tcp.metadata.namespace!;
  const clusterLabels = { ...watchFilterLabel(tcp), [CLUSTER_NAME_LABEL]: clusterName, [CONTROL_PLANE_LABEL]: '' };
  const fromTemplate = metadataForNewObject(tcp);
  const owner = ownerReference(tcp);

  const templateSpec = isObject(template.spec) ? template.spec : {};
  const source = templateSpec.template;
  if (!isObject(source)) throw new InvalidInfrastructureTemplate(`${template.kind} ${template.metadata.name} has no spec.template`);
  const sourceMeta = isObject(source.metadata) ? source.metadata : {};
  const templateKind = template.kind;
  if (!templateKind.endsWith('Template')) throw new InvalidInfrastructureTemplate(`${templateKind} ${template.metadata.name} is not a template kind (its name must end in Template)`);
  const { group } = splitApiVersion(template.apiVersion);
  const infraKind = templateKind.slice(0, -'Template'.length);
  const infraMachine: Unstructured = {
    apiVersion: template.apiVersion,
    kind: infraKind,
    metadata: {
      name, namespace,
      labels: { ...stringMap(sourceMeta.labels), ...fromTemplate.labels, ...clusterLabels },
      annotations: {
        ...stringMap(sourceMeta.annotations),
        ...fromTemplate.annotations,
        [CLONED_FROM_NAME]: template.metadata.name!,
        [CLONED_FROM_GROUPKIND]: `${templateKind}.${group}`,
      },
      ownerReferences: [owner],
    },
    spec: structuredClone(source.spec ?? {}),
  };

  const talosConfig = {
    apiVersion: apiVersionOf(BOOTSTRAP_V1ALPHA3.talosConfig),
    kind: TALOS_CONFIG_KIND,
    metadata: { name, namespace, labels: { ...fromTemplate.labels, ...clusterLabels }, annotations: fromTemplate.annotations, ownerReferences: [owner] },
    spec: talosConfigSpecForMachine(tcp.spec, first),
  };

  const deletion = machineDeletionOf(tcp);
  const readinessGates = tcp.spec.machineTemplate.spec.readinessGates;
  const machine: Machine = {
    apiVersion: CAPI_API_VERSION,
    kind: 'Machine',
    metadata: {
      name, namespace,
      labels: { ...fromTemplate.labels, ...clusterLabels, [CONTROL_PLANE_NAME_LABEL]: tcp.metadata.name! },
      // The pre-terminate hook: Cluster API waits for the control plane to remove its etcd member after the drain.
      annotations: { ...fromTemplate.annotations, ...annotations, [ETCD_CLEANUP_HOOK]: '' },
      ownerReferences: [controllerOwnerReference(tcp, V1BETA1.talosControlPlane)],
    },
    spec: {
      clusterName,
      version: kubernetesVersionOf(tcp.spec),
      bootstrap: { configRef: { apiGroup: BOOTSTRAP_GROUP, kind: TALOS_CONFIG_KIND, name } },
      infrastructureRef: { apiGroup: group, kind: infraKind, name },
      ...(failureDomain ? { failureDomain } : {}),
      ...(deletion ? { deletion } : {}),
      ...(readinessGates?.length ? { readinessGates: structuredClone(readinessGates) } : {}),
    },
  };
  return { talosConfig, infraMachine, machine };
}
