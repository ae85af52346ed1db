// The bootstrap API against the real apiserver: our CRDs (from crds/) with the
// conversion and validating webhooks served in-process and registered by URL.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { V1ALPHA3, V1BETA1 } from '../../../src/api/bootstrap/resources';
import { KubeApiError } from '../../../src/kube/client/api-error';
import { KubeClient } from '../../../src/kube/client/client';
import type { KubeObject } from '../../../src/kube/meta/object';
import { resourcePath, type ResourceKind } from '../../../src/kube/client/resource';
import { ensureWebhooks } from '../../support/webhook-certs';

/** What these tests read back: any of our objects, spec and status left open. */
type ApiObject = KubeObject & { spec?: unknown; status?: unknown };

const SEEDS_DIR = join(__dirname, '..', '..', 'fixtures', 'seeds');
const NamespaceKind: ResourceKind = { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false };

let client: KubeClient;
let stopWebhooks: (() => Promise<void>) | undefined;
const namespace = `api-${process.pid}-${Date.now().toString(36)}`;

beforeAll(async () => {
  const kubeconfig = process.env.KUBECONFIG;
  if (!kubeconfig) throw new Error('KUBECONFIG is not set: run through the integration project (its globalSetup starts the test bed)');
  client = KubeClient.load(kubeconfig, { qps: 200, burst: 200 });
  // Conversion must answer before any v1alpha3 object can be written or read.
  stopWebhooks = await ensureWebhooks(kubeconfig);
  await client.create<ApiObject>(NamespaceKind, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
});

afterAll(async () => {
  await client?.delete(NamespaceKind, '', namespace).catch(() => undefined);
  await stopWebhooks?.();
});

function seedFiles(prefix: string): string[] {
  return readdirSync(SEEDS_DIR).filter((name) => name.startsWith(prefix)).sort();
}

function loadSeed(name: string): ApiObject {
  return parse(readFileSync(join(SEEDS_DIR, name), 'utf8')) as ApiObject;
}

function inNamespace<T extends ApiObject>(obj: T, name = obj.metadata.name): T {
  return { ...structuredClone(obj), metadata: { ...structuredClone(obj.metadata), name, namespace } };
}

/** The rejection of `request`, which must fail with `code`. */
async function rejection(request: Promise<unknown>, code: number): Promise<string> {
  const error = await request.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof KubeApiError)) throw new Error(`expected the apiserver to refuse the request, got ${String(error)}`);
  expect(error.code).toBe(code);
  return error.serverMessage;
}

function dryRunPatch(kind: ResourceKind, name: string, patch: unknown): Promise<ApiObject> {
  return client.request('PATCH', resourcePath(kind, namespace, name), {
    body: patch, contentType: 'application/merge-patch+json', query: { dryRun: 'All' },
  });
}

describe('seed TalosConfigs', () => {
  it.each(seedFiles('000-talosconfig-'))('%s is accepted unchanged as v1alpha3 and reads the same as v1beta1', async (file) => {
    const seed = loadSeed(file);
    const created = await client.create<ApiObject>(V1ALPHA3.talosConfig, inNamespace(seed));
    expect(created.spec).toEqual(seed.spec);

    const asV1beta1 = await client.get<ApiObject>(V1BETA1.talosConfig, namespace, seed.metadata.name!);
    expect(asV1beta1.apiVersion).toBe('bootstrap.cluster.x-k8s.io/v1beta1');
    expect(asV1beta1.spec).toEqual(seed.spec);
    expect(asV1beta1.metadata.annotations).toBeUndefined();

    const back = await client.get<ApiObject>(V1ALPHA3.talosConfig, namespace, seed.metadata.name!);
    expect(back.apiVersion).toBe('bootstrap.cluster.x-k8s.io/v1alpha3');
    expect(back.spec).toEqual(seed.spec);
  });

  it.each(seedFiles('000-configpatches-'))('the configPatches of %s are accepted unchanged in a v1alpha3 TalosConfig', async (file) => {
    const { configPatches } = parse(readFileSync(join(SEEDS_DIR, file), 'utf8')) as { configPatches: unknown[] };
    const name = file.replace(/\.yaml$/, '');
    const created = await client.create<ApiObject>(V1ALPHA3.talosConfig, {
      apiVersion: 'bootstrap.cluster.x-k8s.io/v1alpha3', kind: 'TalosConfig', metadata: { name, namespace },
      spec: { generateType: 'controlplane', talosVersion: 'v1.7.0', configPatches },
    });
    expect((created.spec as { configPatches: unknown }).configPatches).toEqual(configPatches);
  });
});

