// Checks the simulator harness end to end: build and start the Go simulator,
// boot nodes from configs made by Talos's own generator, see a rejected config
// fail with Talos's message, and make a node unreachable and reachable again;
// and run the simulator's own Go tests so CI checks the simulator itself.
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { SIM_BUILD_TIMEOUT_MS, SIM_MODULE_DIR, TalosSim, TalosSimError, type GeneratedCluster } from '../support/talos-sim';

let sim: TalosSim;
let cluster: GeneratedCluster;

beforeAll(async () => {
  sim = await TalosSim.start();
  cluster = await sim.generateCluster({ clusterName: 'harness', extraRoles: ['os:reader'] });
}, SIM_BUILD_TIMEOUT_MS);

afterAll(async () => {
  await sim?.shutdown();
});

/** Resolves true when a TCP connection to the address is accepted, false when refused. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

test('the generator returns configs and talosconfigs for the requested roles', () => {
  expect(cluster.controlplane).toContain('type: controlplane');
  expect(cluster.worker).toContain('type: worker');
  expect(cluster.talosconfig).toContain('contexts:');
  expect(Object.keys(cluster.talosconfigs ?? {})).toEqual(['os:reader']);
});

test('a control-plane config boots a running node that serves on its address', async () => {
  const node = await sim.bootNode(cluster.controlplane, { id: 'cp-1', hostname: 'harness-cp-1' });

  expect(node).toMatchObject({ id: 'cp-1', state: 'running', hostname: 'harness-cp-1', machineType: 'controlplane' });
  expect(node.address).toBe(`${node.host}:${node.port}`);
  expect(await accepts(node.host, node.port)).toBe(true);

  const detail = await sim.inspect('cp-1');
  const etcd = detail.services?.find((service) => service.id === 'etcd');
  expect(etcd?.state).toBe('Preparing');
  expect(detail.etcd).toMatchObject({ bootstrapped: false, members: [] });
  expect(detail.events?.some((event) => event.type === 'machine.SequenceEvent')).toBe(true);
});

test('a config Talos rejects fails the boot with the loader message', async () => {
  const broken = cluster.worker.replace('machine:\n', 'machine:\n    notAField: true\n');
  const node = await sim.bootNode(broken);

  expect(node.state).toBe('failed');
  expect(node.bootError).toContain('unknown keys found during decoding');
  expect(node.bootError).toContain('notAField');
});

test('an unreachable node refuses connections until the fault is cleared', async () => {
  const node = await sim.bootNode(cluster.controlplane, { hostname: 'harness-cp-2' });

  const faulted = await sim.setFault(node.id, { unreachable: true, rpcErrors: { Bootstrap: { code: 'Unavailable' } } });
  expect(faulted.faults.unreachable).toBe(true);
  expect(await accepts(node.host, node.port)).toBe(false);

  await sim.clearFaults(node.id);
  expect(await accepts(node.host, node.port)).toBe(true);
});

test('stopping and starting a node reboots it from its config', async () => {
  const node = await sim.bootNode(cluster.controlplane, { hostname: 'harness-cp-3' });

  expect((await sim.stopNode(node.id)).state).toBe('stopped');
  expect(await accepts(node.host, node.port)).toBe(false);

  const started = await sim.startNode(node.id);
  expect(started).toMatchObject({ state: 'running', bootCount: 2 });
});

test('unknown nodes and bad faults are reported, not crashed on', async () => {
  await expect(sim.inspect('no-such-node')).rejects.toMatchObject({ status: 404 });
  await expect(sim.setFault('cp-1', { rpcErrors: { Bootstrap: { code: 'NotACode' } } })).rejects.toBeInstanceOf(TalosSimError);
});

test(
  "the simulator's own Go tests pass",
  () => {
    // The binary was built in beforeAll, so go test reuses the compiled packages.
    const result = spawnSync('go', ['test', '-count=1', './...'], {
      cwd: SIM_MODULE_DIR,
      env: { ...process.env, CGO_ENABLED: '0' },
      encoding: 'utf8',
    });
    expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({
      status: 0,
      output: expect.stringMatching(/^ok\s+\S+\/sim\s/m),
    });
  },
  SIM_BUILD_TIMEOUT_MS,
);
