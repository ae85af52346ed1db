import { createServer, type AddressInfo, type Socket } from 'node:net';
// Our machine API client against the Talos node simulator (official Talos stubs
// on the server side, so every call also checks our protos against Talos's).
// Certificates, configs and talosconfigs come from our own config engine.
// The tests in this file run in order and share one cluster: bootstrap comes
// before the etcd tests, membership changes come last.
import { connect as tlsConnect } from 'node:tls';
import { status } from '@grpc/grpc-js';
import {
  collect,
  failures,
  TalosClient,
  unwrapAll,
  unwrapSingle,
  type NodeResult,
  type TalosEvent,
} from '../../src/talos/api';
import {
  makeClientCertificate,
  makeClusterFixture,
  makeForeignOsCa,
  talosconfigYaml,
  type ClusterFixture,
} from '../support/talos-fixtures';
import { rejection } from '../support/talos-errors';
import { SIM_BUILD_TIMEOUT_MS, TalosSim, type SimNode } from '../support/talos-sim';

let sim: TalosSim;
let cluster: ClusterFixture;
let cp1: SimNode;
let cp2: SimNode;
let cp3: SimNode;
let worker: SimNode;
const clients: TalosClient[] = [];

/** A client whose single endpoint is `node`, from an admin (or other role) talosconfig of the cluster. */
async function clientFor(node: SimNode, roles?: Parameters<ClusterFixture['talosconfig']>[1]): Promise<TalosClient> {
  const client = TalosClient.fromTalosconfig(await cluster.talosconfig([node.address], roles));
  clients.push(client);
  return client;
}

function track(client: TalosClient): TalosClient {
  clients.push(client);
  return client;
}

const single = <T>(results: NodeResult<T>[]): T => unwrapSingle(results, 'test');

beforeAll(async () => {
  [sim, cluster] = await Promise.all([TalosSim.start(), makeClusterFixture('api-client')]);
  const boot = (id: string, type: 'controlplane' | 'worker'): Promise<SimNode> =>
    sim.bootNode(cluster.machineConfig(type, `api-${id}`), { id });
  [cp1, cp2, cp3] = await Promise.all([boot('cp-1', 'controlplane'), boot('cp-2', 'controlplane'), boot('cp-3', 'controlplane')]);
  for (const node of [cp1, cp2, cp3]) expect(node).toMatchObject({ state: 'running' });
}, SIM_BUILD_TIMEOUT_MS);

afterAll(async () => {
  for (const client of clients) client.close();
  await sim?.shutdown();
});

describe('reads on one node (no target: the endpoint answers for itself)', () => {
  test('Version reports what the node runs, labelled with the endpoint host', async () => {
    const client = await clientFor(cp1);
    const results = await client.version();
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ node: '127.0.0.1', ok: true });
    const version = single(results);
    expect(version.tag).toBe((await sim.inspect('cp-1')).version);
    expect(version.platform?.mode).toBeTruthy();
  });

  test('ServiceList returns every service with state and health, as the node sees them', async () => {
    const services = single(await (await clientFor(cp1)).serviceList());
    const seen = await sim.inspect('cp-1');
    expect(services.map((s) => s.id).sort()).toEqual((seen.services ?? []).map((s) => s.id).sort());
    const etcd = services.find((s) => s.id === 'etcd');
    expect(etcd?.state).toBe(seen.services?.find((s) => s.id === 'etcd')?.state);
    const apid = services.find((s) => s.id === 'apid');
    expect(apid).toMatchObject({ state: 'Running', health: { healthy: true } });
    expect(apid?.events.length).toBeGreaterThan(0);
    expect(apid?.events[0]?.ts).toBeInstanceOf(Date);
  });

  test('EtcdMemberList before bootstrap fails as a whole with UNAVAILABLE (after its retries)', async () => {
    const client = await clientFor(cp1);
    const error = await rejection(client.etcdMemberList({}, { timeoutMs: 5000 }));
    expect(error.code).toBe(status.UNAVAILABLE);
    expect(error.method).toBe('EtcdMemberList');
  });
});

