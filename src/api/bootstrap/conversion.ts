// v1alpha3 ⇄ v1beta1 for TalosConfig and TalosConfigTemplate.
//
// Field map (status; the spec is the same in both):
//   v1alpha3                      v1beta1
//   ready                       ⇄ initialization.dataSecretCreated
//   dataSecretName              ⇄ dataSecretName
//   observedGeneration          ⇄ observedGeneration
//   v1beta2Status.conditions    ⇄ conditions
//   conditions                  ⇄ deprecated.v1beta1.conditions
//   failureReason/Message       ⇄ deprecated.v1beta1.failureReason/Message
//   talosConfig                 → conversion-data annotation (v1beta1 has no place for it)
//   (none)                      ← spec.template.metadata of a v1beta1 template (annotation)
// Unlike CABPT, `ready` maps whether or not an annotation is present, so an
// object written as v1alpha3 never loses its readiness (CABPT gap G8).
import { asObject, group, type JsonObject, put, versionPairConverter, type Converter } from '../conversion';
import { BOOTSTRAP_GROUP, TALOS_CONFIG_KIND, TALOS_CONFIG_TEMPLATE_KIND } from './group';
import * as v1alpha3 from './v1alpha3/types';
import * as v1beta1 from './v1beta1/types';

/** Where fields one version cannot hold are kept while the object lives in the other version. */
export const CONVERSION_DATA_ANNOTATION = `${BOOTSTRAP_GROUP}/conversion-data`;

function statusToV1beta1(status: JsonObject): JsonObject {
  const out: JsonObject = {};
  put(out, 'initialization', group((init) => put(init, 'dataSecretCreated', status.ready)));
  put(out, 'dataSecretName', status.dataSecretName);
  put(out, 'observedGeneration', status.observedGeneration);
  put(out, 'conditions', asObject(status.v1beta2Status).conditions);
  const deprecated = group((v1beta1Fields) => {
    put(v1beta1Fields, 'conditions', status.conditions);
    put(v1beta1Fields, 'failureReason', status.failureReason);
    put(v1beta1Fields, 'failureMessage', status.failureMessage);
  });
  put(out, 'deprecated', deprecated && { v1beta1: deprecated });
  return out;
}

function statusToV1alpha3(status: JsonObject): JsonObject {
  const out: JsonObject = {};
  put(out, 'ready', asObject(status.initialization).dataSecretCreated);
  put(out, 'dataSecretName', status.dataSecretName);
  put(out, 'observedGeneration', status.observedGeneration);
  const legacy = asObject(asObject(status.deprecated).v1beta1);
  put(out, 'conditions', legacy.conditions);
  put(out, 'failureReason', legacy.failureReason);
  put(out, 'failureMessage', legacy.failureMessage);
  put(out, 'v1beta2Status', status.conditions === undefined ? undefined : { conditions: status.conditions });
  return out;
}

/** spec is copied as is; status goes through `mapStatus`. */
function talosConfigMapping(mapStatus: (status: JsonObject) => JsonObject) {
  return (source: JsonObject): JsonObject => {
    const out: JsonObject = {};
    put(out, 'spec', source.spec);
    if (source.status !== undefined) out.status = mapStatus(asObject(source.status));
    return out;
  };
}

/** Both template versions share `spec.template.spec`; the v1beta1-only `template.metadata` is left to the annotation. */
function templateMapping(source: JsonObject): JsonObject {
  if (source.spec === undefined) return {};
  const spec = asObject(source.spec);
  const out: JsonObject = {};
  if (spec.template !== undefined) out.template = group((t) => put(t, 'spec', asObject(spec.template).spec)) ?? {};
  return { spec: out };
}

export const convertTalosConfig: Converter = versionPairConverter({
  group: BOOTSTRAP_GROUP,
  kind: TALOS_CONFIG_KIND,
  annotation: CONVERSION_DATA_ANNOTATION,
  versions: [v1alpha3.VERSION, v1beta1.VERSION],
  forward: talosConfigMapping(statusToV1beta1),
  backward: talosConfigMapping(statusToV1alpha3),
});

export const convertTalosConfigTemplate: Converter = versionPairConverter({
  group: BOOTSTRAP_GROUP,
  kind: TALOS_CONFIG_TEMPLATE_KIND,
  annotation: CONVERSION_DATA_ANNOTATION,
  versions: [v1alpha3.VERSION, v1beta1.VERSION],
  forward: templateMapping,
  backward: templateMapping,
});

