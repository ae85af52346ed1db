import {
  CONVERSION_DATA_ANNOTATION,
  convertTalosConfig,
  convertTalosConfigTemplate,
} from '../../../src/api/bootstrap/conversion';
import type { Converter } from '../../../src/api/conversion';
import type { TypedObject } from '../../../src/api/meta';
import type * as v1alpha3 from '../../../src/api/bootstrap/v1alpha3/types';
import type * as v1beta1 from '../../../src/api/bootstrap/v1beta1/types';
import { fullTemplateV1alpha3, fullTemplateV1beta1, fullV1alpha3, fullV1beta1, leafPaths, onlyPath, annotationJson } from './bootstrap-fixtures';

const A3 = 'v1alpha3';
const B1 = 'v1beta1';

// The webhook's converters, typed for each direction.
const talosConfigToV1beta1 = (obj: v1alpha3.TalosConfig) => convertTalosConfig(obj, B1) as v1beta1.TalosConfig;
const talosConfigToV1alpha3 = (obj: v1beta1.TalosConfig) => convertTalosConfig(obj, A3) as v1alpha3.TalosConfig;
const talosConfigTemplateToV1beta1 = (obj: v1alpha3.TalosConfigTemplate) => convertTalosConfigTemplate(obj, B1) as v1beta1.TalosConfigTemplate;
const talosConfigTemplateToV1alpha3 = (obj: v1beta1.TalosConfigTemplate) => convertTalosConfigTemplate(obj, A3) as v1alpha3.TalosConfigTemplate;

/** One test per leaf field of `full`: an object holding only that field survives there and back. */
function itRoundTripsEachField(full: TypedObject, convert: Converter, via: string): void {
  const fields = leafPaths(full).filter((path) => path[0] === 'spec' || path[0] === 'status');
  it.each(fields.map((path) => [path.join('.'), path]))(`round-trips ${full.apiVersion.split('/')[1]} holding only %s via ${via}`, (_name, path) => {
    const original = onlyPath(full, path);
    const from = full.apiVersion.split('/')[1]!;
    expect(convert(convert(original, via), from)).toEqual(original);
  });
}

const conversionData = (obj: { metadata: { annotations?: Record<string, string> } }) => annotationJson(obj, CONVERSION_DATA_ANNOTATION);

describe('TalosConfig v1alpha3 → v1beta1', () => {
  it('maps every status field to its v1beta1 place and keeps talosConfig in the annotation', () => {
    const converted = talosConfigToV1beta1(fullV1alpha3());
    const { annotations, ...metadata } = converted.metadata;
    const expected = fullV1beta1();
    expect({ ...converted, metadata }).toEqual({ ...expected, metadata: { ...expected.metadata, annotations: undefined } });
    expect(annotations?.['example.com/note']).toBe('kept');
    expect(conversionData(converted)).toEqual({
      apiVersion: 'bootstrap.cluster.x-k8s.io/v1alpha3',
      status: { talosConfig: 'context: demo\n' },
    });
  });

  it('maps ready to dataSecretCreated without any annotation (CABPT drops it)', () => {
    const obj: v1alpha3.TalosConfig = {
      apiVersion: 'bootstrap.cluster.x-k8s.io/v1alpha3',
      kind: 'TalosConfig',
      metadata: { name: 'w' },
      spec: { generateType: 'join' },
      status: { ready: true, dataSecretName: 'w-bootstrap-data' },
    };
    const converted = talosConfigToV1beta1(obj);
    expect(converted.status).toEqual({ initialization: { dataSecretCreated: true }, dataSecretName: 'w-bootstrap-data' });
    expect(converted.metadata.annotations).toBeUndefined();
  });

  it.each([
    [{ ready: false }, { initialization: { dataSecretCreated: false } }],
    [{}, {}],
  ])('maps status %j to %j', (status, expected) => {
    const obj = { apiVersion: 'bootstrap.cluster.x-k8s.io/v1alpha3', kind: 'TalosConfig', metadata: {}, spec: { generateType: 'worker' }, status };
    expect(convertTalosConfig(obj, B1)).toMatchObject({ status: expected });
  });

  it('round-trips the fully populated object to a deep-equal copy', () => {
    const original = fullV1alpha3();
    expect(talosConfigToV1alpha3(talosConfigToV1beta1(original))).toEqual(original);
  });

  itRoundTripsEachField(fullV1alpha3(), convertTalosConfig, B1);

  it('round-trips empty grouping objects that v1beta1 has no place for', () => {
    const original = { ...fullV1alpha3(), status: { v1beta2Status: {} } };
    const there = talosConfigToV1beta1(original);
    expect(there.status).toEqual({});
    expect(talosConfigToV1alpha3(there)).toEqual(original);
  });

  it('keeps an object without status without status', () => {
    const { status: _status, ...original } = fullV1alpha3();
    expect(convertTalosConfig(original, B1)).not.toHaveProperty('status');
    expect(convertTalosConfig(convertTalosConfig(original, B1), A3)).toEqual(original);
  });
});

