// Requests to a server that stalls end with a timeout error (before the head, or midway through
// the body), and a request that completes leaves no timer behind.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeClient } from '../../../../src/kube/client/client';
import { accessFor } from '../../../../src/kube/client/kubeconfig';
import { ConfigMapKind } from '../../../../src/kube/client/resource';

let server: Server;
let client: KubeClient;
const stalled: ServerResponse[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url?.includes('/configmaps/silent')) return void stalled.push(res);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    if (req.url?.includes('/configmaps/half')) {
      res.write('{"metadata":');
      return void stalled.push(res);
    }
    res.end('{"metadata":{"name":"ok"}}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = new KubeClient(accessFor({ server: `http://127.0.0.1:${port}` }, {}), { qps: 100, burst: 100, requestTimeoutMs: 300 });
});

afterAll(async () => {
  for (const res of stalled) res.destroy();
  await new Promise((resolve) => server.close(resolve));
});

// First, so that no timer left by the stalled requests below can expire during it and hide a leak;
// counted over a second request, as the first one settles the HTTP client's own timers.
it('returns a complete response and leaves no timer running', async () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  await client.get(ConfigMapKind, 'ns', 'ok');
  const before = timers();
  await expect(client.get(ConfigMapKind, 'ns', 'ok')).resolves.toEqual({ metadata: { name: 'ok' } });
  expect(timers()).toBe(before);
});

it('gives up on a server that never answers, and on one that stops halfway through the body', async () => {
  const started = Date.now();
  await expect(client.get(ConfigMapKind, 'ns', 'silent')).rejects.toMatchObject({ name: 'TimeoutError' });
  await expect(client.get(ConfigMapKind, 'ns', 'half')).rejects.toMatchObject({ name: 'TimeoutError' });
  expect(Date.now() - started).toBeGreaterThanOrEqual(600);
});
