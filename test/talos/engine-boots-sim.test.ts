// Configs produced by OUR engine boot simulated Talos nodes, for every supported contract: the
// simulator loads and validates each one with Talos's own machinery (v1.14), then we drive the
// node through OUR machine API client — bootstrap etcd, list members, and a worker that joins by
// getting its apid certificate from the control plane's trustd. Configs with real defects fail
// to boot with Talos's own validation message.
//
// Runtime mode: metal. It runs every check cloud mode runs plus the install checks, so a config
// that boots here also boots in the cloud. Container mode is no option for the older contracts:
// the simulator's 1.14 machinery requires hostDNS with forwardKubeDNSToHost there, which Talos
// only generates from contract 1.8 on. Metal needs an install disk wherever the config carries
// a machine.install section (contracts before 1.14; from 1.14 install moved to an
// UnattendedInstallConfig document that generation leaves out) — the patch CABPT users add.
import { performance } from 'node:perf_hooks';
import {
  failures,
  TalosClient,
  unwrapSingle,
  type NodeResult,
} from '../../src/talos/api';
import {
  DEFAULT_KUBERNETES_VERSION,
  generateSecretsBundle,
  generateTalosconfig,
  InputError,
  renderMachineConfig,
  supportedContracts,
  validateSecretsBundle,
  type MachineType,
  type SecretsBundle,
  type TalosContract,
} from '../../src/talos/config';
import { generateSecret32, generateToken } from '../../src/talos/config/secrets/bundle';
import { SIM_BUILD_TIMEOUT_MS, TalosSim, type SimNode } from '../support/talos-sim';

const fileStart = performance.now();
const timings: string[] = [];
const INSTALL_DISK_PATCH = 'machine:\n  install:\n    disk: /dev/sda\n';
const VIP_PATCH = 'machine:\n  network:\n    interfaces:\n      - interface: eth0\n        dhcp: true\n        vip:\n          ip: 10.5.0.100\n';
const CONTRACTS = supportedContracts();

let sim: TalosSim;
/** One bundle per bundle format (the contract features the bundle generator reads). */
const familyBundles = new Map<string, SecretsBundle>();
const clients: TalosClient[] = [];

function bundleFamily(contract: TalosContract): string {
  const f = contract.features;
  return `serviceAccount=${f.useRSAServiceAccountKey ? 'rsa-4096' : 'ecdsa-p256'} encryption=${f.secretboxEncryptionSupported ? 'secretbox' : 'aescbc'}`;
}

function elapsed(since: number): string {
  return `${Math.round(performance.now() - since)} ms`;
}

/**
 * The family's keys and CAs (the expensive part) with a fresh cluster identity and fresh tokens:
 * the simulator keeps one etcd per cluster identity, and trustd signs only for a matching machine
 * token, so every contract gets a cluster of its own although the OS CA is shared.
 */
function clusterBundle(contract: TalosContract): SecretsBundle {
  const shared = familyBundles.get(bundleFamily(contract));
  if (!shared) throw new Error(`no bundle for ${contract.name}`);
  return {
    ...shared,
    cluster: { id: generateSecret32(), secret: generateSecret32() },
    secrets: { ...shared.secrets, bootstrapToken: generateToken() },
    trustdInfo: { token: generateToken() },
  };
}

interface EngineCluster {
  name: string;
  contract: TalosContract;
  bundle: SecretsBundle;
  /** Bootstrap data from our engine: generate + patches, encoded as Talos would. */
  config(machineType: MachineType, options?: { extraPatches?: string[]; podCIDRs?: string[] }): string;
  client(endpoint: string): Promise<TalosClient>;
}

