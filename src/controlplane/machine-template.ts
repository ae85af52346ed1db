// What `spec.machineTemplate` says every control-plane Machine carries besides its spec — labels,
// annotations (also on its infrastructure machine and TalosConfig) and the deletion timeouts — and
// the merge patches that bring existing objects to it in place, without a rollout (as KCP;
// CACPPT #258). The keys taken from the template are recorded on each object, so a key dropped
// from the template is removed again while the user's own labels stay. Pure.
import type { Machine, MachineDeletion } from '../api/capi/v1beta2/types';
import { CLUSTER_NAME_LABEL, CONTROL_PLANE_LABEL } from '../api/capi/v1beta2/types';
import type { TalosControlPlane } from '../api/controlplane/v1beta1/types';
import { WATCH_FILTER_LABEL } from '../kube/controller/predicates';

/** On each object: the label and annotation keys it got from `machineTemplate.metadata` (JSON). */
export const TEMPLATE_KEYS_ANNOTATION = 'controlplane.cluster.x-k8s.io/machine-template-keys';

/** Keys the control plane sets itself: a template cannot take them over, nor remove them. */
const RESERVED = new Set([CLUSTER_NAME_LABEL, CONTROL_PLANE_LABEL, WATCH_FILTER_LABEL, TEMPLATE_KEYS_ANNOTATION, 'cluster.x-k8s.io/control-plane-name']);

type StringMap = Record<string, string>;
interface TemplateKeys {
  labels: string[];
  annotations: string[];
}
interface Metadata {
  labels?: StringMap;
  annotations?: StringMap;
}

const withoutReserved = (map: StringMap | undefined): StringMap =>
  Object.fromEntries(Object.entries(map ?? {}).filter(([key]) => !RESERVED.has(key)));

/** The template's labels and annotations (reserved keys left out). */
function templateMetadata(tcp: TalosControlPlane): { labels: StringMap; annotations: StringMap } {
  const metadata = tcp.spec.machineTemplate.metadata;
  return { labels: withoutReserved(metadata?.labels), annotations: withoutReserved(metadata?.annotations) };
}

const keysOf = (labels: StringMap, annotations: StringMap): TemplateKeys => ({ labels: Object.keys(labels).sort(), annotations: Object.keys(annotations).sort() });

function recordedKeys(metadata: Metadata): TemplateKeys {
  try {
    const parsed = JSON.parse(metadata.annotations?.[TEMPLATE_KEYS_ANNOTATION] ?? '{}') as Partial<TemplateKeys>;
    const strings = (value: unknown) => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
    return { labels: strings(parsed.labels), annotations: strings(parsed.annotations) };
  } catch {
    return { labels: [], annotations: [] };
  }
}

/** The labels and annotations a new object of a control-plane Machine starts with (before its own). */
export function metadataForNewObject(tcp: TalosControlPlane): { labels: StringMap; annotations: StringMap } {
  const { labels, annotations } = templateMetadata(tcp);
  return { labels, annotations: { ...annotations, [TEMPLATE_KEYS_ANNOTATION]: JSON.stringify(keysOf(labels, annotations)) } };
}

/** Wanted values set, keys recorded before and no longer wanted removed (null), others left alone. */
function mapPatch(current: StringMap | undefined, wanted: StringMap, recorded: string[]): Record<string, string | null> | undefined {
  const patch: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(wanted)) if (current?.[key] !== value) patch[key] = value;
  for (const key of recorded) if (!(key in wanted) && !RESERVED.has(key) && current?.[key] !== undefined) patch[key] = null;
  return Object.keys(patch).length > 0 ? patch : undefined;
}

/** A merge patch of `metadata` that brings the object to the template's labels and annotations; undefined when it is there. */
export function metadataPatch(tcp: TalosControlPlane, object: { metadata: Metadata }): { metadata: Metadata } | undefined {
  const { labels, annotations } = templateMetadata(tcp);
  const recorded = recordedKeys(object.metadata);
  const keys = JSON.stringify(keysOf(labels, annotations));
  const labelPatch = mapPatch(object.metadata.labels, labels, recorded.labels);
  const annotationPatch = mapPatch(object.metadata.annotations, { ...annotations, [TEMPLATE_KEYS_ANNOTATION]: keys }, recorded.annotations);
  if (!labelPatch && !annotationPatch) return undefined;
  return { metadata: { ...(labelPatch ? { labels: labelPatch as StringMap } : {}), ...(annotationPatch ? { annotations: annotationPatch as StringMap } : {}) } };
}

/** The deletion timeouts each control-plane Machine gets (only those set). */
export function machineDeletionOf(tcp: TalosControlPlane): MachineDeletion | undefined {
  const deletion = tcp.spec.machineTemplate.spec.deletion;
  if (!deletion) return undefined;
  const set = Object.fromEntries(Object.entries(deletion).filter(([, value]) => value !== undefined));
  return Object.keys(set).length > 0 ? set : undefined;
}

/**
 * The Machine's patch: metadata and the deletion timeouts the template sets; undefined when both
 * match. A timeout the template leaves out is left to the Machine (Cluster API defaults some).
 */
export function machinePatch(tcp: TalosControlPlane, machine: Machine): { metadata?: Metadata; spec?: { deletion: MachineDeletion } } | undefined {
  const metadata = metadataPatch(tcp, machine)?.metadata;
  const wanted = machineDeletionOf(tcp) ?? {};
  const current: MachineDeletion = machine.spec.deletion ?? {};
  const deletion = Object.fromEntries(Object.entries(wanted).filter(([key, value]) => current[key as keyof MachineDeletion] !== value));
  const deletionChanged = Object.keys(deletion).length > 0;
  if (!metadata && !deletionChanged) return undefined;
  return { ...(metadata ? { metadata } : {}), ...(deletionChanged ? { spec: { deletion } } : {}) };
}
