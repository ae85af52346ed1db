// The operator killed (SIGKILL, no lease release) at seeded random points of control-plane rollouts,
// a new one started each time: every rollout converges, quorum is never lost and never more than
// one etcd member is in flux. Killed in the middle of an in-place upgrade, the next one goes on
// from the step recorded on the Machines: of Kubernetes (held at its apply), and of Talos (held
// with its Node drained, then down after its reboot) — each node rebooted into the new Talos once,
// no Machine replaced, every Node uncordoned. An operator started after the kubeconfig's certificate passed half
// its life renews it. This file runs its own world, so killing its operator disturbs no
// other scenario; its cases share one control plane, at Talos 1.13 until the Talos upgrade.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { KubeClient } from '../../src/kube/client/client';
import { SecretKind } from '../../src/kube/client/resource';
import { fromBase64, type SecretObject } from '../../src/cluster/secrets';
import { clientCertificateValidity } from '../../src/controlplane/kubeconfig';
import { createCertificateAuthority, issueClientCertificate } from '../../src/talos/config/secrets/certificates';
import { eventsFor } from '../support/capi-fixtures';
import { TalosSimControl } from '../support/talos-sim';
import { startWorldOperator, type WorldOperator } from '../world/operator';
import { startWorld, stopWorld, type WorldState } from '../world/world';
import { IN_PLACE, ROLLOUT_STRATEGY_ANNOTATION } from '../../src/api/controlplane/group';
import { IN_PLACE_UPGRADE_ANNOTATION } from '../../src/controlplane/in-place-progress';
import { INSTALLED_IMAGE_ANNOTATION } from '../../src/controlplane/installer';
import type { KubeObject } from '../../src/kube/meta/object';
import { ControlPlaneProbe } from './controlplane-fixtures';
import { createClusterWithControlPlane, createNamespace, eventually, installerImagePatch, TalosControlPlaneKind, workloadClient } from './world-fixtures';
import { NodeKind } from '../../src/kube/client/resource';

jest.setTimeout(1_200_000);

/** Short leases, so a killed leader's successor takes over in seconds. */
const LEASE_FLAGS = ['--leader-elect-lease-duration=4s', '--leader-elect-renew-deadline=3s', '--leader-elect-retry-period=1s'];
const SEEDS = [7, 19, 42];
const TALOS_FROM = 'ghcr.io/siderolabs/installer:v1.13.5';
const TALOS_TO = 'ghcr.io/siderolabs/installer:v1.14.2';

interface LoggedStep {
  machine: string;
  step: string;
  target: string;
}

