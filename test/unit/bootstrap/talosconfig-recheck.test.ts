// The control-plane configs of a cluster reconciling together read its talosconfig Secret once:
// a Secret of ours seen (read or written) moments ago is not read again, unless its certificate is
// due or the endpoints changed; after the recheck interval it is read again.
import type { KubeClient } from '../../../src/kube/client/client';
import { KubeApiError } from '../../../src/kube/client/api-error';
import { SecretKind } from '../../../src/kube/client/resource';
import type { Cluster } from '../../../src/api/capi/v1beta2/types';
import { IssuedCertificates, reconcileTalosconfig, TALOSCONFIG_RECHECK_MS } from '../../../src/bootstrap/client-config';
import { generateSecretsBundle, parseContract, type SecretsBundle } from '../../../src/talos/config';
import type { SecretObject } from '../../../src/cluster/secrets';

const cluster: Cluster = { apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster', metadata: { name: 'c', namespace: 'ns', uid: 'cluster-uid' }, spec: {} };

/** An API server holding at most the one talosconfig Secret; counts what it was asked. */
function server() {
  let stored: SecretObject | undefined;
  let version = 0;
  const calls: string[] = [];
  const notFound = () => new KubeApiError(404, 'GET', '/api/v1/namespaces/ns/secrets/c-talosconfig', 'NotFound', '');
  const client = {
    get: async () => {
      calls.push('GET');
      if (!stored) throw notFound();
      return stored;
    },
    create: async (_kind: unknown, secret: SecretObject) => {
      calls.push('POST');
      stored = { ...secret, metadata: { ...secret.metadata, uid: 'secret-uid', resourceVersion: String(++version) } };
      return stored;
    },
    replace: async (_kind: unknown, secret: SecretObject) => {
      calls.push('PUT');
      stored = { ...secret, metadata: { ...secret.metadata, resourceVersion: String(++version) } };
      return stored;
    },
  } as unknown as KubeClient;
  return { client, calls };
}

let bundle: SecretsBundle;
beforeAll(async () => {
  bundle = await generateSecretsBundle({ contract: parseContract('v1.6') });
});

it('reads a Secret of ours once while it is fresh, again after the recheck interval or for new endpoints', async () => {
  const { client, calls } = server();
  const issued = new IssuedCertificates();
  const t0 = new Date('2026-03-01T00:00:00Z');
  const at = (ms: number) => new Date(t0.getTime() + ms);

  expect((await reconcileTalosconfig(client, cluster, bundle, ['10.0.0.1'], t0, issued)).outcome).toBe('created');
  expect(calls).toEqual(['GET', 'POST']);
  // The other control-plane configs of the cluster, moments later: nothing is read.
  expect((await reconcileTalosconfig(client, cluster, bundle, ['10.0.0.1'], at(100), issued)).outcome).toBe('unchanged');
  expect((await reconcileTalosconfig(client, cluster, bundle, ['10.0.0.1'], at(TALOSCONFIG_RECHECK_MS - 1), issued)).outcome).toBe('unchanged');
  expect(calls).toEqual(['GET', 'POST']);
  // Past the interval it is read again (someone may have deleted or replaced it).
  expect((await reconcileTalosconfig(client, cluster, bundle, ['10.0.0.1'], at(TALOSCONFIG_RECHECK_MS), issued)).outcome).toBe('unchanged');
  expect(calls).toEqual(['GET', 'POST', 'GET']);
  // New endpoints are never answered from memory.
  expect((await reconcileTalosconfig(client, cluster, bundle, ['10.0.0.1', '10.0.0.2'], at(TALOSCONFIG_RECHECK_MS + 1), issued)).outcome).toBe('renewed');
  expect(calls).toEqual(['GET', 'POST', 'GET', 'GET', 'PUT']);
});

it('does not trust a Secret it may not write', async () => {
  const { client, calls } = server();
  const issued = new IssuedCertificates();
  const now = new Date('2026-03-01T00:00:00Z');
  await reconcileTalosconfig(client, cluster, bundle, [], now, issued);
  const stranger = await client.get<SecretObject>(SecretKind, 'ns', 'c-talosconfig');
  stranger.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'other', controller: true }];
  stranger.metadata.resourceVersion = 'foreign';
  issued.forget('cluster-uid');
  await expect(reconcileTalosconfig(client, cluster, bundle, [], now, issued)).rejects.toThrow(/not ours to write/);
  await expect(reconcileTalosconfig(client, cluster, bundle, [], now, issued)).rejects.toThrow(/not ours to write/);
  expect(calls.filter((c) => c === 'GET')).toHaveLength(4);
});
