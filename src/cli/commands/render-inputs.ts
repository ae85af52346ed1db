// What `talos-capi render` reads: Kubernetes manifests as Git holds them (several documents, or a
// List, in a file), turned into the objects the operator would have in its caches — a TalosConfig
// spec, the Machine (or MachinePool) it bootstraps, and the Cluster. Whatever is wrong with them
// is a UsageError naming the file.
import { parseAllDocuments, type Tags } from 'yaml';
import { convertTalosConfig, convertTalosConfigTemplate } from '../../api/bootstrap/conversion';
import { BOOTSTRAP_GROUP, TALOS_CONFIG_KIND, TALOS_CONFIG_TEMPLATE_KIND } from '../../api/bootstrap/group';
import type { TalosConfigSpec } from '../../api/bootstrap/spec';
import * as bootstrapV1beta1 from '../../api/bootstrap/v1beta1/types';
import { GROUP as CAPI_GROUP, type Cluster, type Machine } from '../../api/capi/v1beta2/types';
import { CONTROLPLANE_GROUP, TALOS_CONTROL_PLANE_KIND } from '../../api/controlplane/group';
import * as controlplaneV1alpha3 from '../../api/controlplane/v1alpha3/types';
import * as controlplaneV1beta1 from '../../api/controlplane/v1beta1/types';
import { convertTalosControlPlane } from '../../api/controlplane/conversion';
import { splitApiVersion, type TypedObject } from '../../api/meta';
import type { ConfigOwner } from '../../bootstrap/decisions';
import { machineName, machineObjects } from '../../controlplane/machine-objects';
import { errorMessage } from '../../util/errors';
import { isObject } from '../../util/json';
import { UsageError } from '../args';

/** An object read from a manifest file. */
export interface Manifest extends TypedObject {
  [field: string]: unknown;
}

// Manifests reach the API server through kubectl, Flux or Argo CD, which read YAML 1.1 (`yes` is
// true, `0644` is octal) but keep timestamp-like scalars as strings.
const YAML_OPTIONS = {
  version: '1.1' as const,
  customTags: (tags: Tags): Tags => tags.filter((tag) => typeof tag === 'string' || tag.tag !== 'tag:yaml.org,2002:timestamp'),
};

/** Every object in a manifest file: its documents, and the items of any List among them. */
export function parseManifests(text: string, file: string): Manifest[] {
  const objects: Manifest[] = [];
  for (const document of parseAllDocuments(text, YAML_OPTIONS)) {
    const error = document.errors[0];
    if (error) throw new UsageError(`${file} is not valid YAML: ${error.message.split('\n')[0]}`);
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    const items = isObject(value) && value.kind === 'List' && Array.isArray(value.items) ? (value.items as unknown[]) : [value];
    for (const item of items) {
      if (!isObject(item) || typeof item.apiVersion !== 'string' || typeof item.kind !== 'string') {
        throw new UsageError(`${file} holds a document that is not a Kubernetes object (apiVersion and kind)`);
      }
      objects.push({ ...item, apiVersion: item.apiVersion, kind: item.kind, metadata: isObject(item.metadata) ? item.metadata : {} });
    }
  }
  return objects;
}

const groupOf = (object: TypedObject): string => splitApiVersion(object.apiVersion).group;
const describe = (object: TypedObject): string => `${object.kind} ${object.metadata.name ?? '(unnamed)'}`;

/**
 * The one object among `objects` that `accepts`; `name` picks among several. `how` tells the
 * user how to pick when the file holds several.
 */
function pickOne(objects: Manifest[], accepts: (o: Manifest) => boolean, what: string, file: string, name: string | undefined, how: string): Manifest {
  const candidates = objects.filter(accepts);
  const named = name === undefined ? candidates : candidates.filter((o) => o.metadata.name === name);
  if (named.length === 1) return named[0]!;
  if (candidates.length === 0) throw new UsageError(`${file} holds no ${what}`);
  if (named.length === 0) throw new UsageError(`${file} holds no ${what} named ${name} (it has ${candidates.map(describe).join(', ')})`);
  throw new UsageError(`${file} holds several ${what}s (${named.map(describe).join(', ')}): ${how}`);
}