describe('status across versions', () => {
  const conditions = [
    { type: 'DataSecretAvailable', status: 'True', reason: 'Available', message: '', lastTransitionTime: '2026-01-02T03:04:05Z', observedGeneration: 1 },
  ];
  const legacyConditions = [{ type: 'DataSecretAvailable', status: 'True', lastTransitionTime: '2026-01-02T03:04:05Z' }];

  it('written as v1beta1, reads as v1alpha3 with ready=true, and survives a v1alpha3 read-modify-write', async () => {
    const name = 'status-v1beta1';
    const created = await client.create<ApiObject>(V1BETA1.talosConfig, {
      apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1', kind: 'TalosConfig', metadata: { name, namespace },
      spec: { generateType: 'worker', talosconfig: { endpoints: ['lb.example.com'] } },
    });
    const status = {
      initialization: { dataSecretCreated: true },
      dataSecretName: `${name}-bootstrap-data`,
      observedGeneration: 1,
      conditions,
      deprecated: { v1beta1: { conditions: legacyConditions, failureReason: 'None', failureMessage: 'none' } },
    };
    await client.replace<ApiObject>(V1BETA1.talosConfig, { ...created, status }, 'status');

    const alpha = await client.get<ApiObject>(V1ALPHA3.talosConfig, namespace, name);
    expect(alpha.status).toEqual({
      ready: true,
      dataSecretName: `${name}-bootstrap-data`,
      observedGeneration: 1,
      conditions: legacyConditions,
      failureReason: 'None',
      failureMessage: 'none',
      v1beta2Status: { conditions },
    });

    alpha.metadata.labels = { touched: 'by-v1alpha3-client' };
    await client.replace<ApiObject>(V1ALPHA3.talosConfig, alpha);
    const beta = await client.get<ApiObject>(V1BETA1.talosConfig, namespace, name);
    expect(beta.status).toEqual(status);
    expect(beta.spec).toEqual(created.spec);
    expect(beta.metadata.labels).toEqual({ touched: 'by-v1alpha3-client' });
  });

  it('written as v1alpha3 (ready, v1beta2Status), reads as v1beta1 dataSecretCreated and conditions', async () => {
    const name = 'status-v1alpha3';
    const created = await client.create<ApiObject>(V1ALPHA3.talosConfig, {
      apiVersion: 'bootstrap.cluster.x-k8s.io/v1alpha3', kind: 'TalosConfig', metadata: { name, namespace }, spec: { generateType: 'join' },
    });
    await client.replace<ApiObject>(V1ALPHA3.talosConfig, { ...created, status: { ready: true, dataSecretName: 'x', v1beta2Status: { conditions } } }, 'status');
    const beta = await client.get<ApiObject>(V1BETA1.talosConfig, namespace, name);
    expect(beta.status).toEqual({ initialization: { dataSecretCreated: true }, dataSecretName: 'x', conditions });
  });
});

describe('TalosConfig validation', () => {
  const talosConfig = (version: 'v1alpha3' | 'v1beta1', name: string, spec: Record<string, unknown>) => ({
    apiVersion: `bootstrap.cluster.x-k8s.io/${version}`, kind: 'TalosConfig', metadata: { name, namespace }, spec,
  });
  const kinds = { v1alpha3: V1ALPHA3.talosConfig, v1beta1: V1BETA1.talosConfig };

  it.each(['v1alpha3', 'v1beta1'] as const)('%s: an unknown generateType is refused naming the field and the allowed values', async (version) => {
    const message = await rejection(client.create<ApiObject>(kinds[version], talosConfig(version, `bad-type-${version}`, { generateType: 'master' })), 422);
    expect(message).toContain('spec.generateType: Unsupported value: "master": supported values: "init", "controlplane", "worker", "join", "none"');
  });

  it.each(['v1alpha3', 'v1beta1'] as const)('%s: an unknown hostname.source is refused naming the field and the allowed values', async (version) => {
    const spec = { generateType: 'worker', hostname: { source: 'NodeName' } };
    const message = await rejection(client.create<ApiObject>(kinds[version], talosConfig(version, `bad-host-${version}`, spec)), 422);
    expect(message).toContain('spec.hostname.source: Unsupported value: "NodeName": supported values: "", "MachineName", "InfrastructureName"');
  });

  it('a talosconfig endpoint with a scheme is refused', async () => {
    const spec = { generateType: 'controlplane', talosconfig: { endpoints: ['https://lb.example.com'] } };
    const message = await rejection(client.create<ApiObject>(V1BETA1.talosConfig, talosConfig('v1beta1', 'bad-endpoint', spec)), 422);
    expect(message).toContain('spec.talosconfig.endpoints[0]');
    expect(message).toContain('must be a host name or IP address, optionally with :port');
  });

  it.each(['v1alpha3', 'v1beta1'] as const)('%s: the spec cannot change after creation; metadata can', async (version) => {
    const name = `immutable-${version}`;
    await client.create<ApiObject>(kinds[version], talosConfig(version, name, { generateType: 'worker', configPatches: [{ op: 'add', path: '/a', value: { b: 1 } }] }));
    for (const patch of [{ talosVersion: 'v1.12' }, { configPatches: [{ op: 'add', path: '/a', value: { b: 2 } }] }]) {
      const message = await rejection(client.patch<ApiObject>(kinds[version], namespace, name, { spec: patch }, 'merge'), 422);
      expect(message).toContain('spec: Invalid value: "object": spec is immutable: a TalosConfig cannot change after creation');
    }
    const labelled = await client.patch<ApiObject>(kinds[version], namespace, name, { metadata: { labels: { a: 'b' } } }, 'merge');
    expect(labelled.metadata.labels).toEqual({ a: 'b' });
  });
});