describe('Bootstrap and RBAC', () => {
  test('an os:reader certificate may read but not Bootstrap', async () => {
    const reader = await clientFor(cp1, ['os:reader']);
    expect(reader.identity.roles).toEqual(['os:reader']);
    expect(single(await reader.version()).tag).toBeTruthy();
    const error = await rejection(reader.bootstrap());
    expect(error.code).toBe(status.PERMISSION_DENIED);
    expect((await sim.inspect('cp-1')).etcd?.bootstrapped).toBe(false);
  });

  test('Bootstrap succeeds once; the second answers ALREADY_EXISTS', async () => {
    const client = await clientFor(cp1);
    expect(await client.bootstrap()).toEqual([{ node: '127.0.0.1', ok: true, value: {} }]);
    expect((await sim.inspect('cp-1')).etcd?.bootstrapped).toBe(true);
    const again = await rejection(client.bootstrap());
    expect(again.code).toBe(status.ALREADY_EXISTS);
    expect(again.codeName).toBe('ALREADY_EXISTS');
  });
});

describe('etcd', () => {
  test('EtcdMemberList IDs equal the simulator\'s 64-bit IDs digit for digit', async () => {
    const etcd = (await sim.waitFor('cp-1', (n) => (n.etcd?.members.length ?? 0) === 3)).etcd!;
    const list = single(await (await clientFor(cp1)).etcdMemberList());
    const byHost = (members: { id: string; hostname: string }[]): string[] => members.map((m) => `${m.hostname}=${m.id}`).sort();
    expect(byHost(list.members)).toEqual(byHost(etcd.members));
    // Random 64-bit IDs are above 2^53 (where a JS number would round) with overwhelming likelihood.
    expect(list.members.some((m) => BigInt(m.id) > BigInt(Number.MAX_SAFE_INTEGER))).toBe(true);
    expect(list.members[0]?.peerUrls.length).toBeGreaterThan(0);
  });

  test('EtcdStatus reports the local member and the leader by exact ID', async () => {
    const seen = await sim.inspect('cp-2');
    const memberStatus = single(await (await clientFor(cp2)).etcdStatus());
    expect(memberStatus.memberId).toBe(seen.etcdMemberId);
    expect(memberStatus.leader).toBe(seen.etcd?.leader);
    expect(typeof memberStatus.dbSize).toBe('bigint');
  });

  test('EtcdForfeitLeadership on the leader moves leadership to another member', async () => {
    const before = (await sim.inspect('cp-1')).etcd!;
    const leaderNode = before.members.find((m) => m.id === before.leader)!;
    const result = single(await (await clientFor(cp1)).etcdForfeitLeadership({ target: { node: leaderNode.nodeId } }));
    const after = (await sim.inspect('cp-1')).etcd!;
    expect(after.leader).not.toBe(before.leader);
    expect(result.member).toBe(after.members.find((m) => m.id === after.leader)?.hostname);
  });

  test('List streams the etcd data directory after bootstrap', async () => {
    const files = unwrapAll(await collect((await clientFor(cp1)).list({ root: '/var/lib/etcd' })));
    const member = files.find((f) => f.name === '/var/lib/etcd/member');
    expect(member).toMatchObject({ isDir: true });
    expect(member?.modified).toBeInstanceOf(Date);
  });

  test('Kubeconfig returns the admin kubeconfig unpacked from the node\'s archive', async () => {
    const kubeconfig = single(await (await clientFor(cp1)).kubeconfig());
    expect(kubeconfig).toContain('kind: Config');
    expect(kubeconfig).toContain('api-client');
  });
});

