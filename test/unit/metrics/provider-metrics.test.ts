import { createServer } from 'node:net';
import { Registry } from 'prom-client';
import { bootstrapEtcdOnce } from '../../../src/controlplane/etcd';
import { removeControlPlaneMachine } from '../../../src/controlplane/scale-down';
import { removeEtcdMember } from '../../../src/controlplane/etcd-member-removal';
import { talosAddressOf } from '../../../src/controlplane/control-plane';
import {
  PROVIDER_COUNTERS, countBundleCreated, countConfigRender, countEtcdOperation, countRolloutStep, countTalosCall, registerProviderMetrics,
} from '../../../src/metrics/provider-metrics';
import { TalosApiError, TalosClient } from '../../../src/talos/api';
import { makeClientCertificate, makeForeignOsCa } from '../../support/talos-fixtures';
import { machine } from '../controlplane/fixtures';

type CounterName = keyof typeof PROVIDER_COUNTERS;

/** The current value of one series (0 when it does not exist yet). */
async function value(counter: CounterName, labels: Record<string, string>): Promise<number> {
  const { values } = await PROVIDER_COUNTERS[counter].get();
  const found = values.find((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, string | number>)[k] === l));
  return found?.value ?? 0;
}

/** How much one series grew while `work` ran. */
async function growth(counter: CounterName, labels: Record<string, string>, work: () => Promise<unknown>): Promise<number> {
  const before = await value(counter, labels);
  await work();
  return (await value(counter, labels)) - before;
}

const ok = <T>(v: T) => [{ ok: true as const, node: '', value: v }];