const CONFIG_KINDS = new Set([TALOS_CONFIG_KIND, TALOS_CONFIG_TEMPLATE_KIND]);

/** The config source: a TalosConfig or TalosConfigTemplate (either version), or a TalosControlPlane. */
export function pickConfig(objects: Manifest[], file: string, name: string | undefined): Manifest {
  return pickOne(
    objects,
    (o) => (groupOf(o) === BOOTSTRAP_GROUP && CONFIG_KINDS.has(o.kind)) || (groupOf(o) === CONTROLPLANE_GROUP && o.kind === TALOS_CONTROL_PLANE_KIND),
    'TalosConfig, TalosConfigTemplate or TalosControlPlane', file, name, 'pick one with --name',
  );
}

export function pickCluster(objects: Manifest[], file: string, name: string | undefined): Cluster {
  return pickOne(objects, (o) => groupOf(o) === CAPI_GROUP && o.kind === 'Cluster', 'Cluster', file, name, 'keep the one the config belongs to') as unknown as Cluster;
}

/** The Machine spec of an owner manifest (a MachinePool's template), or undefined when it has none. */
function machineSpecIn(object: Manifest): Record<string, unknown> | undefined {
  const spec = isObject(object.spec) ? object.spec : undefined;
  if (object.kind !== 'MachinePool') return spec;
  return spec && isObject(spec.template) && isObject(spec.template.spec) ? spec.template.spec : undefined;
}

const configRefName = (spec: Record<string, unknown> | undefined): unknown =>
  isObject(spec?.bootstrap) && isObject(spec.bootstrap.configRef) ? spec.bootstrap.configRef.name : undefined;

/** A Machine or MachinePool; among several, the one whose bootstrap configRef names `configName`. */
export function pickOwner(objects: Manifest[], file: string, configName: string | undefined): ConfigOwner {
  const isOwner = (o: Manifest) => groupOf(o) === CAPI_GROUP && (o.kind === 'Machine' || o.kind === 'MachinePool');
  const owners = objects.filter(isOwner);
  const forConfig = owners.filter((o) => configRefName(machineSpecIn(o)) === configName);
  const owner = pickOne(forConfig.length === 1 ? forConfig : owners, isOwner, 'Machine or MachinePool', file, undefined, 'keep the one the config bootstraps');
  const spec = machineSpecIn(owner);
  if (!spec || typeof (isObject(owner.spec) ? owner.spec.clusterName : undefined) !== 'string') {
    throw new UsageError(`${file}: ${describe(owner)} needs spec.clusterName and ${owner.kind === 'MachinePool' ? 'spec.template.spec' : 'spec'}`);
  }
  return owner as unknown as ConfigOwner;
}

/** `convert` run on a manifest of ours, its failure (an unserved version) worded for the file. */
function converted(object: Manifest, convert: (o: Manifest) => unknown, file: string): Record<string, unknown> {
  let result: unknown;
  try {
    result = convert(object);
  } catch (error) {
    throw new UsageError(`${file}: ${errorMessage(error)}`);
  }
  return isObject(result) ? result : {};
}

function specOfConfig(object: Manifest, file: string): TalosConfigSpec {
  const toV1beta1 = (converter: typeof convertTalosConfig) => (o: Manifest) => converter(o, bootstrapV1beta1.VERSION);
  if (object.kind === TALOS_CONFIG_KIND) {
    const spec = converted(object, toV1beta1(convertTalosConfig), file).spec;
    if (isObject(spec)) return spec as unknown as TalosConfigSpec;
  } else {
    const template = converted(object, toV1beta1(convertTalosConfigTemplate), file).spec;
    const spec = isObject(template) && isObject(template.template) ? template.template.spec : undefined;
    if (isObject(spec)) return spec as unknown as TalosConfigSpec;
  }
  throw new UsageError(`${file}: ${describe(object)} has no spec`);
}

export interface RenderSource {
  spec: TalosConfigSpec;
  /** The Machine as the operator would see it when none is given: made by the TalosControlPlane for its Machines. */
  machine?: Machine;
}

export interface SourceOptions {
  /** The name of the Machine (and so of its TalosConfig and infrastructure machine). */
  machineName: string | undefined;
  /** A TalosControlPlane's first Machine (its `init` config when there is one). */
  first: boolean;
  cluster: Cluster;
}