function engineCluster(contract: TalosContract): EngineCluster {
  const name = `boots-${contract.name.replace('.', '-')}`;
  const bundle = clusterBundle(contract);
  const installPatches = contract.features.unattendedInstallConfig ? [] : [INSTALL_DISK_PATCH];
  return {
    name,
    contract,
    bundle,
    config: (machineType, { extraPatches = [], podCIDRs } = {}) =>
      renderMachineConfig({
        clusterName: name,
        endpoint: 'https://127.0.0.1:6443',
        kubernetesVersion: DEFAULT_KUBERNETES_VERSION,
        contract,
        bundle,
        machineType,
        hostname: `${name}-${machineType === 'worker' ? 'worker' : 'cp'}`,
        patches: { strategicPatches: [...installPatches, ...extraPatches] },
        ...(podCIDRs ? { podCIDRs } : {}),
      }),
    client: async (endpoint) => {
      const client = TalosClient.fromTalosconfig(await generateTalosconfig({ bundle, contextName: name, endpoints: [endpoint] }));
      clients.push(client);
      return client;
    },
  };
}

const single = <T>(results: NodeResult<T>[]): T => unwrapSingle(results, 'test');

/** Every service runs; those with a health check report healthy. */
function expectServicesUp(services: { id: string; state: string; health?: { unknown: boolean; healthy: boolean } }[]): void {
  expect(services.filter((s) => s.state !== 'Running' || !(s.health?.unknown || s.health?.healthy))).toEqual([]);
}

beforeAll(async () => {
  const start = performance.now();
  const families = new Map(CONTRACTS.map((contract) => [bundleFamily(contract), contract]));
  const [started] = await Promise.all([
    TalosSim.start({ mode: 'metal' }).then((s) => {
      timings.push(`simulator start (build cached): ${elapsed(start)}`);
      return s;
    }),
    ...[...families].map(async ([family, contract]) => {
      const t = performance.now();
      familyBundles.set(family, await generateSecretsBundle({ contract }));
      timings.push(`bundle ${family} (generated for ${contract.name}): ${elapsed(t)}`);
    }),
  ]);
  sim = started;
  timings.push(`beforeAll: ${elapsed(start)}`);
}, SIM_BUILD_TIMEOUT_MS);

afterAll(async () => {
  for (const client of clients) client.close();
  await sim?.shutdown();
  timings.push(`whole file (incl. shutdown): ${elapsed(fileStart)}`);
  console.log(`engine-boots-sim timings (${CONTRACTS.length} contracts, metal mode):\n  ${timings.join('\n  ')}`);
});

test('the contract list spans v1.3 to v1.14 and two bundle formats', () => {
  expect(CONTRACTS.map((c) => c.name)).toEqual(Array.from({ length: 12 }, (_, i) => `v1.${i + 3}`));
  expect(familyBundles.size).toBe(2);
});

describe('every contract: our configs boot, etcd bootstraps through our client, the worker joins', () => {
  test.concurrent.each(CONTRACTS.map((contract) => [contract.name, contract] as const))(
    '%s',
    async (_name, contract) => {
      const t = performance.now();
      const cluster = engineCluster(contract);
      // the shared bundle really is one of this contract's format
      expect(await validateSecretsBundle(cluster.bundle, contract)).toEqual([]);

      // The worker boots first: without a control plane to sign its apid certificate it waits.
      const waitingWorker = await sim.bootNode(cluster.config('worker'), { id: `${cluster.name}-worker` });
      expect(waitingWorker).toMatchObject({ state: 'booting', machineType: 'worker', waiting: expect.stringMatching(/^trustd: /) });

      const cp = await sim.bootNode(cluster.config('controlplane'), { id: `${cluster.name}-cp` });
      expect(cp).toMatchObject({ state: 'running', machineType: 'controlplane', hostname: `${cluster.name}-cp`, clusterName: cluster.name });
      expect(cp.bootError).toBeUndefined();

      const cpClient = await cluster.client(cp.address);
      expect(single(await cpClient.bootstrap())).toEqual({});
      const members = single(await cpClient.etcdMemberList()).members;
      const seen = await sim.inspect(cp.id);
      expect(members.map((m) => [m.hostname, m.id])).toEqual([[`${cluster.name}-cp`, seen.etcdMemberId]]);
      const cpServices = single(await cpClient.serviceList());
      expect(cpServices.map((s) => s.id)).toEqual(expect.arrayContaining(['apid', 'etcd', 'kubelet', 'trustd']));
      expectServicesUp(cpServices);

      // trustd of the running control plane signs the worker's certificate; it answers on its own address
      const worker = await sim.waitFor(waitingWorker.id, (n) => n.state !== 'booting', 5000);
      expect(worker).toMatchObject({ state: 'running', hostname: `${cluster.name}-worker` });
      const workerClient = await cluster.client(worker.address);
      const workerServices = await workerClient.serviceList();
      expect(failures(workerServices)).toEqual([]);
      expect(single(workerServices).map((s) => s.id)).not.toContain('etcd');
      expectServicesUp(single(workerServices));
      // a worker is no etcd member
      expect(single(await cpClient.etcdMemberList()).members).toHaveLength(1);

      timings.push(`${contract.name}: ${elapsed(t)}`);
    },
    30000,
  );
});

