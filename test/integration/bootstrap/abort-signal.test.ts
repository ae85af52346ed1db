// Every request a reconcile makes carries its AbortSignal, so that losing the
// lease or shutting down stops the provider's writes at once. The controller
// runs over a client that notes each get/create/replace/patch/delete made
// without one (Events excepted: the recorder sends them on its own).
import { KubeClient } from '../../../src/kube/client/client';
import type { ResourceKind } from '../../../src/kube/client/resource';
import { Manager } from '../../../src/kube/manager/manager';
import { setupBootstrapController } from '../../../src/bootstrap/controller';
import { createCluster, createMachine, createNamespace, createTalosConfig, setMachineAddresses, testClient, waitForBootstrapData, eventually } from '../../support/capi-fixtures';

jest.setTimeout(120_000);

const unsignalled: string[] = [];

/** Wraps the client's one-object calls, noting those with no AbortSignal among their arguments. */
function recordingClient(client: KubeClient): KubeClient {
  const signalIn = (args: unknown[]) =>
    args.some((arg) => arg instanceof AbortSignal || (typeof arg === 'object' && arg !== null && (arg as { signal?: unknown }).signal instanceof AbortSignal));
  return new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || !['get', 'create', 'replace', 'patch', 'delete'].includes(String(property))) {
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return (kind: ResourceKind, ...rest: unknown[]) => {
        if (!/Event$/.test(kind.kind) && !signalIn(rest)) unsignalled.push(`${String(property)} ${kind.kind}`);
        return (value as (...args: unknown[]) => unknown).call(target, kind, ...rest);
      };
    },
  });
}

let manager: Manager;

beforeAll(async () => {
  manager = new Manager({ client: recordingClient(testClient()), healthAddr: '', metricsAddr: '', defaultConcurrency: 4 });
  setupBootstrapController(manager);
  await manager.start();
});

afterAll(async () => {
  await manager?.stop();
});

test('generating, the talosconfig and its endpoint change: no request without the reconcile signal', async () => {
  const client = testClient();
  const ns = await createNamespace(client, 'signal');
  const cluster = await createCluster(client, ns, 'c');
  const cp = await createMachine(client, cluster, 'cp', { controlPlane: true });
  const worker = await createMachine(client, cluster, 'w');
  await createTalosConfig(client, cp, { generateType: 'controlplane', talosVersion: 'v1.6' });
  await createTalosConfig(client, worker, { generateType: 'worker', talosVersion: 'v1.6' });
  await Promise.all([waitForBootstrapData(client, ns, 'cp'), waitForBootstrapData(client, ns, 'w')]);
  await setMachineAddresses(client, cp, [{ type: 'InternalIP', address: '10.0.0.5' }]);
  await eventually('the talosconfig to list the new endpoint', async () => {
    const secret = await client.get<{ metadata: object; data?: Record<string, string> }>(
      { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true }, ns, 'c-talosconfig',
    );
    return Buffer.from(secret.data?.talosconfig ?? '', 'base64').toString().includes('10.0.0.5');
  });
  expect(unsignalled).toEqual([]);
});