describe('provider metrics', () => {
  it('registers every counter under talos_capi_ with its series at 0 before anything happened', async () => {
    const registry = new Registry();
    registerProviderMetrics(registry);
    const metrics = await registry.getMetricsAsJSON();
    expect(metrics.map((m) => m.name).sort()).toEqual([
      'talos_capi_configs_rendered_total', 'talos_capi_controlplane_rollout_steps_total', 'talos_capi_etcd_operations_total',
      'talos_capi_secrets_bundles_created_total', 'talos_capi_talos_api_calls_total',
    ]);
    const text = await registry.metrics();
    expect(text).toContain('talos_capi_etcd_operations_total{operation="leave",result="error"}');
    expect(text).toContain('talos_capi_controlplane_rollout_steps_total{action="removed",reason="rollout"}');
  });

  it('counts renders by result: success, invalid input, other errors; and passes the result or error through', async () => {
    const isInvalid = (error: unknown) => error instanceof RangeError;
    expect(await growth('configsRendered', { result: 'success' }, async () => expect(countConfigRender(() => 'data', isInvalid)).toBe('data'))).toBe(1);
    const invalid = () => countConfigRender(() => { throw new RangeError('bad patch'); }, isInvalid);
    expect(await growth('configsRendered', { result: 'invalid' }, async () => expect(invalid).toThrow('bad patch'))).toBe(1);
    const broken = () => countConfigRender(() => { throw new Error('bug'); }, isInvalid);
    expect(await growth('configsRendered', { result: 'error' }, async () => expect(broken).toThrow('bug'))).toBe(1);
  });

  it('counts secrets bundles created and rollout steps by their labels', async () => {
    expect(await growth('bundlesCreated', { source: 'generated' }, async () => countBundleCreated('generated'))).toBe(1);
    expect(await growth('bundlesCreated', { source: 'restored' }, async () => countBundleCreated('restored'))).toBe(1);
    expect(await growth('rolloutSteps', { action: 'created', reason: 'scale' }, async () => countRolloutStep('created', 'scale'))).toBe(1);
    expect(await growth('rolloutSteps', { action: 'removed', reason: 'rollout' }, async () => countRolloutStep('removed', 'rollout'))).toBe(1);
    expect(await growth('talosApiCalls', { rpc: 'Version', code: 'OK' }, async () => countTalosCall('Version', 'OK'))).toBe(1);
  });

  it('counts an etcd operation once it settles and keeps its value or error', async () => {
    expect(await growth('etcdOperations', { operation: 'leave', result: 'success' }, () => countEtcdOperation('leave', Promise.resolve(7)))).toBe(1);
    const failing = () => expect(countEtcdOperation('leave', Promise.reject(new Error('no quorum')))).rejects.toThrow('no quorum');
    expect(await growth('etcdOperations', { operation: 'leave', result: 'error' }, failing)).toBe(1);
  });

  it('etcd bootstrap: success when Bootstrap ran, already_bootstrapped when a node had data or answered ALREADY_EXISTS', async () => {
    const client = (bootstrap: () => Promise<unknown>, hasData = false) => ({
      // An entry without error: etcd's member directory exists.
      list: async function* () { if (hasData) yield { ok: true, node: '', value: { error: '' } }; },
      bootstrap,
    }) as unknown as TalosClient;
    const bootstrapped = () => bootstrapEtcdOnce(client(async () => ok({})));
    expect(await growth('etcdOperations', { operation: 'bootstrap', result: 'success' }, bootstrapped)).toBe(1);
    const raced = () => bootstrapEtcdOnce(client(async () => { throw new TalosApiError(6, 'etcd data directory is not empty', { method: 'Bootstrap' }); }));
    expect(await growth('etcdOperations', { operation: 'bootstrap', result: 'already_bootstrapped' }, raced)).toBe(1);
    const found = () => bootstrapEtcdOnce(client(async () => ok({}), true));
    expect(await growth('etcdOperations', { operation: 'bootstrap', result: 'already_bootstrapped' }, found)).toBe(1);
  });

  it('scale-down counts the victim\'s forfeit of leadership; its hook counts the leave', async () => {
    const healthy = [{ id: 'etcd', state: 'Running', health: { unknown: false, healthy: true, lastMessage: '' }, events: [] }];
    const talos = { serviceList: async () => ok(healthy), etcdForfeitLeadership: async () => ok({ member: '' }), etcdLeaveCluster: async () => ok({}) } as unknown as TalosClient;
    const remove = () => removeControlPlaneMachine({
      victim: machine('a', { address: '10.0.0.1', node: true }), others: [machine('b', { address: '10.0.0.2', node: true })],
      signal: new AbortController().signal, talosAt: async (_address, _role, call) => call(talos),
      addressOf: talosAddressOf, deleteMachine: async () => undefined,
    });
    const leave = () => removeEtcdMember({
      victim: machine('a', { address: '10.0.0.1', node: true }), others: [machine('b', { address: '10.0.0.2', node: true })], isHealthy: () => true,
      signal: new AbortController().signal, talosAt: async (_address, _role, call) => call(talos), addressOf: talosAddressOf,
    });
    const before = [await value('etcdOperations', { operation: 'forfeit_leadership', result: 'success' }), await value('etcdOperations', { operation: 'leave', result: 'success' })];
    await remove();
    const between = [await value('etcdOperations', { operation: 'forfeit_leadership', result: 'success' }), await value('etcdOperations', { operation: 'leave', result: 'success' })];
    await leave();
    const after = [await value('etcdOperations', { operation: 'forfeit_leadership', result: 'success' }), await value('etcdOperations', { operation: 'leave', result: 'success' })];
    expect(between.map((v, i) => v - before[i]!)).toEqual([1, 0]);
    expect(after.map((v, i) => v - between[i]!)).toEqual([1, 1]);
  });

  it('remediation counts a dead victim\'s member removed through a peer', async () => {
    const peer = { etcdMemberList: async () => ok({ members: [{ id: '7', hostname: 'a', peerUrls: [], clientUrls: [], isLearner: false }], legacyMembers: [] }), etcdRemoveMemberByID: async () => ok({}) } as unknown as TalosClient;
    const remediate = () => removeEtcdMember({
      victim: machine('a', { address: '10.0.0.1', node: true }), others: [machine('b', { address: '10.0.0.2', node: true })], isHealthy: () => true,
      signal: new AbortController().signal, addressOf: talosAddressOf,
      talosAt: async (address, _role, call) => {
        if (address === '10.0.0.1') throw new Error('connect ECONNREFUSED');
        return call(peer);
      },
    });
    expect(await growth('etcdOperations', { operation: 'remove_member', result: 'success' }, remediate)).toBe(1);
  });

  it('the Talos client counts each call attempt by RPC and gRPC code', async () => {
    // A port that refuses connections: Bootstrap is sent once and fails UNAVAILABLE.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as { port: number };
        server.close(() => resolve(free));
      });
    });
    const ca = await makeForeignOsCa();
    const cert = await makeClientCertificate(ca);
    const talos = new TalosClient({ caPem: ca.crt, certPem: cert.crt, keyPem: cert.key, endpoints: [`127.0.0.1:${port}`], defaultTimeoutMs: 5_000 });
    try {
      const call = () => expect(talos.bootstrap()).rejects.toMatchObject({ codeName: 'UNAVAILABLE' });
      expect(await growth('talosApiCalls', { rpc: 'Bootstrap', code: 'UNAVAILABLE' }, call)).toBe(1);
    } finally {
      talos.close();
    }
  });
});