describe('configs with a defect fail to boot with Talos\'s message', () => {
  const oldestAndNewest = [CONTRACTS[0]!, CONTRACTS[CONTRACTS.length - 1]!].map((c) => [c.name, c] as const);

  async function boot(config: string): Promise<SimNode> {
    const node = await sim.bootNode(config);
    expect(node.state).toBe('failed');
    return node;
  }

  test.each(oldestAndNewest)('%s: a misspelt key (certSans) is rejected by the loader', async (_name, contract) => {
    const config = engineCluster(contract).config('controlplane');
    const broken = config.replace('\n    certSANs:', '\n    certSans:');
    expect(broken).not.toBe(config);
    const node = await boot(broken);
    expect(node.bootError).toContain('failed to load config');
    expect(node.bootError).toContain('unknown keys found during decoding');
    expect(node.bootError).toContain('certSans');
  });

  test.each(oldestAndNewest)('%s: a shared VIP on a worker is rejected by the validator', async (_name, contract) => {
    const cluster = engineCluster(contract);
    // the same patch is fine on a control-plane node
    expect((await sim.bootNode(cluster.config('controlplane', { extraPatches: [VIP_PATCH] }))).state).toBe('running');
    const node = await boot(cluster.config('worker', { extraPatches: [VIP_PATCH] }));
    expect(node.bootError).toContain('failed to validate config');
    expect(node.bootError).toContain('virtual (shared) IP is not allowed on non-controlplane nodes');
  });

  test('v1.14: an invalid pod CIDR is rejected by the loader of the KubeNetworkConfig document', async () => {
    const config = engineCluster(CONTRACTS[CONTRACTS.length - 1]!).config('controlplane');
    const broken = config.replace('podSubnets:\n    - 10.244.0.0/16', 'podSubnets:\n    - 10.244.0.0/33');
    expect(broken).not.toBe(config);
    const node = await boot(broken);
    expect(node.bootError).toContain('KubeNetworkConfig');
    expect(node.bootError).toContain('netip.ParsePrefix("10.244.0.0/33"): prefix length out of range');
  });

  test('up to v1.13 Talos takes pod subnets as plain strings, so our engine must refuse a bad one itself', async () => {
    const contract = CONTRACTS[CONTRACTS.length - 2]!;
    expect(contract.name).toBe('v1.13');
    const cluster = engineCluster(contract);
    const config = cluster.config('controlplane');
    const broken = config.replace(/podSubnets:\n(\s+)- 10\.244\.0\.0\/16/, 'podSubnets:\n$1- 10.244.0.0/33');
    expect(broken).not.toBe(config);
    expect((await sim.bootNode(broken)).state).toBe('running');
    expect(() => cluster.config('controlplane', { podCIDRs: ['10.244.0.0/33'] })).toThrow(InputError);
  });
});
