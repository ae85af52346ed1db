// The TalosControlPlane API against the real apiserver: the CRD from crds/ as
// the test bed installs it — seeds accepted unchanged, defaults, the scale
// subresource, the printer columns, and each refusal naming its field.
import { request as httpsRequest, type RequestOptions as HttpsOptions } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { V1ALPHA3, V1BETA1 } from '../../../src/api/controlplane/resources';
import { IN_PLACE_ON_FAILURE_ANNOTATION, ROLLOUT_STRATEGY_ANNOTATION } from '../../../src/api/controlplane/group';
import type { TalosControlPlane as HubTalosControlPlane } from '../../../src/api/controlplane/v1beta1/types';
import {
  MACHINE_NAMING_MESSAGE, ONE_OR_ZERO_MESSAGE, REPLICAS_ODD_MESSAGE, SURGE_AND_UNAVAILABLE_ZERO_MESSAGE, WORKER_CONFIG_MESSAGE,
} from '../../../src/api/controlplane/crds';
import type { TalosControlPlane, TalosControlPlaneStatus } from '../../../src/api/controlplane/v1alpha3/types';
import { KubeApiError } from '../../../src/kube/client/api-error';
import { KubeClient } from '../../../src/kube/client/client';
import type { KubeObject } from '../../../src/kube/meta/object';
import { resourcePath, type ResourceKind } from '../../../src/kube/client/resource';

const SEEDS_DIR = join(__dirname, '..', '..', 'fixtures', 'seeds');
const NamespaceKind: ResourceKind = { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false };
const kind = V1ALPHA3.talosControlPlane;
const DEFAULT_ROLLOUT = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } };

type Tcp = KubeObject & Pick<TalosControlPlane, 'spec' | 'status'>;
interface Scale { spec: { replicas?: number }; status: { replicas?: number; selector?: string } }

let kubeconfigPath: string;
let client: KubeClient;
const namespace = `cp-api-${process.pid}-${Date.now().toString(36)}`;

