// v1alpha3 ⇄ v1beta1 for TalosControlPlane (the generic, lossless pair converter in ../conversion.ts).
//
// Field map:
//   v1alpha3                                   v1beta1
//   spec.replicas, version, controlPlaneConfig ⇄ the same
//   spec.infrastructureTemplate{apiVersion,    ⇄ spec.machineTemplate.spec.infrastructureRef{apiGroup, kind, name}
//     kind, name}                                (the version, namespace, uid… travel in the annotation)
//   spec.rolloutStrategy                       ⇄ spec.rollout.strategy
//   annotation rollout-strategy: InPlace       ⇄ spec.rollout.strategy.type: InPlace (v1alpha3's enum has no InPlace)
//   annotation in-place-on-failure: Stop|Replace ⇄ spec.rollout.strategy.inPlace.onFailure
//   (none)                                     ← rollout.after, remediation, machineNaming, machineTemplate.metadata,
//                                                deletion, readinessGates, status.lastRemediation (annotation)
//   status.v1beta2.conditions                  ⇄ status.conditions
//   status.initialization / initialized        ⇄ status.initialization.controlPlaneInitialized
//   status.conditions, updatedReplicas,        ⇄ status.deprecated.v1beta1.*
//     unavailableReplicas, failureReason/Message
//   status.ready                               ← readyReplicas > 0
//   selector, replicas, readyReplicas, availableReplicas, upToDateReplicas, version, versions,
//   observedGeneration, bootstrapped           ⇄ the same
import { splitApiVersion, type TypedObject } from '../meta';
import { asObject, group, type Converter, type JsonObject, put, versionPairConverter } from '../conversion';
import {
  CONTROLPLANE_GROUP, IN_PLACE, IN_PLACE_ON_FAILURE_ANNOTATION, IN_PLACE_ON_FAILURE_VALUES, ROLLING_UPDATE, ROLLOUT_STRATEGY_ANNOTATION, TALOS_CONTROL_PLANE_KIND,
} from './group';
import * as v1alpha3 from './v1alpha3/types';
import * as v1beta1 from './v1beta1/types';

/** Where fields one version cannot hold are kept while the object lives in the other version. */
export const CONTROLPLANE_CONVERSION_DATA_ANNOTATION = `${CONTROLPLANE_GROUP}/conversion-data`;


/** The group of an apiVersion; a value without a version is the group alone (what specToV1alpha3 writes). */
const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? splitApiVersion(apiVersion).group : apiVersion);

const SHARED_SPEC = ['replicas', 'version', 'controlPlaneConfig'] as const;
const SHARED_STATUS = ['selector', 'replicas', 'readyReplicas', 'availableReplicas', 'upToDateReplicas', 'version', 'versions', 'observedGeneration', 'bootstrapped'] as const;
const DEPRECATED_STATUS = ['updatedReplicas', 'unavailableReplicas', 'failureReason', 'failureMessage'] as const;

function specToV1beta1(spec: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const key of SHARED_SPEC) put(out, key, spec[key]);
  if (spec.infrastructureTemplate !== undefined) {
    const ref = asObject(spec.infrastructureTemplate);
    const infrastructureRef = group((r) => {
      put(r, 'apiGroup', typeof ref.apiVersion === 'string' ? groupOf(ref.apiVersion) : undefined);
      put(r, 'kind', ref.kind);
      put(r, 'name', ref.name);
    });
    out.machineTemplate = { spec: { infrastructureRef: infrastructureRef ?? {} } };
  }
  put(out, 'rollout', group((rollout) => put(rollout, 'strategy', spec.rolloutStrategy)));
  return out;
}

function specToV1alpha3(spec: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const key of SHARED_SPEC) put(out, key, spec[key]);
  const infrastructureRef = asObject(asObject(spec.machineTemplate).spec).infrastructureRef;
  if (infrastructureRef !== undefined) {
    const ref = asObject(infrastructureRef);
    // The version is not in a v1beta1 reference: the group alone stands in (an object first written
    // as v1alpha3 gets its own apiVersion back from the annotation).
    out.infrastructureTemplate = group((t) => {
      put(t, 'apiVersion', ref.apiGroup);
      put(t, 'kind', ref.kind);
      put(t, 'name', ref.name);
    }) ?? {};
  }
  put(out, 'rolloutStrategy', asObject(spec.rollout).strategy);
  return out;
}

