// A new cluster's first control-plane config waits on as few API round trips as it can: the reads
// that prove the cluster never used a bundle go out together, and once the bundle exists the data
// Secret, the Kubernetes CA and the talosconfig are written side by side, not one after another.
// The fake API server holds each of those requests until its partners arrive, so a reconciler that
// sends them in turn never finishes.
import type { KubeClient } from '../../../src/kube/client/client';
import { KubeApiError } from '../../../src/kube/client/api-error';
import type { Informer } from '../../../src/kube/cache/informer';
import type { StoreQuery } from '../../../src/kube/cache/store';
import type { KubeObject } from '../../../src/kube/meta/object';
import type { EventRecorder } from '../../../src/kube/patch/events';
import { silentLogger } from '../../../src/kube/log/logger';
import { TalosConfigReconciler } from '../../../src/bootstrap/reconciler';
import { CLUSTER_NAME_LABEL, CONTROL_PLANE_LABEL, type Cluster, type Machine } from '../../../src/api/capi/v1beta2/types';
import type { TalosConfig } from '../../../src/api/bootstrap/v1beta1/types';

function informerOf<T extends KubeObject>(objects: T[]): Informer<T> {
  return {
    get: (namespace: string, name: string) => objects.find((o) => o.metadata.namespace === namespace && o.metadata.name === name),
    list: (query: StoreQuery = {}) =>
      objects.filter(
        (o) => (!query.namespace || o.metadata.namespace === query.namespace) &&
          Object.entries(query.labels ?? {}).every(([k, v]) => o.metadata.labels?.[k] === v),
      ),
  } as unknown as Informer<T>;
}

/** Requests in `group` are answered only once every one of them has arrived. */
function rendezvous(group: string[]) {
  const arrived = new Set<string>();
  const waiting: Array<() => void> = [];
  return (name: string): Promise<void> => {
    if (!group.includes(name)) return Promise.resolve();
    arrived.add(name);
    if (arrived.size === group.length) waiting.splice(0).forEach((go) => go());
    return arrived.size === group.length ? Promise.resolve() : new Promise((go) => waiting.push(go));
  };
}

it('a new cluster: evidence reads together, then data Secret, Kubernetes CA and talosconfig together', async () => {
  const ns = 'ns';
  const cluster: Cluster = {
    apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster', metadata: { name: 'c', namespace: ns, uid: 'cluster-uid' },
    spec: { controlPlaneEndpoint: { host: 'c.example.com', port: 6443 } }, status: { initialization: { infrastructureProvisioned: true } },
  };
  const machine: Machine = {
    apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Machine',
    metadata: { name: 'cp', namespace: ns, uid: 'machine-uid', labels: { [CLUSTER_NAME_LABEL]: 'c', [CONTROL_PLANE_LABEL]: '' } },
    spec: { clusterName: 'c', bootstrap: { configRef: { apiGroup: 'bootstrap.cluster.x-k8s.io', kind: 'TalosConfig', name: 'cp' } }, infrastructureRef: { apiGroup: 'x', kind: 'X', name: 'x' } },
  } as Machine;
  const config: TalosConfig = {
    apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1', kind: 'TalosConfig',
    metadata: { name: 'cp', namespace: ns, uid: 'config-uid', generation: 1, resourceVersion: '1', ownerReferences: [{ apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Machine', name: 'cp', uid: 'machine-uid' }] },
    spec: { generateType: 'controlplane', talosVersion: 'v1.6' },
  };

  const evidence = rendezvous(['GET c-ca', 'GET cp-bootstrap-data']);
  const writes = rendezvous(['POST cp-bootstrap-data', 'POST c-ca', 'POST c-talosconfig']);
  const secrets = new Map<string, KubeObject>();
  const client = {
    get: async (_kind: unknown, namespace: string, name: string) => {
      await evidence(`GET ${name}`);
      const found = secrets.get(name);
      if (!found) throw new KubeApiError(404, 'GET', `/api/v1/namespaces/${namespace}/secrets/${name}`, 'NotFound', '');
      return found;
    },
    create: async (_kind: unknown, secret: KubeObject) => {
      await writes(`POST ${secret.metadata.name}`);
      const stored = { ...secret, metadata: { ...secret.metadata, uid: `${secret.metadata.name}-uid`, resourceVersion: '1' } };
      secrets.set(secret.metadata.name!, stored);
      return stored;
    },
    patch: async (_kind: unknown, _ns: string, _name: string, body: Partial<TalosConfig>) => ({ ...config, ...body, metadata: { ...config.metadata, resourceVersion: '2' } }),
  } as unknown as KubeClient;
  const recorder: EventRecorder = { event: () => undefined };
  const reconciler = new TalosConfigReconciler({
    client, recorder,
    readers: { configs: informerOf([config]), clusters: informerOf([cluster]), machines: informerOf([machine]) },
  });

  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('requests sent one after another: the reconcile stalled')), 10_000)));
  try {
    await Promise.race([reconciler.reconcile({ namespace: ns, name: 'cp' }, { log: silentLogger(), signal: new AbortController().signal, controller: 'talosconfig' }), stalled]);
  } finally {
    clearTimeout(timer);
  }
  expect([...secrets.keys()].sort()).toEqual(['c-ca', 'c-talos', 'c-talosconfig', 'cp-bootstrap-data']);
});
