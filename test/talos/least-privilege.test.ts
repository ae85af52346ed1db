// The control plane's Talos access (src/cluster/talos-access.ts) against a simulated node, which
// enforces Talos's role table: an os:reader certificate reads (ServiceList)
// but cannot Bootstrap, Reset, leave etcd or fetch the admin kubeconfig; os:admin can. Certificates
// are issued from the cluster's OS CA, kept in memory and reused until half their life.
import { TALOS_ADMIN, TALOS_READER, TalosAccess, type TalosRole } from '../../src/cluster/talos-access';
import { TalosApiError, TalosClient, unwrapSingle } from '../../src/talos/api';
import { DEFAULT_KUBERNETES_VERSION, generateSecretsBundle, parseContract, renderMachineConfig, type SecretsBundle } from '../../src/talos/config';
import { SIM_BUILD_TIMEOUT_MS, TalosSim, type SimNode } from '../support/talos-sim';

const CONTRACT = parseContract('v1.13');
const INSTALL_DISK_PATCH = 'machine:\n  install:\n    disk: /dev/sda\n';

let sim: TalosSim;
let bundle: SecretsBundle;
let node: SimNode;
const access = new TalosAccess();

const osCa = async () => bundle.certs.os!;
async function client(role: TalosRole): Promise<TalosClient> {
  return new TalosClient({ ...(await access.credentials('cluster-uid', role, osCa)), endpoints: [node.address] });
}
async function deniedFor(call: (talos: TalosClient) => Promise<unknown>, role: TalosRole): Promise<string | undefined> {
  const talos = await client(role);
  try {
    await call(talos);
    return undefined;
  } catch (error) {
    return error instanceof TalosApiError ? `${error.codeName}: ${error.message}` : String(error);
  } finally {
    talos.close();
  }
}

beforeAll(async () => {
  sim = await TalosSim.start();
  bundle = await generateSecretsBundle({ contract: CONTRACT });
  const config = await renderMachineConfig({
    clusterName: 'least-privilege', endpoint: 'https://127.0.0.1:6443', kubernetesVersion: DEFAULT_KUBERNETES_VERSION,
    contract: CONTRACT, bundle, machineType: 'controlplane', hostname: 'lp-cp', patches: { strategicPatches: [INSTALL_DISK_PATCH] },
  });
  node = await sim.waitFor((await sim.bootNode(config)).id, (n) => n.state === 'running');
}, SIM_BUILD_TIMEOUT_MS);

afterAll(async () => {
  await sim?.shutdown();
});

describe('least-privilege Talos access', () => {
  it('an os:reader certificate reads the node’s services', async () => {
    const talos = await client(TALOS_READER);
    try {
      expect(talos.identity.roles).toEqual([TALOS_READER]);
      const services = unwrapSingle(await talos.serviceList(), 'ServiceList');
      expect(services.map((s) => s.id)).toContain('etcd');
    } finally {
      talos.close();
    }
  });

  it.each([
    ['Bootstrap', (t: TalosClient) => t.bootstrap().then((r) => unwrapSingle(r, 'Bootstrap'))],
    ['Reset', (t: TalosClient) => t.reset({ graceful: true }).then((r) => unwrapSingle(r, 'Reset'))],
    ['EtcdLeaveCluster', (t: TalosClient) => t.etcdLeaveCluster().then((r) => unwrapSingle(r, 'EtcdLeaveCluster'))],
    ['Kubeconfig', (t: TalosClient) => t.kubeconfig().then((r) => unwrapSingle(r, 'Kubeconfig'))],
  ])('an os:reader certificate cannot %s', async (_name, call) => {
    expect(await deniedFor(call, TALOS_READER)).toMatch(/^PERMISSION_DENIED: .*not authorized/);
  });

  it('os:admin may bootstrap etcd (what the control plane uses it for)', async () => {
    expect(await deniedFor((t) => t.bootstrap().then((r) => unwrapSingle(r, 'Bootstrap')), TALOS_ADMIN)).toBeUndefined();
  });

  it('issues one certificate per cluster and role, reused until half its life, then renewed', async () => {
    let now = Date.parse('2026-12-03T10:00:00Z');
    const clock = new TalosAccess(() => now);
    let issued = 0;
    const counting = async () => { issued += 1; return bundle.certs.os!; };
    const first = await clock.credentials('c', TALOS_READER, counting);
    expect(await clock.credentials('c', TALOS_READER, counting)).toBe(first);
    await clock.credentials('c', TALOS_ADMIN, counting);
    expect(issued).toBe(2);
    now += 31 * 60 * 1000;
    expect(await clock.credentials('c', TALOS_READER, counting)).not.toBe(first);
    expect(issued).toBe(3);
    clock.forget('c');
    await clock.credentials('c', TALOS_ADMIN, counting);
    expect(issued).toBe(4);
  });
});