function statusToV1beta1(status: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const key of SHARED_STATUS) put(out, key, status[key]);
  put(out, 'conditions', asObject(status.v1beta2).conditions);
  const initialized = asObject(status.initialization).controlPlaneInitialized ?? status.initialized;
  put(out, 'initialization', group((init) => put(init, 'controlPlaneInitialized', initialized)));
  const deprecated = group((fields) => {
    put(fields, 'conditions', status.conditions);
    for (const key of DEPRECATED_STATUS) put(fields, key, status[key]);
  });
  put(out, 'deprecated', deprecated && { v1beta1: deprecated });
  return out;
}

function statusToV1alpha3(status: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const key of SHARED_STATUS) put(out, key, status[key]);
  const initialized = asObject(status.initialization).controlPlaneInitialized;
  put(out, 'initialized', initialized);
  put(out, 'initialization', group((init) => put(init, 'controlPlaneInitialized', initialized)));
  if (typeof status.readyReplicas === 'number') out.ready = status.readyReplicas > 0;
  const legacy = asObject(asObject(status.deprecated).v1beta1);
  put(out, 'conditions', legacy.conditions);
  for (const key of DEPRECATED_STATUS) put(out, key, legacy[key]);
  put(out, 'v1beta2', status.conditions === undefined ? undefined : { conditions: status.conditions });
  return out;
}

function mapping(mapSpec: (spec: JsonObject) => JsonObject, mapStatus: (status: JsonObject) => JsonObject) {
  return (source: JsonObject): JsonObject => {
    const out: JsonObject = {};
    if (source.spec !== undefined) out.spec = mapSpec(asObject(source.spec));
    if (source.status !== undefined) out.status = mapStatus(asObject(source.status));
    return out;
  };
}

const convertFields: Converter = versionPairConverter({
  group: CONTROLPLANE_GROUP,
  kind: TALOS_CONTROL_PLANE_KIND,
  annotation: CONTROLPLANE_CONVERSION_DATA_ANNOTATION,
  versions: [v1alpha3.VERSION, v1beta1.VERSION],
  forward: mapping(specToV1beta1, statusToV1beta1),
  backward: mapping(specToV1alpha3, statusToV1alpha3),
});

type Strategy = { type?: string; inPlace?: { onFailure?: unknown } & JsonObject } & JsonObject;
type Spec = { spec?: { rolloutStrategy?: Strategy } };

/** A v1beta1 strategy field that v1alpha3 spells as an annotation. */
interface AnnotationSpelling {
  annotation: string;
  /** The v1alpha3 strategy with the annotation's `value` in it as the field; undefined when it stays an annotation. */
  into(strategy: Strategy, value: string): Strategy | undefined;
  /** The annotation's value taken out of the strategy, and the strategy without it; undefined when the strategy holds none. */
  outOf(strategy: Strategy): { value: string; rest: Strategy } | undefined;
}

const isOnFailure = (value: unknown): value is string => IN_PLACE_ON_FAILURE_VALUES.some((v) => v === value);

const SPELLINGS: readonly AnnotationSpelling[] = [
  {
    // v1alpha3's enum has no InPlace: the annotation beside RollingUpdate (or unset). Beside OnDelete it means nothing and stays an annotation.
    annotation: ROLLOUT_STRATEGY_ANNOTATION,
    into: (strategy, value) => (value === IN_PLACE && (strategy.type === undefined || strategy.type === ROLLING_UPDATE) ? { ...strategy, type: IN_PLACE } : undefined),
    outOf: (strategy) => (strategy.type === IN_PLACE ? { value: IN_PLACE, rest: { ...strategy, type: ROLLING_UPDATE } } : undefined),
  },
  {
    // Stop or Replace; any other value means nothing and stays an annotation.
    annotation: IN_PLACE_ON_FAILURE_ANNOTATION,
    into: (strategy, value) => (isOnFailure(value) ? { ...strategy, inPlace: { ...strategy.inPlace, onFailure: value } } : undefined),
    outOf: ({ inPlace, ...rest }) => {
      if (!isOnFailure(inPlace?.onFailure)) return undefined;
      const { onFailure, ...more } = inPlace;
      return { value: onFailure, rest: Object.keys(more).length === 0 ? rest : { ...rest, inPlace: more } };
    },
  },
];