/**
 * The TalosConfig spec the operator would reconcile. A TalosControlPlane's comes with the Machine
 * it would create, both built by the control-plane provider's own code.
 */
export function renderSource(object: Manifest, file: string, options: SourceOptions): RenderSource {
  if (object.kind !== TALOS_CONTROL_PLANE_KIND) {
    if (options.first) throw new UsageError('--first applies to a TalosControlPlane only');
    return { spec: specOfConfig(object, file) };
  }
  if (object.apiVersion !== controlplaneV1alpha3.API_VERSION && object.apiVersion !== controlplaneV1beta1.API_VERSION) {
    throw new UsageError(`${file}: ${describe(object)} is ${object.apiVersion}; the served versions are ${controlplaneV1alpha3.API_VERSION} and ${controlplaneV1beta1.API_VERSION}`);
  }
  const tcp = convertTalosControlPlane(object as unknown as TypedObject, controlplaneV1beta1.VERSION) as unknown as controlplaneV1beta1.TalosControlPlane;
  const ref = tcp.spec?.machineTemplate?.spec?.infrastructureRef;
  if (typeof tcp.spec?.version !== 'string' || !isObject(tcp.spec.controlPlaneConfig) || !ref?.kind || !ref.apiGroup) {
    throw new UsageError(`${file}: ${describe(object)} needs spec.version, the infrastructure template and spec.controlPlaneConfig`);
  }
  // Only the template's group reaches the Machine; a v1alpha3 manifest names its version too.
  const v1alpha3Template = (object as unknown as Partial<controlplaneV1alpha3.TalosControlPlane>).spec?.infrastructureTemplate?.apiVersion;
  const templateApiVersion = v1alpha3Template?.includes('/') ? v1alpha3Template : `${ref.apiGroup}/${controlplaneV1beta1.VERSION}`;
  const tcpName = tcp.metadata.name ?? 'control-plane';
  const namespace = tcp.metadata.namespace ?? options.cluster.metadata.namespace ?? 'default';
  try {
    const { talosConfig, machine } = machineObjects({
      // The owner references it writes need a uid, which only the API server gives.
      tcp: { ...tcp, metadata: { ...tcp.metadata, name: tcpName, namespace, uid: tcp.metadata.uid ?? 'not-applied' } },
      clusterName: options.cluster.metadata.name ?? '',
      template: { apiVersion: templateApiVersion, kind: ref.kind, metadata: { name: ref.name, namespace }, spec: { template: { spec: {} } } },
      name: options.machineName ?? machineName({ ...tcp, metadata: { ...tcp.metadata, name: tcpName } }, options.cluster.metadata.name ?? ''),
      first: options.first,
    });
    return { spec: talosConfig.spec as TalosConfigSpec, machine };
  } catch (error) {
    throw new UsageError(`${file}: ${errorMessage(error)}`);
  }
}

/** A Machine for a TalosConfig given without one: what Cluster API makes, as far as rendering reads it. */
export function stubMachine(name: string, cluster: Cluster): Machine {
  return {
    apiVersion: 'cluster.x-k8s.io/v1beta2',
    kind: 'Machine',
    metadata: { name, namespace: cluster.metadata.namespace },
    spec: {
      clusterName: cluster.metadata.name ?? '',
      bootstrap: { configRef: { apiGroup: BOOTSTRAP_GROUP, kind: TALOS_CONFIG_KIND, name } },
      // Unknown without --machine; only Equinix Metal's kind changes the output.
      infrastructureRef: { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: '', name },
    },
  };
}

export interface OwnerOverrides {
  name?: string;
  kubernetesVersion?: string;
}

/** The owner with the Machine name (which the infrastructure machine shares) and version the flags give. */
export function withOverrides(owner: ConfigOwner, { name, kubernetesVersion }: OwnerOverrides): ConfigOwner {
  const copy = structuredClone(owner);
  const spec = copy.kind === 'MachinePool' ? copy.spec.template.spec : copy.spec;
  if (name !== undefined) {
    copy.metadata.name = name;
    spec.infrastructureRef = { ...spec.infrastructureRef, name };
  }
  if (kubernetesVersion !== undefined) spec.version = kubernetesVersion;
  return copy;
}