beforeAll(async () => {
  const kubeconfig = process.env.KUBECONFIG;
  if (!kubeconfig) throw new Error('KUBECONFIG is not set: run through the integration project (its globalSetup starts the test bed)');
  kubeconfigPath = kubeconfig;
  client = KubeClient.load(kubeconfig, { qps: 200, burst: 200 });
  await client.create<KubeObject>(NamespaceKind, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
});

afterAll(async () => {
  await client?.delete(NamespaceKind, '', namespace).catch(() => undefined);
});

function loadSeed(name: string): Tcp {
  return parse(readFileSync(join(SEEDS_DIR, name), 'utf8')) as Tcp;
}

function tcp(name: string, spec: Record<string, unknown> = {}): Tcp {
  return {
    apiVersion: 'controlplane.cluster.x-k8s.io/v1alpha3', kind: 'TalosControlPlane', metadata: { name, namespace },
    spec: {
      version: 'v1.30.0',
      infrastructureTemplate: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta1', kind: 'SimMachineTemplate', name: 'cp' },
      controlPlaneConfig: { controlplane: { generateType: 'controlplane', talosVersion: 'v1.11' } },
      ...spec,
    },
  };
}

/** The apiserver's message for a request that must be refused as invalid (422). */
async function invalid(request: Promise<unknown>): Promise<string> {
  const outcome = await request.then(() => 'accepted', (error: unknown) => error);
  if (!(outcome instanceof KubeApiError)) throw new Error(`expected the apiserver to refuse the request, got ${String(outcome)}`);
  expect(outcome.code).toBe(422);
  return outcome.serverMessage;
}

const createDryRun = (obj: Tcp) => client.request<Tcp>('POST', resourcePath(kind, namespace), { body: obj, query: { dryRun: 'All' } });
const patchSpec = (name: string, spec: Record<string, unknown>) => client.patch<Tcp>(kind, namespace, name, { spec }, 'merge');

describe('seed TalosControlPlanes', () => {
  it('cluster-control-plane is accepted unchanged; replicas kept, rolloutStrategy defaulted', async () => {
    const seed = loadSeed('000-taloscontrolplane-cluster-control-plane.yaml');
    const created = await client.create<Tcp>(kind, { ...seed, metadata: { ...seed.metadata, namespace } });
    expect(created.spec).toEqual({ ...seed.spec, rolloutStrategy: DEFAULT_ROLLOUT });
    // generateType is left out in the seed's controlPlaneConfig: the Machine's role supplies it.
    expect(created.spec.controlPlaneConfig.controlplane.generateType).toBeUndefined();
  });

  it('production-control-plane is accepted unchanged, and the seed upgrade (maxUnavailable: 0) applies to it', async () => {
    const seed = loadSeed('000-taloscontrolplane-production-control-plane.yaml');
    const created = await client.create<Tcp>(kind, { ...seed, metadata: { ...seed.metadata, namespace } });
    expect(created.spec).toEqual(seed.spec);

    const upgrade = loadSeed('000-taloscontrolplane-upgrade.yaml');
    const upgraded = await client.patch<Tcp>(kind, namespace, seed.metadata.name!, upgrade, 'merge');
    expect(upgraded.spec).toEqual({ ...seed.spec, ...upgrade.spec });
    expect(upgraded.spec.rolloutStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  });
});

describe('defaults', () => {
  it('replicas 1 and RollingUpdate with maxSurge 1 when left out; a version without v is accepted', async () => {
    const created = await createDryRun(tcp('defaults', { version: '1.30.0' }));
    expect(created.spec.replicas).toBe(1);
    expect(created.spec.rolloutStrategy).toEqual(DEFAULT_ROLLOUT);
    expect(created.spec.version).toBe('1.30.0');
  });

  it('a rollingUpdate given without maxSurge gets maxSurge 1 and the RollingUpdate type', async () => {
    const created = await createDryRun(tcp('partial', { rolloutStrategy: { rollingUpdate: { maxUnavailable: 0 } } }));
    expect(created.spec.rolloutStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  });

  it('OnDelete is kept as given', async () => {
    const created = await createDryRun(tcp('on-delete', { rolloutStrategy: { type: 'OnDelete' } }));
    expect(created.spec.rolloutStrategy).toEqual({ type: 'OnDelete' });
  });
});

describe('validation', () => {
  it.each([
    ['replicas 2', { replicas: 2 }, 'spec.replicas', REPLICAS_ODD_MESSAGE],
    ['replicas 0', { replicas: 0 }, 'spec.replicas', REPLICAS_ODD_MESSAGE],
    ['maxSurge 2', { rolloutStrategy: { rollingUpdate: { maxSurge: 2 } } }, 'spec.rolloutStrategy.rollingUpdate.maxSurge', ONE_OR_ZERO_MESSAGE],
    ['maxSurge 50%', { rolloutStrategy: { rollingUpdate: { maxSurge: '50%' } } }, 'spec.rolloutStrategy.rollingUpdate.maxSurge', ONE_OR_ZERO_MESSAGE],
    ['maxUnavailable 3', { rolloutStrategy: { rollingUpdate: { maxUnavailable: 3 } } }, 'spec.rolloutStrategy.rollingUpdate.maxUnavailable', ONE_OR_ZERO_MESSAGE],
    [
      'maxSurge 0 with maxUnavailable 0', { rolloutStrategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } },
      'spec.rolloutStrategy.rollingUpdate', SURGE_AND_UNAVAILABLE_ZERO_MESSAGE,
    ],
    ['rollout type Recreate', { rolloutStrategy: { type: 'Recreate' } }, 'spec.rolloutStrategy.type', 'supported values: "RollingUpdate", "OnDelete"'],
    ['version latest', { version: 'latest' }, 'spec.version', 'should match'],
    [
      'a worker config', { controlPlaneConfig: { controlplane: { generateType: 'worker' } } },
      'spec.controlPlaneConfig.controlplane.generateType', WORKER_CONFIG_MESSAGE,
    ],
    [
      'a template without a name', { infrastructureTemplate: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta1', kind: 'SimMachineTemplate' } },
      'spec.infrastructureTemplate.name', 'Required value',
    ],
  ])('%s is refused, naming the field', async (_case, spec, field, message) => {
    const refusal = await invalid(createDryRun(tcp('invalid', spec)));
    expect(refusal).toContain(field);
    expect(refusal).toContain(message);
  });

  describe('version changes', () => {
    const name = 'versions';
    beforeAll(async () => {
      await client.create<Tcp>(kind, tcp(name, { version: 'v1.29.3', replicas: 3 }));
    });

    it.each([
      ['v1.31.0', 'cannot go from v1.29.3 to v1.31.0: upgrade one Kubernetes minor version at a time'],
      ['v2.0.0', 'cannot go from v1.29.3 to v2.0.0: upgrade one Kubernetes minor version at a time'],
      ['v1.28.9', 'cannot go down from v1.29.3 to v1.28.9'],
      ['1.28.9', 'cannot go down from v1.29.3 to 1.28.9'],
    ])('to %s is refused on spec.version', async (version, message) => {
      const refusal = await invalid(patchSpec(name, { version }));
      expect(refusal).toContain('spec.version');
      expect(refusal).toContain(message);
    });

    it('one minor up, a patch back, and the v left out all pass', async () => {
      for (const version of ['v1.29.1', '1.30.0', 'v1.30.0-rc.1', 'v1.31.2']) {
        const patched = await patchSpec(name, { version });
        expect(patched.spec.version).toBe(version);
      }
    });
  });
});

describe('scale subresource', () => {
  const name = 'scaled';
  const scalePath = () => resourcePath(kind, namespace, name, 'scale');

  beforeAll(async () => {
    const created = await client.create<Tcp>(kind, tcp(name, { replicas: 3 }));
    const status: TalosControlPlaneStatus = { replicas: 2, selector: 'cluster.x-k8s.io/cluster-name=c1,cluster.x-k8s.io/control-plane=' };
    await client.replace<Tcp>(kind, { ...created, status }, 'status');
  });

  it('reads spec.replicas, status.replicas and status.selector', async () => {
    const scale = await client.request<Scale>('GET', scalePath());
    expect(scale.spec.replicas).toBe(3);
    expect(scale.status).toEqual({ replicas: 2, selector: 'cluster.x-k8s.io/cluster-name=c1,cluster.x-k8s.io/control-plane=' });
  });

  it('a PATCH of /scale sets spec.replicas, and an even count is refused there too', async () => {
    await client.request('PATCH', scalePath(), { body: { spec: { replicas: 5 } }, contentType: 'application/merge-patch+json' });
    expect((await client.get<Tcp>(kind, namespace, name)).spec.replicas).toBe(5);

    const refusal = await invalid(client.request('PATCH', scalePath(), { body: { spec: { replicas: 4 } }, contentType: 'application/merge-patch+json' }));
    expect(refusal).toContain('spec.replicas');
    expect(refusal).toContain(REPLICAS_ODD_MESSAGE);
  });
});

describe('status', () => {
  it('keeps every upstream and v1beta2-contract field (nothing pruned)', async () => {
    const name = 'status';
    const created = await client.create<Tcp>(kind, tcp(name));
    const status: TalosControlPlaneStatus = {
      selector: 'cluster.x-k8s.io/cluster-name=c1,cluster.x-k8s.io/control-plane=',
      replicas: 3, version: 'v1.30.0', updatedReplicas: 3, readyReplicas: 2, unavailableReplicas: 1,
      initialized: true, ready: true, bootstrapped: true, failureReason: 'None', failureMessage: 'none', observedGeneration: 1,
      conditions: [{ type: 'Ready', status: 'False', severity: 'Warning', reason: 'ScalingUp', message: 'Scaling up', lastTransitionTime: '2026-01-02T03:04:05Z' }],
      initialization: { controlPlaneInitialized: true },
      availableReplicas: 2, upToDateReplicas: 3,
      versions: [{ version: 'v1.29.3', replicas: 1 }, { version: 'v1.30.0', replicas: 2 }],
      v1beta2: {
        conditions: [
          { type: 'Available', status: 'True', reason: 'Available', message: '', lastTransitionTime: '2026-01-02T03:04:05Z', observedGeneration: 1 },
        ],
      },
    };
    const written = await client.replace<Tcp>(kind, { ...created, status }, 'status');
    expect(written.status).toEqual(status);
  });
});

/** A GET answered as a meta.k8s.io Table, as `kubectl get` asks for it. */
async function getTable(path: string): Promise<{ columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] }> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  const url = new URL(config.getCurrentCluster()!.server + path);
  const options: HttpsOptions = {
    method: 'GET', hostname: url.hostname, port: url.port, path: url.pathname,
    headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
  };
  await config.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    httpsRequest(options, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      response.on('end', () => (response.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`${response.statusCode}: ${body}`))));
    }).on('error', reject).end();
  });
}

