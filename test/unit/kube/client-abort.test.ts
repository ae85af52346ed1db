// A request whose signal is aborted while it waits for a rate-limit token is never sent: a
// reconcile aborted because the lease was lost must not fire its queued writes later.
import { KubeClient } from '../../../src/kube/client/client';
import { accessFor } from '../../../src/kube/client/kubeconfig';
import { RuntimeMetrics } from '../../../src/kube/http/metrics';
import { ConfigMapKind } from '../../../src/kube/client/resource';

function unreachableClient(metrics: RuntimeMetrics): KubeClient {
  return new KubeClient(accessFor({ server: 'http://127.0.0.1:1' }, {}), { qps: 1, burst: 1, metrics });
}

const sent = async (metrics: RuntimeMetrics) => (await metrics.restClientRequests.get()).values.reduce((sum, v) => sum + v.value, 0);

it('sends nothing for a signal aborted while waiting for a token, or aborted before the call', async () => {
  const metrics = new RuntimeMetrics();
  const client = unreachableClient(metrics);
  await expect(client.get(ConfigMapKind, 'ns', 'first')).rejects.toThrow(); // takes the only token; connection refused
  expect(await sent(metrics)).toBe(1);
  const abort = new AbortController();
  const queued = client.create(ConfigMapKind, { metadata: { name: 'late', namespace: 'ns' } }, abort.signal);
  abort.abort();
  await expect(queued).rejects.toMatchObject({ name: 'AbortError' });
  await expect(client.delete(ConfigMapKind, 'ns', 'x', abort.signal)).rejects.toMatchObject({ name: 'AbortError' });
  await new Promise((resolve) => setTimeout(resolve, 1_100)); // a token is free again by now
  expect(await sent(metrics)).toBe(1);
});
