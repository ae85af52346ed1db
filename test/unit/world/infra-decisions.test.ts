// Pure decisions of the simulated infrastructure provider: node state → SimMachine status, when
// a kubelet runs, which control-plane endpoint a new cluster gets, and what it reads from configs.
import { X509Certificate } from 'node:crypto';
import { makeClusterFixture } from '../../support/talos-fixtures';
import type { SimNode } from '../../support/talos-sim';
import { allocateEndpoint, ENDPOINT_PORT, endpointPrefix, hasEndpoint } from '../../world/infra/endpoint';
import { DEFAULT_KUBELET_VERSION, isControlPlaneConfig, kubeletVersionOf, kubernetesCaOf } from '../../world/infra/machine-config';
import { kubeletPlan, nodeIdFor, observeNode, providerIdFor } from '../../world/infra/machine-status';

const node = (overrides: Partial<SimNode>): SimNode => ({
  id: 'ns.m', address: '127.0.0.7:50000', host: '127.0.0.7', port: 50000, state: 'running', hostname: 'm', mode: 'metal',
  bootCount: 1, faults: {}, etcdData: false, ...overrides,
});

describe('observeNode', () => {
  test('a running node is provisioned and Ready, with its loopback address and hostname', () => {
    expect(observeNode(node({}), false)).toEqual({
      provisioned: true,
      nodeState: 'running',
      addresses: [{ type: 'InternalIP', address: '127.0.0.7' }, { type: 'Hostname', address: 'm' }],
      ready: { status: 'True', reason: 'NodeRunning', message: '' },
    });
  });

  test('a rejected config is BootFailed with Talos\'s message and never provisioned', () => {
    const observed = observeNode(node({ state: 'failed', bootError: 'failed to load config: unknown keys found during decoding' }), false);
    expect(observed).toMatchObject({
      provisioned: false,
      nodeState: 'failed',
      bootError: 'failed to load config: unknown keys found during decoding',
      ready: { status: 'False', reason: 'BootFailed', message: 'failed to load config: unknown keys found during decoding' },
    });
  });

  test('a booting worker waits for trustd and is not provisioned yet', () => {
    expect(observeNode(node({ state: 'booting', waiting: 'trustd: no control plane' }), false)).toMatchObject({
      provisioned: false,
      ready: { status: 'False', reason: 'NodeBooting', message: 'waiting for trustd: no control plane' },
    });
  });

  test('provisioned stays true once the node ran: a stopped node is only not Ready', () => {
    expect(observeNode(node({ state: 'stopped' }), true)).toMatchObject({
      provisioned: true, nodeState: 'stopped', ready: { status: 'False', reason: 'NodeStopped' },
    });
    expect(observeNode(node({ state: 'rebooting' }), true).ready.reason).toBe('NodeRebooting');
  });

  test('no node: waiting before the boot, missing after it', () => {
    expect(observeNode(undefined, false)).toMatchObject({ provisioned: false, ready: { reason: 'WaitingForNode' } });
    expect(observeNode(undefined, true)).toMatchObject({ provisioned: true, ready: { reason: 'NodeMissing' } });
  });
});

describe('kubeletPlan', () => {
  const server = 'https://127.0.100.1:6443';
  test.each([
    [true, server, undefined, 'start'],
    [true, server, server, 'keep'],
    [true, server, 'https://127.0.100.1:6443/old', 'start'],
    [false, server, server, 'stop'],
    [true, undefined, server, 'stop'],
    [false, server, undefined, 'none'],
    [true, undefined, undefined, 'none'],
  ] as const)('node running %s, workload %s, kubelet for %s → %s', (running, workload, current, plan) => {
    expect(kubeletPlan(running, workload, current)).toBe(plan);
  });
});

test('node and provider IDs carry namespace and name', () => {
  expect(nodeIdFor('team-a', 'cp-0')).toBe('team-a.cp-0');
  expect(providerIdFor('team-a', 'cp-0')).toBe('sim://team-a/cp-0');
});

describe('allocateEndpoint', () => {
  test('the first address of 127.0.100.0/24 no cluster holds and nothing listens on, port 6443', async () => {
    const busy = new Set(['127.0.100.2']);
    const endpoint = await allocateEndpoint(new Set(['127.0.100.1']), async (host) => !busy.has(host), '127.0.100.');
    expect(endpoint).toEqual({ host: '127.0.100.3', port: ENDPOINT_PORT });
  });

  test('each provider process takes a /24 of its own in 127.0.100–199.x', () => {
    expect(endpointPrefix(() => 0)).toBe('127.0.100.');
    expect(endpointPrefix(() => 0.999)).toBe('127.0.199.');
  });

  test('a full range is an error', async () => {
    await expect(allocateEndpoint(new Set(), async () => false)).rejects.toThrow(/no free control-plane endpoint/);
  });

  test('binding really tells: an address something listens on is skipped', async () => {
    // A /24 no world takes (their endpoints are in 127.0.100–199.x, their nodes in 127.1–99.x.x);
    // the test listens on the first address of it it can bind itself, so whatever else listens on
    // the machine (another run of this test) cannot make it fail.
    const prefix = '127.0.231.';
    const { createServer } = await import('node:net');
    const server = createServer();
    const listenOn = (host: string) => new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(ENDPOINT_PORT, host, () => resolve(true));
    });
    const hosts = Array.from({ length: 254 }, (_, i) => `${prefix}${i + 1}`);
    let held = -1;
    for (let i = 0; i < hosts.length && held < 0; i++) if (await listenOn(hosts[i]!)) held = i;
    expect(held).toBeGreaterThanOrEqual(0);
    try {
      const endpoint = await allocateEndpoint(new Set(hosts.slice(0, held)), undefined, prefix);
      expect(hosts.indexOf(endpoint.host)).toBeGreaterThan(held);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('an endpoint needs host and port', () => {
    expect(hasEndpoint({ host: '127.0.100.1', port: 6443 })).toBe(true);
    expect(hasEndpoint({ host: '', port: 0 })).toBe(false);
    expect(hasEndpoint(undefined)).toBe(false);
  });
});

describe('machine config facts', () => {
  test.each(['v1.13', 'v1.14'])('%s: Kubernetes CA of a control-plane config, kubelet version, machine type', async (talosVersion) => {
    const fixture = await makeClusterFixture('facts', talosVersion);
    const controlPlane = fixture.machineConfig('controlplane', 'cp');
    const worker = fixture.machineConfig('worker', 'w');
    const ca = kubernetesCaOf(controlPlane);
    expect(ca?.certPem).toBe(fixture.bundle.certs.k8s!.crt);
    expect(new X509Certificate(ca!.certPem).ca).toBe(true);
    expect(ca?.keyPem).toContain('PRIVATE KEY');
    expect(kubernetesCaOf(worker)).toBeUndefined();
    expect(kubeletVersionOf(controlPlane)).toBe('v1.34.1');
    expect(isControlPlaneConfig(controlPlane)).toBe(true);
    expect(isControlPlaneConfig(worker)).toBe(false);
  });

  test('init is a control-plane type; a config without kubelet image gets the default version', () => {
    expect(isControlPlaneConfig('version: v1alpha1\nmachine:\n  type: init\n')).toBe(true);
    expect(kubeletVersionOf('version: v1alpha1\nmachine:\n  type: worker\n')).toBe(DEFAULT_KUBELET_VERSION);
    expect(kubeletVersionOf('machine:\n  kubelet:\n    image: reg.local:5000/kubelet:v1.33.2\n')).toBe('v1.33.2');
  });
});