describe('printer columns', () => {
  it('kubectl get shows Ready, Initialized and the replica counts', async () => {
    const name = 'columns';
    const created = await client.create<Tcp>(kind, tcp(name));
    await client.replace<Tcp>(kind, { ...created, status: { ready: true, initialized: true, replicas: 3, readyReplicas: 2, unavailableReplicas: 1 } }, 'status');
    const table = await getTable(resourcePath(kind, namespace, name));
    expect(table.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Ready', 'Initialized', 'Replicas', 'Ready Replicas', 'Unavailable Replicas']);
    expect(table.rows.map((r) => r.cells)).toEqual([[name, true, true, 3, 2, 1]]);
  });
});

describe('v1beta1 (the storage version) beside v1alpha3', () => {
  const hubKind = V1BETA1.talosControlPlane;
  type Hub = KubeObject & Pick<HubTalosControlPlane, 'spec' | 'status'>;
  const hub = (name: string, spec: Record<string, unknown> = {}): Hub => ({
    apiVersion: 'controlplane.cluster.x-k8s.io/v1beta1', kind: 'TalosControlPlane', metadata: { name, namespace },
    spec: {
      version: 'v1.34.1',
      machineTemplate: { spec: { infrastructureRef: { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: 'SimMachineTemplate', name: 'cp' } } },
      controlPlaneConfig: { controlplane: { talosVersion: 'v1.13' } },
      ...spec,
    },
  });
  const hubDryRun = (obj: Hub) => client.request<Hub>('POST', resourcePath(hubKind, namespace), { body: obj, query: { dryRun: 'All' } });

  it('a seed written as v1alpha3 reads as v1beta1 at the new places, and back as v1alpha3 unchanged', async () => {
    const seed = loadSeed('000-taloscontrolplane-cluster-control-plane.yaml');
    const created = await client.create<Tcp>(kind, { ...seed, metadata: { ...seed.metadata, name: 'as-hub', namespace } });
    const read = await client.get<Hub>(hubKind, namespace, 'as-hub');
    const template = seed.spec.infrastructureTemplate;
    expect(read.spec.machineTemplate.spec.infrastructureRef).toEqual({ apiGroup: template.apiVersion!.split('/')[0], kind: template.kind, name: template.name });
    expect(read.spec.rollout).toEqual({ strategy: DEFAULT_ROLLOUT });
    expect((await client.get<Tcp>(kind, namespace, 'as-hub')).spec).toEqual(created.spec);
  });

  it('defaults the rollout, and keeps remediation, naming and machine metadata a v1alpha3 update does not know about', async () => {
    const created = await client.create<Hub>(hubKind, hub('hub-only', {
      remediation: { maxRetry: 2 }, machineNaming: { template: '{{ .cluster.name }}-cp-{{ .random }}' },
      machineTemplate: { metadata: { labels: { team: 'a' } }, spec: { infrastructureRef: { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: 'SimMachineTemplate', name: 'cp' } } },
    }));
    expect(created.spec.rollout).toEqual({ strategy: DEFAULT_ROLLOUT });
    await patchSpec('hub-only', { replicas: 3 });
    const read = await client.get<Hub>(hubKind, namespace, 'hub-only');
    expect(read.spec).toMatchObject({ replicas: 3, remediation: { maxRetry: 2 }, machineNaming: { template: '{{ .cluster.name }}-cp-{{ .random }}' }, machineTemplate: { metadata: { labels: { team: 'a' } } } });
  });

  it('InPlace is a v1beta1 strategy type and the v1alpha3 annotation', async () => {
    await client.create<Hub>(hubKind, hub('in-place', { rollout: { strategy: { type: 'InPlace' } } }));
    const old = await client.get<Tcp>(kind, namespace, 'in-place');
    expect(old.metadata.annotations?.[ROLLOUT_STRATEGY_ANNOTATION]).toBe('InPlace');
    expect(old.spec.rolloutStrategy?.type).toBe('RollingUpdate');
  });

  it('inPlace.onFailure is a v1beta1 field (Stop or Replace) and the v1alpha3 annotation, both ways', async () => {
    await client.create<Hub>(hubKind, hub('on-failure', { rollout: { strategy: { type: 'InPlace', inPlace: { onFailure: 'Replace' } } } }));
    const old = await client.get<Tcp>(kind, namespace, 'on-failure');
    expect(old.metadata.annotations?.[IN_PLACE_ON_FAILURE_ANNOTATION]).toBe('Replace');
    expect(old.spec.rolloutStrategy).not.toHaveProperty('inPlace');
    await client.patch(kind, namespace, 'on-failure', { metadata: { annotations: { [IN_PLACE_ON_FAILURE_ANNOTATION]: 'Stop' } } }, 'merge');
    expect((await client.get<Hub>(hubKind, namespace, 'on-failure')).spec.rollout?.strategy?.inPlace).toEqual({ onFailure: 'Stop' });
    const refusal = await invalid(hubDryRun(hub('bad-on-failure', { rollout: { strategy: { type: 'InPlace', inPlace: { onFailure: 'Retry' } } } })));
    expect(refusal).toContain('spec.rollout.strategy.inPlace.onFailure');
  });

  it('refuses a naming template without {{ .random }}', async () => {
    const refusal = await invalid(hubDryRun(hub('bad-name', { machineNaming: { template: '{{ .cluster.name }}-cp' } })));
    expect(refusal).toContain('spec.machineNaming.template');
    expect(refusal).toContain(MACHINE_NAMING_MESSAGE);
  });
});
