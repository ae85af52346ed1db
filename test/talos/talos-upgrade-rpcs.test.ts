// The RPCs an in-place upgrade needs, through our TalosClient against the simulator (official
// Talos stubs on the server side): ImageService.Pull/List, LifecycleService.Upgrade, a live
// ApplyConfiguration changing what the node runs, Reboot with the etcd member down and back, and
// each step failing on demand. Tests share one bootstrapped 3-node control plane and run in order.
import { status } from '@grpc/grpc-js';
import { collect, TalosClient, unwrapAll, unwrapSingle, type ImagePullUpdate, type NodeResult, type UpgradeProgress } from '../../src/talos/api';
import { membershipInvariants } from '../support/etcd-history';
import { makeClusterFixture, type ClusterFixture } from '../support/talos-fixtures';
import { rejection } from '../support/talos-errors';
import { SIM_BUILD_TIMEOUT_MS, TalosSim, type SimNode } from '../support/talos-sim';

const NEXT_INSTALLER = 'ghcr.io/siderolabs/installer:v1.14.2';

let sim: TalosSim;
let cluster: ClusterFixture;
const nodes: SimNode[] = [];
const clients: TalosClient[] = [];

async function clientFor(node: SimNode): Promise<TalosClient> {
  const client = TalosClient.fromTalosconfig(await cluster.talosconfig([node.address]));
  clients.push(client);
  return client;
}

const values = <T>(results: NodeResult<T>[]): T[] => unwrapAll(results);
const tagOf = async (client: TalosClient) => unwrapSingle(await client.version({ timeoutMs: 3000 }), 'Version').tag;

beforeAll(async () => {
  [sim, cluster] = await Promise.all([TalosSim.start({ rebootDowntimeMs: 150 }), makeClusterFixture('upgrade-rpcs')]);
  for (const id of ['cp-1', 'cp-2', 'cp-3']) nodes.push(await sim.bootNode(cluster.machineConfig('controlplane', `up-${id}`), { id }));
  await (await clientFor(nodes[0]!)).bootstrap();
  await sim.waitFor('cp-1', (n) => n.etcd?.members.length === 3 && n.etcd.quorum);
}, SIM_BUILD_TIMEOUT_MS);

afterAll(async () => {
  for (const client of clients) client.close();
  await sim?.shutdown();
});