/** mulberry32: a small seeded generator, so a failing seed can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe('the operator killed during rollouts', () => {
  let dir: string;
  let state: WorldState;
  let operator: WorldOperator;
  let instance = 0;
  let cp: ControlPlaneProbe;

  const startOperator = async () => {
    instance += 1;
    operator = await startWorldOperator({ dir, kubeconfig: state.kubeconfig, args: LEASE_FLAGS, instance: `operator-${instance}` });
  };
  const killOperator = () => {
    process.kill(-operator.process.pid, 'SIGKILL');
  };
  /** The in-place upgrade steps operator number `n` logged as done. */
  const stepsLoggedBy = (n: number): LoggedStep[] => readFileSync(join(dir, `operator-${n}.log`), 'utf8').split('\n')
    .filter((line) => line.includes('"msg":"in-place upgrade step"')).map((line) => JSON.parse(line) as LoggedStep);
  /** RollingOut's message once it matches `pattern`. */
  const rollingOutSays = (pattern: RegExp) => eventually(`RollingOut matching ${pattern}`, async () =>
    pattern.exec(cp.condition(await cp.tcp(), 'RollingOut')?.message ?? '') ?? undefined, { timeoutMs: 60_000, intervalMs: 250 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'talos-capi-kill-world-'));
    state = await startWorld({ dir, operator: false });
    await startOperator();
    const client = KubeClient.load(state.kubeconfig, { qps: 50, burst: 100 });
    const namespace = await createNamespace(client, 'e2e-cp-kill');
    cp = new ControlPlaneProbe(client, new TalosSimControl(state.infra.simControlUrl), await createClusterWithControlPlane(client, namespace, 'eta', 3, { configPatches: [installerImagePatch(TALOS_FROM)] }));
    await cp.settled(3, 'v1.34.1');
  });

  afterAll(async () => {
    if (operator) killOperator();
    await stopWorld(dir).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(SEEDS.map((seed, i) => [seed, `v1.35.${i}`] as const))('seed %i: killed twice while rolling to %s, it converges without losing quorum', async (seed, version) => {
    const next = random(seed);
    const old = (await cp.machines()).map((m) => m.metadata.name!);
    const before = await cp.historyLength();
    await cp.patch({ version });
    const kills: number[] = [];
    for (let i = 0; i < 2; i++) {
      const delayMs = Math.round(500 + next() * 12_000);
      kills.push(delayMs);
      await sleep(delayMs);
      killOperator();
      await startOperator();
    }
    process.stderr.write(`[figures] seed ${seed}: killed after ${kills.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')}\n`);
    const { machines } = await cp.settled(3, version);
    await cp.expectRolledOnce(before, old, machines);
  });

  it('killed in the middle of an in-place upgrade, the next operator goes on from the recorded step and repeats no finished node', async () => {
    const client = KubeClient.load(state.kubeconfig);
    const sim = new TalosSimControl(state.infra.simControlUrl);
    await client.patch(TalosControlPlaneKind, cp.namespace, cp.name, { metadata: { annotations: { [ROLLOUT_STRATEGY_ANNOTATION]: IN_PLACE } } }, 'merge');
    const machines = await cp.machines();
    const nodeOf = new Map(await Promise.all(machines.map(async (m) => [m.metadata.name!, await cp.nodeIdOf(m)] as const)));
    const historyBefore = await cp.historyLength();
    const refused = { rpcErrors: { ApplyConfiguration: { code: 'FailedPrecondition', message: 'apply refused' } } };
    await Promise.all([...nodeOf.values()].map((id) => sim.setFault(id, refused)));
    const failedOn = (exclude: string[]) => eventually('an in-place step failed', async () => {
      const message = cp.condition(await cp.tcp(), 'RollingOut')?.message ?? '';
      const name = /In-place upgrade of Machine (\S+) to v1\.35\.3 stopped: step apply failed/.exec(message)?.[1];
      return name && !exclude.includes(name) ? name : undefined;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    await cp.patch({ version: 'v1.35.3' });

    // The first node is let through and finishes; the second is held after its images were pulled.
    const first = await failedOn([]);
    await sim.clearFaults(nodeOf.get(first)!);
    const second = await failedOn([first]);
    const finished = await sim.inspect(nodeOf.get(first)!);
    expect(finished.kubeletImage).toMatch(/:v1\.35\.3$/);
    expect((await cp.machines()).find((m) => m.metadata.name === first)?.spec.version).toBe('v1.35.3');
    killOperator();
    await Promise.all([...nodeOf.values()].map((id) => sim.clearFaults(id)));
    await startOperator();
    await cp.settled(3, 'v1.35.3');

    // The new operator did nothing to the finished node, and took the held one up at its apply.
    expect((await sim.inspect(nodeOf.get(first)!)).configVersion).toBe(finished.configVersion);
    const steps = stepsLoggedBy(instance);
    const stepsOf = (name: string) => steps.filter((s) => s.machine === name).map((s) => s.step);
    expect(stepsOf(first)).toEqual([]);
    expect(stepsOf(second)).toEqual(['apply', 'finish']);
    const third = machines.map((m) => m.metadata.name!).find((n) => n !== first && n !== second)!;
    expect(stepsOf(third)).toEqual(['pull', 'apply', 'finish']);
    expect((await cp.machines()).map((m) => m.metadata.uid).sort()).toEqual(machines.map((m) => m.metadata.uid).sort());
    expect(await cp.historyLength()).toBe(historyBefore);
  });

  it('killed with a node drained, then with it down after its reboot, in an in-place Talos upgrade: the next operators go on from the recorded step, each node is rebooted into the new Talos once, no Machine is replaced', async () => {
    const client = KubeClient.load(state.kubeconfig);
    const sim = new TalosSimControl(state.infra.simControlUrl);
    await client.patch(TalosControlPlaneKind, cp.namespace, cp.name, { metadata: { annotations: { [ROLLOUT_STRATEGY_ANNOTATION]: IN_PLACE } } }, 'merge');
    const { version } = (await cp.tcp()).spec;
    const { machines } = await cp.settled(3, version);
    const workload = await workloadClient({ client, sim, dir }, cp.namespace, cp.cluster.metadata.name!);
    const cordoned = async () => (await workload.list<KubeObject & { spec?: { unschedulable?: boolean } }>(NodeKind, {})).items
      .filter((n) => n.spec?.unschedulable === true).map((n) => n.metadata.name!);
    const nodeOf = new Map(await Promise.all(machines.map(async (m) => [m.metadata.name!, await cp.nodeIdOf(m)] as const)));
    const bootsBefore = new Map(await Promise.all([...nodeOf.values()].map(async (id) => [id, (await sim.inspect(id)).bootCount] as const)));
    const historyBefore = await cp.historyLength();
    const progressOf = async (name: string) => (await cp.machines()).find((m) => m.metadata.name === name)?.metadata.annotations?.[IN_PLACE_UPGRADE_ANNOTATION];
    const [drainedBy, rebootedBy, finishedBy] = [instance, instance + 1, instance + 2];

    // Every node refuses to reboot: the first one is held with its Node drained.
    const rebootRefused = { rpcErrors: { '/machine.MachineService/Reboot': { code: 'FailedPrecondition', message: 'reboot refused' } } };
    await Promise.all([...nodeOf.values()].map((id) => sim.setFault(id, rebootRefused)));
    await cp.upgradeTalosTo(TALOS_TO);
    const held = (await rollingOutSays(/In-place upgrade of Machine (\S+) to Talos v1\.14\.2 stopped: step reboot failed/))[1]!;
    const heldNode = machines.find((m) => m.metadata.name === held)!.status!.nodeRef!.name;
    expect(await progressOf(held)).toBe(`{"installer":"${TALOS_TO}","step":"drained"}`);
    expect(await cordoned()).toEqual([heldNode]);
    killOperator();

    // The next one reboots it; it stays down, and that operator is killed waiting for it.
    await sim.setFault(nodeOf.get(held)!, { staysDownAfterReboot: true });
    await startOperator();
    await rollingOutSays(new RegExp(`Upgrading Machine ${held} to Talos v1\\.14\\.2 in place: rebooted, waiting for its Talos API to answer`));
    expect(await progressOf(held)).toBe(`{"installer":"${TALOS_TO}","step":"rebooted"}`);
    expect((await sim.inspect(nodeOf.get(held)!)).state).toBe('rebooting');
    killOperator();
    await Promise.all([...nodeOf.values()].map((id) => sim.clearFaults(id)));
    await startOperator();

    await eventually('every Machine recording the new installer', async () => {
      const all = await cp.machines();
      return all.every((m) => m.metadata.annotations?.[INSTALLED_IMAGE_ANNOTATION] === TALOS_TO) || undefined;
    }, { timeoutMs: 240_000, intervalMs: 500 });
    const after = (await cp.settled(3, version, 60_000)).machines;

    // Same Machines, each node at the new Talos after exactly one more boot, every Node uncordoned.
    expect(after.map((m) => m.metadata.uid).sort()).toEqual(machines.map((m) => m.metadata.uid).sort());
    for (const [id, boots] of bootsBefore) {
      const node = await sim.inspect(id);
      expect([id, node.version, node.bootCount]).toEqual([id, 'v1.14.2', boots + 1]);
    }
    expect(await cordoned()).toEqual([]);
    expect(after.map((m) => m.metadata.annotations?.[IN_PLACE_UPGRADE_ANNOTATION])).toEqual([undefined, undefined, undefined]);
    // etcd: one reboot per member, quorum kept, never more than one member down.
    const reboots = (await cp.historySince(historyBefore)).filter((s) => s.event === 'rebooting').map((s) => s.member.nodeId);
    expect(reboots.sort()).toEqual([...nodeOf.values()].sort());
    expect(await cp.judgeSince(historyBefore)).toMatchObject({ quorumAlwaysKept: true, maxMembersChangedAtOnce: 1, minUp: 2, maxMembers: 3 });

    // Each operator did its part of the held node and nothing twice; the others were upgraded once, by the last.
    const stepsOf = (n: number, name: string) => stepsLoggedBy(n).filter((s) => s.machine === name && s.target === 'Talos v1.14.2').map((s) => s.step);
    expect([drainedBy, rebootedBy, finishedBy].map((n) => stepsOf(n, held))).toEqual([['pull', 'install', 'drain'], ['reboot'], ['finish']]);
    for (const other of machines.map((m) => m.metadata.name!).filter((n) => n !== held)) {
      expect([other, stepsOf(drainedBy, other), stepsOf(rebootedBy, other), stepsOf(finishedBy, other)]).toEqual([other, [], [], ['pull', 'install', 'drain', 'reboot', 'finish']]);
    }
  });

  it('renews the kubeconfig’s client certificate once half its life has passed (read again by an operator started after)', async () => {
    const client = KubeClient.load(state.kubeconfig);
    const name = `${cp.cluster.metadata.name}-kubeconfig`;
    const secret = await client.get<SecretObject>(SecretKind, cp.namespace, name);
    const original = fromBase64(secret.data?.value);
    // The same kubeconfig with a client certificate 2 of its 3 hours old (from another CA: only its validity is read).
    const ca = await createCertificateAuthority({ algorithm: 'ecdsa-p256', notBefore: new Date(Date.now() - 86_400_000), notAfter: new Date(Date.now() + 86_400_000) });
    const spent = await issueClientCertificate({ ca, organizations: ['system:masters'], notBefore: new Date(Date.now() - 2 * 3_600_000), notAfter: new Date(Date.now() + 3_600_000) });
    const doc = parseYaml(original) as { users: { user: Record<string, string> }[] };
    doc.users[0]!.user['client-certificate-data'] = Buffer.from(spent.crt).toString('base64');
    doc.users[0]!.user['client-key-data'] = Buffer.from(spent.key).toString('base64');
    const startedAt = Date.now();
    await client.patch(SecretKind, cp.namespace, name, { data: { value: Buffer.from(stringifyYaml(doc)).toString('base64') } }, 'merge');

    killOperator();
    await startOperator();
    const renewed = await eventually('a renewed kubeconfig', async () => {
      const value = fromBase64((await client.get<SecretObject>(SecretKind, cp.namespace, name)).data?.value);
      const validity = clientCertificateValidity(value);
      return validity && validity.notBefore > startedAt - 10 * 60_000 && validity.notAfter > Date.now() + 86_400_000 ? value : undefined;
    }, { timeoutMs: 120_000, intervalMs: 500 });
    await eventsFor(client, cp.namespace, cp.name, 'KubeconfigRenewed');
    const path = join(dir, 'renewed-kubeconfig');
    writeFileSync(path, renewed, { mode: 0o600 });
    const nodes = await KubeClient.load(path).list(NodeKind, {});
    expect(nodes.items).toHaveLength(3);
  });
});