/**
 * Before the field conversion from v1alpha3 each annotation of SPELLINGS becomes its field, after
 * the conversion to v1alpha3 each field becomes its annotation again, so the pair converter sees
 * one spelling and stays lossless.
 */
function annotationsAsFields(obj: TypedObject): TypedObject {
  const typed = obj as TypedObject & Spec;
  let strategy = typed.spec?.rolloutStrategy;
  const annotations = { ...obj.metadata.annotations };
  for (const { annotation, into } of SPELLINGS) {
    const value = annotations[annotation];
    const moved = value === undefined ? undefined : into(strategy ?? {}, value);
    if (!moved) continue;
    strategy = moved;
    delete annotations[annotation];
  }
  if (strategy === typed.spec?.rolloutStrategy) return obj;
  const { annotations: _all, ...bare } = obj.metadata;
  const metadata = Object.keys(annotations).length === 0 ? bare : { ...bare, annotations };
  return { ...typed, metadata, spec: { ...typed.spec, rolloutStrategy: strategy } } as TypedObject;
}

function fieldsAsAnnotations(obj: TypedObject): TypedObject {
  const typed = obj as TypedObject & Spec;
  let strategy = typed.spec?.rolloutStrategy;
  if (!strategy) return obj;
  const annotations = { ...obj.metadata.annotations };
  for (const { annotation, outOf } of SPELLINGS) {
    const taken = outOf(strategy);
    if (!taken) continue;
    annotations[annotation] = taken.value;
    strategy = taken.rest;
  }
  if (strategy === typed.spec?.rolloutStrategy) return obj;
  const { rolloutStrategy: _strategy, ...spec } = typed.spec!;
  return { ...typed, metadata: { ...obj.metadata, annotations }, spec: Object.keys(strategy).length === 0 ? spec : { ...spec, rolloutStrategy: strategy } } as TypedObject;
}

type InfrastructureTemplate = { spec?: { infrastructureTemplate?: { apiVersion?: string } } };

/** The v1alpha3 apiVersion of the infrastructure template an object first written as v1alpha3 had (kept in the annotation). */
function storedTemplateApiVersion(obj: TypedObject): string | undefined {
  const text = obj.metadata.annotations?.[CONTROLPLANE_CONVERSION_DATA_ANNOTATION];
  if (text === undefined) return undefined;
  try {
    const apiVersion = (JSON.parse(text) as InfrastructureTemplate).spec?.infrastructureTemplate?.apiVersion;
    return typeof apiVersion === 'string' ? apiVersion : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A v1beta1 reference has the group only; the v1alpha3 view gets its version back from the
 * annotation while the group is still the one it was written with (the annotation cannot fill a
 * field the mapping already wrote, and a group changed in v1beta1 makes the old version wrong).
 */
function withStoredVersion(converted: TypedObject, stored: string | undefined): TypedObject {
  const template = (converted as TypedObject & InfrastructureTemplate).spec?.infrastructureTemplate;
  if (!template || stored === undefined || template.apiVersion !== groupOf(stored)) return converted;
  template.apiVersion = stored;
  return converted;
}

export const convertTalosControlPlane: Converter = (obj, desiredVersion) => {
  const from = splitApiVersion(obj.apiVersion).version;
  if (from === desiredVersion) return obj;
  if (from === v1alpha3.VERSION) return convertFields(annotationsAsFields(obj), desiredVersion);
  const converted = convertFields(obj, desiredVersion);
  return desiredVersion === v1alpha3.VERSION ? fieldsAsAnnotations(withStoredVersion(converted, storedTemplateApiVersion(obj))) : converted;
};