describe('ImageService', () => {
  test('Pull streams layer progress, then the normalized name; the node records the image', async () => {
    const client = await clientFor(nodes[0]!);
    const updates = values(await collect(client.imagePull({ image: 'registry.k8s.io/kube-apiserver:v1.35.0' })));
    const last = updates.at(-1);
    expect(last).toEqual({ kind: 'pulled', name: 'registry.k8s.io/kube-apiserver:v1.35.0' });
    const progress = updates.filter((u): u is Extract<ImagePullUpdate, { kind: 'progress' }> => u.kind === 'progress');
    expect(progress.map((p) => p.status)).toContain('DOWNLOADING');
    expect(progress.find((p) => p.status === 'DOWNLOAD_COMPLETE')?.total).toBeGreaterThan(0n);
    expect(progress.at(-1)?.status).toBe('EXTRACT_COMPLETE');

    const again = values(await collect(client.imagePull({ image: 'registry.k8s.io/kube-apiserver:v1.35.0' })));
    expect(again.filter((u) => u.kind === 'progress').every((u) => u.kind === 'progress' && u.status === 'ALREADY_EXISTS')).toBe(true);

    const listed = values(await collect(client.imageList()));
    expect(listed.map((i) => i.name)).toContain('registry.k8s.io/kube-apiserver:v1.35.0');
    expect(listed[0]?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const seen = await sim.inspect('cp-1');
    expect(seen.images).toContainEqual(expect.objectContaining({ namespace: 'k8s.io', name: 'registry.k8s.io/kube-apiserver:v1.35.0', source: 'pull' }));
  });

  test('a broken image fails the pull with NOT_FOUND; an injected Pull error fails it with that code', async () => {
    const client = await clientFor(nodes[0]!);
    await sim.setFault('cp-1', { brokenImages: ['registry.k8s.io/kube-apiserver:v9.9.9'] });
    expect((await rejection(collect(client.imagePull({ image: 'registry.k8s.io/kube-apiserver:v9.9.9' })))).code).toBe(status.NOT_FOUND);
    await sim.setFault('cp-1', { rpcErrors: { '/machine.ImageService/Pull': { code: 'Unavailable', message: 'registry down' } } });
    const error = await rejection(collect(client.imagePull({ image: 'nginx' })));
    expect(error).toMatchObject({ code: status.UNAVAILABLE, method: 'ImageServicePull' });
    await sim.clearFaults('cp-1');
  });

  test('apid does not fan ImageService out: nodes targeting is INVALID_ARGUMENT', async () => {
    const client = await clientFor(nodes[0]!);
    const error = await rejection(collect(client.imageList({}, { target: { nodes: [nodes[0]!.address, nodes[1]!.address] } })));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
  });
});

describe('LifecycleService.Upgrade, then Reboot', () => {
  test('the installer must be pulled into the system namespace first', async () => {
    const client = await clientFor(nodes[1]!);
    expect((await rejection(collect(client.lifecycleUpgrade({ image: NEXT_INSTALLER })))).code).toBe(status.NOT_FOUND);
  });

  test('an installer that fails streams its exit code and stages nothing', async () => {
    const client = await clientFor(nodes[1]!);
    await collect(client.imagePull({ image: NEXT_INSTALLER, namespace: 'SYSTEM' }));
    await sim.setFault('cp-2', { installerExitCode: 1 });
    const output = values(await collect(client.lifecycleUpgrade({ image: NEXT_INSTALLER })));
    expect(output.at(-1)).toEqual({ kind: 'exit', exitCode: 1 });
    expect((await sim.inspect('cp-2')).stagedImage).toBeUndefined();
    await sim.clearFaults('cp-2');
  });

  test('streams the installer output, stages the image; the reboot runs it with the etcd member down, then up', async () => {
    const client = await clientFor(nodes[1]!);
    const before = await tagOf(client);
    const historyBefore = await sim.etcdHistory('cp-1');

    const output: UpgradeProgress[] = values(await collect(client.lifecycleUpgrade({ image: NEXT_INSTALLER })));
    expect(output.slice(0, -1).every((p) => p.kind === 'message' && p.message !== '')).toBe(true);
    expect(output.at(-1)).toEqual({ kind: 'exit', exitCode: 0 });
    const staged = await sim.inspect('cp-2');
    expect(staged).toMatchObject({ stagedImage: NEXT_INSTALLER, bootCount: 1 });
    expect(await tagOf(client)).toBe(before);

    const started = Date.now();
    await client.reboot();
    await sim.waitFor('cp-2', (n) => n.bootCount === 2 && n.state === 'running');
    await sim.waitFor('cp-1', (n) => n.etcd?.started === 3);
    expect(await tagOf(client)).toBe('v1.14.2');
    process.stderr.write(`[figures] LifecycleService.Upgrade reboot: node back at the new version in ${Date.now() - started} ms\n`);

    const window = (await sim.etcdHistory('cp-1')).slice(historyBefore.length - 1);
    expect(window.slice(1).map((s) => `${s.event} ${s.member.nodeId} ${s.upCount}/${s.memberCount}`)).toEqual(['rebooting cp-2 2/3', 'started cp-2 3/3']);
    expect(membershipInvariants(window)).toMatchObject({ quorumAlwaysKept: true, maxMembersChangedAtOnce: 1, minUp: 2, maxMembers: 3 });
  });

  test('a node that does not come back stays down (its member too) until the fault clears', async () => {
    const client = await clientFor(nodes[2]!);
    await sim.setFault('cp-3', { staysDownAfterReboot: true });
    await client.reboot();
    await new Promise((resolve) => setTimeout(resolve, 600));
    const down = await sim.inspect('cp-3');
    expect(down).toMatchObject({ state: 'rebooting', bootCount: 1 });
    expect((await sim.inspect('cp-1')).etcd).toMatchObject({ started: 2, quorum: true });
    expect((await rejection(client.version({ timeoutMs: 1500 }))).code).toBe(status.UNAVAILABLE);

    await sim.clearFaults('cp-3');
    await sim.waitFor('cp-3', (n) => n.state === 'running' && n.bootCount === 2);
    await sim.waitFor('cp-1', (n) => n.etcd?.started === 3);
  });
});

describe('ApplyConfiguration without a reboot changes what the node runs', () => {
  test('new static pod and kubelet images: config version, static pods and kubelet follow; no reboot', async () => {
    const client = await clientFor(nodes[0]!);
    const before = await sim.inspect('cp-1');
    const config = before.appliedConfig ?? '';
    const current = /kube-apiserver:(v[0-9.]+)/.exec(config)?.[1];
    expect(current).toBeTruthy();
    const next = config.replaceAll(`:${current}`, ':v1.35.0');

    const [result] = values(await client.applyConfiguration({ config: next, mode: 'NO_REBOOT' }));
    expect(result?.mode).toBe('NO_REBOOT');
    const after = await sim.inspect('cp-1');
    expect(after.bootCount).toBe(before.bootCount);
    expect(after.configVersion).toBe((before.configVersion ?? 0) + 1);
    expect(after.kubeletImage).toMatch(/:v1\.35\.0$/);
    expect(after.staticPods?.map((p) => [p.name, p.image.split(':').at(-1), p.configVersion, p.ready])).toEqual([
      ['kube-apiserver', 'v1.35.0', after.configVersion, true],
      ['kube-controller-manager', 'v1.35.0', after.configVersion, true],
      ['kube-scheduler', 'v1.35.0', after.configVersion, true],
    ]);
    const kubelet = after.services?.find((s) => s.id === 'kubelet');
    expect(kubelet?.events.map((e) => e.msg)).toContainEqual(expect.stringMatching(/^Restarting: kubelet image changed/));

    // The resource API says the same: each static pod's config at its new version, naming the new image.
    const resource = unwrapSingle(await client.resource({ namespace: 'controlplane', type: 'APIServerConfigs.kubernetes.talos.dev', id: 'kube-apiserver' }), 'Get');
    expect(resource).toMatchObject({ namespace: 'controlplane', id: 'kube-apiserver', version: String(after.configVersion) });
    expect(resource.yamlSpec).toMatch(/^image: \S+:v1\.35\.0$/m);
    expect(await rejection(client.resource({ namespace: 'controlplane', type: 'APIServerConfigs.kubernetes.talos.dev', id: 'nope' }))).toMatchObject({ code: status.NOT_FOUND });
  });

  test('a static pod whose image cannot be fetched is not ready until the fault clears', async () => {
    const client = await clientFor(nodes[0]!);
    const config = (await sim.inspect('cp-1')).appliedConfig ?? '';
    const broken = 'registry.k8s.io/kube-scheduler:v1.35.1';
    await sim.setFault('cp-1', { brokenImages: [broken] });
    await client.applyConfiguration({ config: config.replace('kube-scheduler:v1.35.0', 'kube-scheduler:v1.35.1'), mode: 'AUTO' });
    expect((await sim.inspect('cp-1')).staticPods?.find((p) => p.name === 'kube-scheduler')).toMatchObject({ image: broken, ready: false });
    await sim.clearFaults('cp-1');
    expect((await sim.inspect('cp-1')).staticPods?.find((p) => p.name === 'kube-scheduler')).toMatchObject({ image: broken, ready: true });
  });

  test('an injected ApplyConfiguration failure changes nothing', async () => {
    const client = await clientFor(nodes[0]!);
    const before = await sim.inspect('cp-1');
    await sim.setFault('cp-1', { rpcErrors: { ApplyConfiguration: { code: 'FailedPrecondition', message: 'apply refused' } } });
    const error = await rejection(client.applyConfiguration({ config: (before.appliedConfig ?? '').replaceAll(':v1.35.0', ':v1.35.2'), mode: 'NO_REBOOT' }));
    expect(error).toMatchObject({ code: status.FAILED_PRECONDITION });
    await sim.clearFaults('cp-1');
    const after = await sim.inspect('cp-1');
    expect([after.configVersion, after.kubeletImage]).toEqual([before.configVersion, before.kubeletImage]);
  });
});
