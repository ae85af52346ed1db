// Fully populated TalosConfig / TalosConfigTemplate objects in both versions,
// describing the same thing, for conversion tests.
import type * as v1alpha3 from '../../../src/api/bootstrap/v1alpha3/types';
import type * as v1beta1 from '../../../src/api/bootstrap/v1beta1/types';

const metadata = {
  name: 'cp-0',
  namespace: 'default',
  uid: '0d4a1c6e-0000-4000-8000-000000000001',
  resourceVersion: '42',
  generation: 1,
  creationTimestamp: '2026-01-02T03:04:05Z',
  labels: { 'cluster.x-k8s.io/cluster-name': 'demo' },
  annotations: { 'example.com/note': 'kept' },
};

export const spec: v1beta1.TalosConfigSpec = {
  talosVersion: 'v1.11',
  generateType: 'controlplane',
  data: 'version: v1alpha1\n',
  configPatches: [
    { op: 'add', path: '/machine/install', value: { disk: '/dev/sda', wipe: false, extensions: [{ image: 'x' }] } },
    { op: 'replace', path: '/machine/install/disk', value: '/dev/vda' },
    { op: 'remove', path: '/cluster/proxy' },
  ],
  strategicPatches: ['machine:\n  time:\n    servers: [time.example.com]\n', 'apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: a\n'],
  hostname: { source: 'InfrastructureName' },
  talosconfig: { endpoints: ['cp.example.com', '10.0.0.10:50000'] },
};

const condition = {
  type: 'DataSecretAvailable',
  status: 'True' as const,
  observedGeneration: 1,
  lastTransitionTime: '2026-01-02T03:05:00Z',
  reason: 'Available',
  message: '',
};

const legacyCondition = {
  type: 'DataSecretAvailable',
  status: 'False' as const,
  severity: 'Error' as const,
  lastTransitionTime: '2026-01-02T03:04:30Z',
  reason: 'DataSecretGenerationFailed',
  message: 'boom',
};

export function fullV1alpha3(): v1alpha3.TalosConfig {
  return {
    apiVersion: 'bootstrap.cluster.x-k8s.io/v1alpha3',
    kind: 'TalosConfig',
    metadata: structuredClone(metadata),
    spec: structuredClone(spec),
    status: {
      ready: true,
      dataSecretName: 'cp-0-bootstrap-data',
      talosConfig: 'context: demo\n',
      failureReason: 'InvalidConfiguration',
      failureMessage: 'bad patch',
      observedGeneration: 1,
      conditions: [structuredClone(legacyCondition)],
      v1beta2Status: { conditions: [structuredClone(condition)] },
    },
  };
}

/** fullV1alpha3 as v1beta1, minus the annotation that carries `talosConfig`. */
export function fullV1beta1(): v1beta1.TalosConfig {
  return {
    apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1',
    kind: 'TalosConfig',
    metadata: structuredClone(metadata),
    spec: structuredClone(spec),
    status: {
      initialization: { dataSecretCreated: true },
      dataSecretName: 'cp-0-bootstrap-data',
      observedGeneration: 1,
      conditions: [structuredClone(condition)],
      deprecated: {
        v1beta1: { conditions: [structuredClone(legacyCondition)], failureReason: 'InvalidConfiguration', failureMessage: 'bad patch' },
      },
    },
  };
}

export function fullTemplateV1beta1(): v1beta1.TalosConfigTemplate {
  return {
    apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1',
    kind: 'TalosConfigTemplate',
    metadata: structuredClone(metadata),
    spec: {
      template: {
        metadata: { labels: { tier: 'workers' }, annotations: { 'example.com/owner': 'team-a' } },
        spec: { ...structuredClone(spec), generateType: 'worker' },
      },
    },
  };
}

export function fullTemplateV1alpha3(): v1alpha3.TalosConfigTemplate {
  return {
    apiVersion: 'bootstrap.cluster.x-k8s.io/v1alpha3',
    kind: 'TalosConfigTemplate',
    metadata: structuredClone(metadata),
    spec: { template: { spec: { ...structuredClone(spec), generateType: 'join' } } },
  };
}

/** Every path to a leaf (scalar or array) under `value`, as key lists. */
export function leafPaths(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([key, child]) => leafPaths(child, [...prefix, key]));
}

/** An object holding only the value at `path` of `source` (plus apiVersion/kind/metadata). */
export function onlyPath<T extends { apiVersion: string; kind: string; metadata: object }>(source: T, path: string[]): T {
  let value: unknown = source;
  for (const key of path) value = (value as Record<string, unknown>)[key];
  const result: Record<string, unknown> = { apiVersion: source.apiVersion, kind: source.kind, metadata: structuredClone(source.metadata) };
  let cursor = result;
  path.forEach((key, i) => {
    if (i === path.length - 1) cursor[key] = structuredClone(value);
    else cursor = (cursor[key] ??= {}) as Record<string, unknown>;
  });
  return result as T;
}

/** The JSON an annotation holds (a conversion-data annotation), or undefined without it. */
export function annotationJson(obj: { metadata: { annotations?: Record<string, string> } }, key: string): unknown {
  const text = obj.metadata.annotations?.[key];
  return text === undefined ? undefined : JSON.parse(text);
}