describe('TalosConfigTemplate validation', () => {
  const name = 'workers';
  const dryRunAnnotation = { 'topology.cluster.x-k8s.io/dry-run': '' };

  beforeAll(async () => {
    await client.create<ApiObject>(V1BETA1.talosConfigTemplate, {
      apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1', kind: 'TalosConfigTemplate', metadata: { name, namespace },
      spec: { template: { metadata: { labels: { tier: 'workers' } }, spec: { generateType: 'worker', talosVersion: 'v1.11' } } },
    });
  });

  it.each([
    ['v1alpha3', V1ALPHA3.talosConfigTemplate],
    ['v1beta1', V1BETA1.talosConfigTemplate],
  ])('%s: a spec change is refused by the webhook with a message naming the field', async (_version, kind) => {
    const message = await rejection(client.patch<ApiObject>(kind, namespace, name, { spec: { template: { spec: { talosVersion: 'v1.12' } } } }, 'merge'), 422);
    expect(message).toBe(
      'admission webhook "vtalosconfigtemplate.bootstrap.cluster.x-k8s.io" denied the request: TalosConfigTemplate "workers": ' +
        'spec.template.spec is immutable: create a new TalosConfigTemplate and point the MachineDeployment, MachinePool or ClusterClass at it',
    );
  });

  it('a Cluster API topology dry-run may change the spec, and nothing is persisted', async () => {
    const dryRun = await dryRunPatch(V1BETA1.talosConfigTemplate, name, {
      metadata: { annotations: dryRunAnnotation }, spec: { template: { spec: { talosVersion: 'v1.12' } } },
    });
    expect((dryRun.spec as { template: { spec: { talosVersion: string } } }).template.spec.talosVersion).toBe('v1.12');
    const stored = await client.get<ApiObject>(V1BETA1.talosConfigTemplate, namespace, name);
    expect((stored.spec as { template: { spec: { talosVersion: string } } }).template.spec.talosVersion).toBe('v1.11');
  });

  it('a dry-run without the annotation, and a real request with it, are still refused', async () => {
    await rejection(dryRunPatch(V1BETA1.talosConfigTemplate, name, { spec: { template: { spec: { talosVersion: 'v1.12' } } } }), 422);
    const patch = { metadata: { annotations: dryRunAnnotation }, spec: { template: { spec: { talosVersion: 'v1.12' } } } };
    await rejection(client.patch<ApiObject>(V1BETA1.talosConfigTemplate, namespace, name, patch, 'merge'), 422);
  });

  it('template labels may change, and survive a read-modify-write through v1alpha3', async () => {
    await client.patch<ApiObject>(V1BETA1.talosConfigTemplate, namespace, name, { spec: { template: { metadata: { labels: { tier: 'edge' } } } } }, 'merge');
    const alpha = await client.get<ApiObject>(V1ALPHA3.talosConfigTemplate, namespace, name);
    expect(alpha.spec).toEqual({ template: { spec: { generateType: 'worker', talosVersion: 'v1.11' } } });
    alpha.metadata.labels = { edited: 'v1alpha3' };
    await client.replace<ApiObject>(V1ALPHA3.talosConfigTemplate, alpha);
    const beta = await client.get<ApiObject>(V1BETA1.talosConfigTemplate, namespace, name);
    expect(beta.spec).toEqual({ template: { metadata: { labels: { tier: 'edge' } }, spec: { generateType: 'worker', talosVersion: 'v1.11' } } });
    expect(beta.metadata.annotations).toBeUndefined();
  });
});