describe('node targeting', () => {
  test('node: apid proxies one-to-one; the reply is labelled with the target', async () => {
    const client = await clientFor(cp1);
    const results = await client.version({ target: { node: cp2.address } });
    expect(results).toEqual([{ node: cp2.address, ok: true, value: expect.objectContaining({ tag: expect.any(String) }) }]);
    const status2 = single(await client.etcdStatus({ target: { node: cp2.address } }));
    expect(status2.memberId).toBe((await sim.inspect('cp-2')).etcdMemberId);
  });

  test('node: a failing target fails the whole call', async () => {
    const error = await rejection((await clientFor(cp1)).version({ target: { node: '10.9.9.9' }, timeoutMs: 5000 }));
    expect(error.node).toBe('10.9.9.9');
    expect(error.code).not.toBe(status.OK);
  });

  test('nodes: fan-out gives one result per node, in order', async () => {
    const targets = [cp1.address, cp2.address, cp3.address];
    const results = await (await clientFor(cp1)).version({ target: { nodes: targets } });
    expect(results.map((r) => [r.node, r.ok])).toEqual(targets.map((t) => [t, true]));
  });

  test('nodes: a node failing with an error is a failed result with its gRPC code; the others still answer', async () => {
    await sim.setFault('cp-3', { rpcErrors: { ServiceList: { code: 'FailedPrecondition', message: 'disk on fire' } } });
    try {
      const results = await (await clientFor(cp1)).serviceList({ target: { nodes: [cp1.address, cp2.address, cp3.address] } });
      expect(results.map((r) => r.ok)).toEqual([true, true, false]);
      const [failure] = failures(results);
      expect(failure).toMatchObject({ node: cp3.address, code: status.FAILED_PRECONDITION, method: 'ServiceList' });
      expect(failure?.details).toContain('disk on fire');
      expect(() => unwrapAll(results)).toThrow(failure!.message);
    } finally {
      await sim.clearFaults('cp-3');
    }
  });

  test('nodes: an unreachable node is a failed UNAVAILABLE result, not a failed call', async () => {
    await sim.setFault('cp-3', { unreachable: true });
    try {
      const results = await (await clientFor(cp1)).etcdMemberList({}, { target: { nodes: [cp2.address, cp3.address] } });
      expect(results[0]).toMatchObject({ node: cp2.address, ok: true });
      expect(results[1]).toMatchObject({ node: cp3.address, ok: false, error: { code: status.UNAVAILABLE } });
    } finally {
      await sim.clearFaults('cp-3');
    }
  });

  test('nodes: stream messages are labelled per node', async () => {
    const results = await collect((await clientFor(cp1)).list({ root: '/var/lib/etcd' }, { target: { nodes: [cp1.address, cp2.address] } }));
    expect(new Set(results.map((r) => r.node))).toEqual(new Set([cp1.address, cp2.address]));
    expect(results.every((r) => r.ok)).toBe(true);
  });
});

