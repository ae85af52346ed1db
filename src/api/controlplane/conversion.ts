// v1alpha3 ⇄ v1beta1 for TalosControlPlane (the generic, lossless pair converter in ../conversion.ts).
//
// Field map:
//   v1alpha3                                   v1beta1
//   spec.replicas, version, controlPlaneConfig ⇄ the same
//   spec.infrastructureTemplate{apiVersion,    ⇄ spec.machineTemplate.spec.infrastructureRef{apiGroup, kind, name}
//     kind, name}                                (the version, namespace, uid… travel in the annotation)
//   spec.rolloutStrategy                       ⇄ spec.rollout.strategy
//   annotation rollout-strategy: InPlace       ⇄ spec.rollout.strategy.type: InPlace (v1alpha3's enum has no InPlace)
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
import { CONTROLPLANE_GROUP, IN_PLACE, ROLLING_UPDATE, ROLLOUT_STRATEGY_ANNOTATION, TALOS_CONTROL_PLANE_KIND } from './group';
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

type Spec = { spec?: { rolloutStrategy?: { type?: string } } };

/**
 * v1alpha3 spells InPlace as an annotation beside a RollingUpdate (or unset) strategy type. Before
 * the field conversion the annotation becomes the type, after it the type becomes the annotation
 * again, so the pair converter sees one spelling and stays lossless. Beside OnDelete the
 * annotation means nothing and stays an annotation.
 */
function inPlaceAsType(obj: TypedObject): TypedObject {
  const annotations = obj.metadata.annotations ?? {};
  const typed = obj as TypedObject & Spec;
  const type = typed.spec?.rolloutStrategy?.type;
  if (annotations[ROLLOUT_STRATEGY_ANNOTATION] !== IN_PLACE || (type !== undefined && type !== ROLLING_UPDATE)) return obj;
  const { [ROLLOUT_STRATEGY_ANNOTATION]: _inPlace, ...rest } = annotations;
  const { annotations: _all, ...bare } = obj.metadata;
  const metadata = Object.keys(rest).length === 0 ? bare : { ...bare, annotations: rest };
  return { ...typed, metadata, spec: { ...typed.spec, rolloutStrategy: { ...typed.spec?.rolloutStrategy, type: IN_PLACE } } } as TypedObject;
}

function inPlaceAsAnnotation(obj: TypedObject): TypedObject {
  const typed = obj as TypedObject & Spec;
  if (typed.spec?.rolloutStrategy?.type !== IN_PLACE) return obj;
  const metadata = { ...obj.metadata, annotations: { ...obj.metadata.annotations, [ROLLOUT_STRATEGY_ANNOTATION]: IN_PLACE } };
  return { ...typed, metadata, spec: { ...typed.spec, rolloutStrategy: { ...typed.spec.rolloutStrategy, type: ROLLING_UPDATE } } } as TypedObject;
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
  if (from === v1alpha3.VERSION) return convertFields(inPlaceAsType(obj), desiredVersion);
  const converted = convertFields(obj, desiredVersion);
  return desiredVersion === v1alpha3.VERSION ? inPlaceAsAnnotation(withStoredVersion(converted, storedTemplateApiVersion(obj))) : converted;
};