describe('TalosConfig v1beta1 → v1alpha3', () => {
  it('maps every field back and needs no annotation for fields v1alpha3 has', () => {
    const converted = talosConfigToV1alpha3(fullV1beta1());
    const expected = fullV1alpha3();
    delete expected.status!.talosConfig;
    expect(converted).toEqual(expected);
  });

  it('round-trips the fully populated object to a deep-equal copy', () => {
    const original = fullV1beta1();
    expect(talosConfigToV1beta1(talosConfigToV1alpha3(original))).toEqual(original);
  });

  itRoundTripsEachField(fullV1beta1(), convertTalosConfig, A3);

  it('maps dataSecretCreated=false to ready=false and back', () => {
    const original: v1beta1.TalosConfig = { ...fullV1beta1(), status: { initialization: { dataSecretCreated: false } } };
    const there = talosConfigToV1alpha3(original);
    expect(there.status).toEqual({ ready: false });
    expect(talosConfigToV1beta1(there)).toEqual(original);
  });

  it('round-trips empty deprecated groups through the annotation', () => {
    for (const status of [{ deprecated: {} }, { deprecated: { v1beta1: {} } }, { conditions: [] }]) {
      const original = { ...fullV1beta1(), status } as v1beta1.TalosConfig;
      expect(talosConfigToV1beta1(talosConfigToV1alpha3(original))).toEqual(original);
    }
  });

  it('restores the v1alpha3-only talosConfig kept in the annotation, and drops the annotation', () => {
    const stored = talosConfigToV1beta1(fullV1alpha3());
    const read = talosConfigToV1alpha3(stored);
    expect(read.status?.talosConfig).toBe('context: demo\n');
    expect(read.metadata.annotations).toEqual({ 'example.com/note': 'kept' });
  });
});

describe('TalosConfigTemplate', () => {
  it('keeps the v1beta1-only template metadata in the annotation and restores it', () => {
    const original = fullTemplateV1beta1();
    const there = talosConfigTemplateToV1alpha3(original);
    expect(there.spec).toEqual({ template: { spec: original.spec.template.spec } });
    expect(conversionData(there)).toEqual({
      apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1',
      spec: { template: { metadata: original.spec.template.metadata } },
    });
    expect(talosConfigTemplateToV1beta1(there)).toEqual(original);
  });

  it('round-trips v1alpha3 → v1beta1 → v1alpha3 without an annotation', () => {
    const original = fullTemplateV1alpha3();
    const there = talosConfigTemplateToV1beta1(original);
    expect(there.metadata.annotations).toEqual({ 'example.com/note': 'kept' });
    expect(talosConfigTemplateToV1alpha3(there)).toEqual(original);
  });

  itRoundTripsEachField(fullTemplateV1beta1(), convertTalosConfigTemplate, A3);
  itRoundTripsEachField(fullTemplateV1alpha3(), convertTalosConfigTemplate, B1);

  it('keeps template metadata when a v1alpha3 client changed the spec in between', () => {
    const read = talosConfigTemplateToV1alpha3(fullTemplateV1beta1());
    read.spec.template.spec.talosVersion = 'v1.12';
    const written = talosConfigTemplateToV1beta1(read);
    expect(written.spec.template.metadata).toEqual(fullTemplateV1beta1().spec.template.metadata);
    expect(written.spec.template.spec.talosVersion).toBe('v1.12');
    expect(written.metadata.annotations?.[CONVERSION_DATA_ANNOTATION]).toBeUndefined();
  });
});

describe('conversion edge cases', () => {
  it('returns the object unchanged when it already has the desired version', () => {
    const obj = fullV1beta1();
    expect(convertTalosConfig(obj, B1)).toBe(obj);
  });

  it('rejects a version it does not serve with a message naming the served ones', () => {
    expect(() => convertTalosConfig(fullV1beta1(), 'v1alpha2')).toThrow(
      'cannot convert TalosConfig from bootstrap.cluster.x-k8s.io/v1beta1 to v1alpha2: served versions are v1alpha3 and v1beta1',
    );
  });

  it('ignores a conversion-data annotation that is not JSON instead of failing', () => {
    const obj = fullV1beta1();
    obj.metadata.annotations = { [CONVERSION_DATA_ANNOTATION]: '{not json' };
    const converted = talosConfigToV1alpha3(obj);
    expect(converted.status?.ready).toBe(true);
    expect(converted.metadata.annotations?.[CONVERSION_DATA_ANNOTATION]).toBe('{not json');
  });

  it('writes the annotation with sorted keys so equal content gives equal text', () => {
    const a = fullTemplateV1beta1();
    const b = fullTemplateV1beta1();
    b.spec.template.metadata = { annotations: b.spec.template.metadata!.annotations, labels: b.spec.template.metadata!.labels };
    expect(talosConfigTemplateToV1alpha3(a).metadata.annotations).toEqual(talosConfigTemplateToV1alpha3(b).metadata.annotations);
  });
});