describe('deadlines and retries', () => {
  test('a deadline that runs out while connecting is DEADLINE_EXCEEDED, not retried', async () => {
    // Accepts TCP, never answers the TLS handshake.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    // The client's own deadline is far longer: ending well before it shows the call's deadline ruled.
    const client = TalosClient.fromTalosconfig(await cluster.talosconfig([`127.0.0.1:${port}`]), { defaultTimeoutMs: 30_000 });
    try {
      const started = Date.now();
      const error = await rejection(client.version({ timeoutMs: 300 }));
      expect(error.code).toBe(status.DEADLINE_EXCEEDED);
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      client.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('a per-call deadline ends a slow call with DEADLINE_EXCEEDED', async () => {
    // Connect first: on a loaded machine the TLS handshake alone can outlast a 300 ms deadline.
    const client = await clientFor(cp2);
    await client.version();
    await sim.setFault('cp-2', { latencyMs: 3000 });
    try {
      // Without the deadline the call would succeed after the 3 s latency.
      const error = await rejection(client.version({ timeoutMs: 300 }));
      expect(error.code).toBe(status.DEADLINE_EXCEEDED);
    } finally {
      await sim.clearFaults('cp-2');
    }
  });

  test('a read is retried on UNAVAILABLE', async () => {
    await sim.setFault('cp-2', { rpcErrors: { ServiceList: { code: 'Unavailable', times: 2 } } });
    try {
      expect(single(await (await clientFor(cp2)).serviceList()).length).toBeGreaterThan(0);
    } finally {
      await sim.clearFaults('cp-2');
    }
  });

  test('a mutation is sent once: UNAVAILABLE is returned, not retried', async () => {
    // Two injected failures: if the first call retried, it would use both and the second call would reboot.
    await sim.setFault('cp-2', { rpcErrors: { Reboot: { code: 'Unavailable', times: 2 } } });
    try {
      const client = await clientFor(cp2);
      expect((await rejection(client.reboot())).code).toBe(status.UNAVAILABLE);
      expect((await rejection(client.reboot())).code).toBe(status.UNAVAILABLE);
      expect((await sim.inspect('cp-2')).bootCount).toBe(1);
    } finally {
      await sim.clearFaults('cp-2');
    }
  });

  test('an endpoint that cannot be reached is skipped before anything is sent, for mutations too', async () => {
    await sim.setFault('cp-3', { unreachable: true });
    try {
      const config = await cluster.talosconfig([cp3.address, cp2.address]);
      const client = track(TalosClient.fromTalosconfig(config));
      expect(client.endpoints).toEqual([cp3.address, cp2.address]);
      expect(single(await client.etcdForfeitLeadership())).toEqual({ member: expect.any(String) });
      expect(single(await client.version()).tag).toBeTruthy();
    } finally {
      await sim.clearFaults('cp-3');
    }
  });

  test('with no reachable endpoint a call fails with UNAVAILABLE and the transport\'s reason', async () => {
    await sim.setFault('cp-3', { unreachable: true });
    try {
      const error = await rejection((await clientFor(cp3)).version({ timeoutMs: 5000 }));
      expect(error.code).toBe(status.UNAVAILABLE);
      expect(error.details).toMatch(/ECONNREFUSED|connection refused/i);
      expect(error.endpoint).toBe(cp3.address);
    } finally {
      await sim.clearFaults('cp-3');
    }
  });
});

describe('TLS', () => {
  const clientWith = (parts: { caPem: string; certPem: string; keyPem: string }, endpoint = cp1.address): TalosClient =>
    track(TalosClient.fromTalosconfig(talosconfigYaml({ contextName: 'c', endpoints: [endpoint], ...parts }), { defaultTimeoutMs: 5000 }));

  test('a server certificate from another CA is refused by the client', async () => {
    const foreign = await makeForeignOsCa();
    const admin = await makeClientCertificate(cluster.osCa);
    const error = await rejection(clientWith({ caPem: foreign.crt, certPem: admin.crt, keyPem: admin.key }).version());
    expect(error.code).toBe(status.UNAVAILABLE);
    expect(error.details).toMatch(/certificate/i);
  });

  test('a client certificate from another CA is refused by the node', async () => {
    const foreign = await makeForeignOsCa();
    const stranger = await makeClientCertificate(foreign);
    const error = await rejection(clientWith({ caPem: cluster.osCa.crt, certPem: stranger.crt, keyPem: stranger.key }).version());
    expect(error.code).toBe(status.UNAVAILABLE);
  });

  test('an expired client certificate is refused, and the error says it expired', async () => {
    const expired = await makeClientCertificate(cluster.osCa, {
      notBefore: new Date(Date.now() - 48 * 3_600_000),
      notAfter: new Date(Date.now() - 24 * 3_600_000),
    });
    // A retry would first wait the 30 s backoff this client is given: ending sooner means none was made.
    const client = track(TalosClient.fromTalosconfig(
      talosconfigYaml({ contextName: 'c', endpoints: [cp1.address], caPem: cluster.osCa.crt, certPem: expired.crt, keyPem: expired.key }),
      { defaultTimeoutMs: 45_000, retry: { maxAttempts: 2, initialBackoffMs: 30_000, maxBackoffMs: 30_000 } },
    ));
    const started = Date.now();
    const error = await rejection(client.version());
    expect(error.code).toBe(status.UNAVAILABLE);
    expect(error.details).toContain('client certificate expired at');
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  test('the endpoint host must be in the server certificate; serverName or verifyServerName:false relax that', async () => {
    const config = await cluster.talosconfig([`localhost:${cp1.port}`]);
    const strict = track(TalosClient.fromTalosconfig(config, { defaultTimeoutMs: 5000 }));
    const error = await rejection(strict.version());
    expect(error.code).toBe(status.UNAVAILABLE);
    expect(error.details).toMatch(/localhost/);

    const named = track(TalosClient.fromTalosconfig(config, { serverName: '127.0.0.1' }));
    expect(single(await named.version()).tag).toBeTruthy();
    const chainOnly = track(TalosClient.fromTalosconfig(config, { verifyServerName: false }));
    expect(single(await chainOnly.version()).tag).toBeTruthy();
  });

  test('a node that negotiates no ALPN (Talos < 1.9) is served', async () => {
    const legacy = await TalosSim.start({ noAlpn: true });
    try {
      const node = await legacy.bootNode(cluster.machineConfig('controlplane', 'api-legacy'), { id: 'legacy' });
      const negotiated = await new Promise<string | false>((resolve, reject) => {
        const socket = tlsConnect({ host: node.host, port: node.port, ALPNProtocols: ['h2'], rejectUnauthorized: false }, () => {
          resolve(socket.alpnProtocol ?? false);
          socket.destroy();
        });
        socket.once('error', reject);
      });
      expect(negotiated).toBe(false);
      const client = await clientFor(node);
      expect(single(await client.version()).tag).toBe(node.version);
    } finally {
      await legacy.shutdown();
    }
  });
});

describe('changing a node', () => {
  beforeAll(async () => {
    worker = await sim.bootNode(cluster.machineConfig('worker', 'api-w-1'), { id: 'w-1' });
    worker = await sim.waitFor('w-1', (n) => n.state === 'running');
  });

  test('ApplyConfiguration: a dry run reports and changes nothing; a bad config is INVALID_ARGUMENT; a good one applies', async () => {
    const client = await clientFor(worker);
    const before = (await sim.inspect('w-1')).appliedConfig;
    const changed = cluster.machineConfig('worker', 'api-w-1').replace('machine:\n', 'machine:\n    nodeLabels:\n        tier: test\n');
    const dry = single(await client.applyConfiguration({ config: changed, mode: 'NO_REBOOT', dryRun: true }));
    expect(dry.modeDetails).toMatch(/Dry run/);
    expect((await sim.inspect('w-1')).appliedConfig).toBe(before);

    const bad = await rejection(client.applyConfiguration({ config: 'machine: [', mode: 'NO_REBOOT' }));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);

    const applied = single(await client.applyConfiguration({ config: changed, mode: 'NO_REBOOT' }));
    expect(applied.mode).toBe('NO_REBOOT');
    expect((await sim.inspect('w-1')).appliedConfig).toContain('tier: test');
  });

  test('Upgrade acknowledges and the node comes back with the new image', async () => {
    const result = single(await (await clientFor(worker)).upgrade({ image: 'ghcr.io/siderolabs/installer:v1.14.9' }));
    expect(result.ack).toBeTruthy();
    await sim.waitFor('w-1', (n) => n.state === 'running' && n.version === 'v1.14.9');
  });

  test('Reboot returns an actor ID and the node boots again', async () => {
    const bootCount = (await sim.inspect('w-1')).bootCount;
    const result = single(await (await clientFor(worker)).reboot());
    expect(result.actorId).toBeTruthy();
    await sim.waitFor('w-1', (n) => n.state === 'running' && n.bootCount === bootCount + 1);
  });

  test('Events replays the boot sequence as typed events; breaking out ends the stream', async () => {
    const client = await clientFor(worker);
    const seen: TalosEvent[] = [];
    for await (const result of client.events({ tailEvents: -1 })) {
      if (result.ok) seen.push(result.value);
      if (seen.some((e) => e.payload.kind === 'sequence')) break;
    }
    const sequence = seen.find((e) => e.payload.kind === 'sequence');
    expect(sequence?.typeUrl).toBe('talos/runtime/machine.SequenceEvent');
    expect(sequence?.id).toBeTruthy();
  });

  test('Events ends with CANCELLED when the caller aborts', async () => {
    const client = await clientFor(worker);
    const abort = new AbortController();
    const consume = (async (): Promise<void> => {
      for await (const result of client.events({}, { signal: abort.signal })) void result;
    })();
    setTimeout(() => abort.abort(), 200);
    expect((await rejection(consume)).code).toBe(status.CANCELLED);
  });

  test('EtcdLeaveCluster removes the node\'s own member', async () => {
    const client = await clientFor(cp3);
    expect(single(await client.etcdLeaveCluster())).toEqual({});
    const members = single(await (await clientFor(cp1)).etcdMemberList()).members;
    expect(members.map((m) => m.hostname).sort()).toEqual(['api-cp-1', 'api-cp-2']);
  });

  test('EtcdRemoveMemberByID removes a gone machine\'s member by its exact 64-bit ID; an unknown ID is NOT_FOUND', async () => {
    const cp4 = await sim.bootNode(cluster.machineConfig('controlplane', 'api-cp-4'), { id: 'cp-4' });
    const { etcdMemberId } = await sim.waitFor(cp4.id, (n) => Boolean(n.etcdMemberId));
    await sim.deleteNode(cp4.id);
    const client = await clientFor(cp1);
    expect(single(await client.etcdRemoveMemberByID(BigInt(etcdMemberId!)))).toEqual({});
    expect(single(await client.etcdMemberList()).members.map((m) => m.id)).not.toContain(etcdMemberId);
    const unknown = await rejection(client.etcdRemoveMemberByID('18446744073709551615'));
    expect(unknown.code).toBe(status.NOT_FOUND);
  });

  test('Reset wipes the node and powers it off', async () => {
    const result = single(await (await clientFor(cp3)).reset({ graceful: false, reboot: false, mode: 'ALL' }));
    expect(result.actorId).toBeTruthy();
    await sim.waitFor('cp-3', (n) => n.state === 'stopped');
  });
});
