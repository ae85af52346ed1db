// The InPlace rollout strategy upgrading Talos itself in the world: a control plane of 3 nodes at
// Talos 1.13 whose installer image (a config patch of controlPlaneConfig) moves to 1.14 — each
// node in turn pulls the installer, installs it, is cordoned and drained, reboots into it and is
// uncordoned once it reports the new version with its etcd member and Node healthy. No Machine is
// replaced, etcd never loses quorum and never has more than one member down, the bootstrap data
// Secrets name the new installer and the Machines count as up to date. Then a node that does not
// come back from its reboot stops the rollout, which says why and keeps the others up, and goes on
// once the node is started again; an installer that fails stops it naming the node and the step,
// and it goes on from there once the fault clears. A single node at Talos 1.12, which has no LifecycleService, is
// upgraded through MachineService.Upgrade, staged, and the same reboot.
import type { Machine } from '../../src/api/capi/v1beta2/types';
import { IN_PLACE, ROLLOUT_STRATEGY_ANNOTATION } from '../../src/api/controlplane/group';
import { fromBase64, type SecretObject } from '../../src/cluster/secrets';
import { IN_PLACE_UPGRADE_ANNOTATION } from '../../src/controlplane/in-place-progress';
import { INSTALLED_IMAGE_ANNOTATION } from '../../src/controlplane/installer';
import { NodeKind, SecretKind } from '../../src/kube/client/resource';
import type { KubeClient } from '../../src/kube/client/client';
import type { KubeObject } from '../../src/kube/meta/object';
import { unwrapSingle } from '../../src/talos/api';
import { PodKind } from '../../src/cluster/node-drain';
import { eventsFor } from '../support/capi-fixtures';
import { ControlPlaneProbe } from './controlplane-fixtures';
import {
  createClusterWithControlPlane, createNamespace, eventually, INSTALL_DISK_PATCH, KUBERNETES_VERSION, talosClientFor, TALOS_VERSION, workloadClient, world,
} from './world-fixtures';

jest.setTimeout(600_000);

const installer = (tag: string) => `ghcr.io/siderolabs/installer:${tag}`;
const w = world();
const NAME = 'mu';
const VERSION = KUBERNETES_VERSION;
const OLD = installer('v1.13.5');
const NEW = installer('v1.14.2');
const NEXT = installer('v1.14.3');
const LATER = installer('v1.14.4');
const imagePatch = (image: string) => ({ op: 'add', path: '/machine/install/image', value: image });

interface Node extends KubeObject {
  spec?: { unschedulable?: boolean };
}

interface Pod extends KubeObject {
  spec?: { nodeName?: string; containers: { name: string; image: string }[] };
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

let cp: ControlPlaneProbe;
let older: ControlPlaneProbe;
let workload: KubeClient;

async function upgradeTo(image: string, probe = cp): Promise<void> {
  await probe.patch({ controlPlaneConfig: { controlplane: { generateType: 'controlplane', talosVersion: TALOS_VERSION, configPatches: [INSTALL_DISK_PATCH, imagePatch(image)] } } });
}

async function talosTag(machine: Machine, probe = cp): Promise<string> {
  const talos = await talosClientFor(w.client, probe.cluster, machine);
  try {
    return unwrapSingle(await talos.version({ timeoutMs: 5_000 }), 'Version').tag;
  } finally {
    talos.close();
  }
}

/** Every Machine records `image` as what its node runs, then the control plane settles. */
async function upgradedTo(image: string): Promise<Machine[]> {
  await eventually(`every Machine recording ${image}`, async () => {
    const all = await cp.machines();
    return all.every((m) => m.metadata.annotations?.[INSTALLED_IMAGE_ANNOTATION] === image) ? all : undefined;
  }, { timeoutMs: 240_000, intervalMs: 500 });
  return (await cp.settled(3, VERSION, 60_000)).machines;
}

const nodeNames = (machines: Machine[]) => machines.map((m) => m.status!.nodeRef!.name);

async function cordoned(names: string[]): Promise<string[]> {
  const nodes = (await workload.list<Node>(NodeKind, {})).items;
  return nodes.filter((n) => names.includes(n.metadata.name!) && n.spec?.unschedulable === true).map((n) => n.metadata.name!);
}

beforeAll(async () => {
  const namespace = await createNamespace(w.client, 'e2e-cp-talos-upgrade');
  const cluster = await createClusterWithControlPlane(w.client, namespace, NAME, 3, { version: VERSION, annotations: { [ROLLOUT_STRATEGY_ANNOTATION]: IN_PLACE }, configPatches: [imagePatch(OLD)] });
  cp = new ControlPlaneProbe(w.client, w.sim, cluster);
  older = new ControlPlaneProbe(w.client, w.sim, await createClusterWithControlPlane(w.client, namespace, 'nu', 1, {
    version: VERSION, annotations: { [ROLLOUT_STRATEGY_ANNOTATION]: IN_PLACE }, configPatches: [imagePatch(installer('v1.12.6'))],
  }));
});

describe('a Talos 1.12 node, which serves no LifecycleService nor ImageService', () => {
  it('is upgraded in place through MachineService.Upgrade, staged, then rebooted', async () => {
    const { machines: [machine] } = await older.settled(1, VERSION);
    expect(await talosTag(machine!, older)).toBe('v1.12.6');
    await upgradeTo(OLD, older);
    const after = await eventually('the Machine recording the new installer', async () => {
      const [found] = await older.machines();
      return found?.metadata.annotations?.[INSTALLED_IMAGE_ANNOTATION] === OLD ? found : undefined;
    }, { timeoutMs: 120_000, intervalMs: 500 });
    expect(after.metadata.uid).toBe(machine!.metadata.uid);
    expect(await talosTag(after, older)).toBe('v1.13.5');
    const steps = (await eventsFor(w.client, older.namespace, older.name, 'InPlaceUpgradeStep')).map((e) => e.note);
    expect(steps).toContainEqual(expect.stringContaining('through MachineService.Upgrade, staged (the node ran Talos v1.12.6, which has no LifecycleService)'));
    expect(steps).toContainEqual(`Machine ${machine!.metadata.name}'s node serves no ImageService (Talos < 1.13): MachineService.Upgrade pulls installer ${OLD} itself`);
    await older.settled(1, VERSION, 60_000);
  });
});

describe('a control plane of 3 upgraded from Talos 1.13 to 1.14 in place', () => {
  it('comes up at Talos 1.13', async () => {
    const { machines } = await cp.settled(3, VERSION);
    expect(await Promise.all(machines.map((m) => talosTag(m)))).toEqual(['v1.13.5', 'v1.13.5', 'v1.13.5']);
    workload = await workloadClient(w, cp.namespace, NAME);
  });

  it('reboots each node into the new installer in turn: same Machines, etcd quorum kept, one member down at most, Nodes drained and uncordoned', async () => {
    const before = await cp.machines();
    const names = nodeNames(before);
    const nodeIds = await Promise.all(before.map((m) => cp.nodeIdOf(m)));
    const bootsBefore = await Promise.all(nodeIds.map(async (id) => (await w.sim.inspect(id)).bootCount));
    // A pod the drain evicts, and a DaemonSet's it leaves alone, on the first node.
    const pod = (name: string, ownerReferences?: KubeObject['metadata']['ownerReferences']): Pod => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', ownerReferences }, spec: { nodeName: names[0], containers: [{ name: 'c', image: 'nginx' }] },
    });
    await workload.create(PodKind, pod('app'));
    await workload.create(PodKind, pod('agent', [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: '5b7c6f0e-0000-4000-8000-000000000001', controller: true }]));
    const historyBefore = await cp.historyLength();
    const startedAt = Date.now();
    await upgradeTo(NEW);

    // Sampled all along: never a Machine more or less, never two nodes under way or cordoned at once.
    let done = false;
    let mostUnderWay = 0;
    let mostCordoned = 0;
    const everCordoned = new Set<string>();
    const machineCounts = new Set<number>();
    let sawInPlace = '';
    const finishedAt = new Map<string, number>();
    const sampling = (async () => {
      while (!done) {
        const [machines, tcp, down] = await Promise.all([cp.machines(), cp.tcp(), cordoned(names)]);
        machineCounts.add(machines.length);
        mostUnderWay = Math.max(mostUnderWay, machines.filter((m) => IN_PLACE_UPGRADE_ANNOTATION in (m.metadata.annotations ?? {})).length);
        mostCordoned = Math.max(mostCordoned, down.length);
        for (const name of down) everCordoned.add(name);
        for (const m of machines) if (m.metadata.annotations?.[INSTALLED_IMAGE_ANNOTATION] === NEW && !finishedAt.has(m.metadata.name!)) finishedAt.set(m.metadata.name!, Date.now());
        const rolling = cp.condition(tcp, 'RollingOut');
        if (rolling?.status === 'True' && rolling.message?.includes('in place')) sawInPlace = rolling.message;
        await sleep(200);
      }
    })();
    const machines = await upgradedTo(NEW);
    done = true;
    await sampling;
    const seconds = (Date.now() - startedAt) / 1000;
    const perNode = [...finishedAt.values()].sort((a, b) => a - b).map((t, i, all) => (t - (i === 0 ? startedAt : all[i - 1]!)) / 1000);
    process.stderr.write(`[figures] in-place Talos upgrade of 3 control-plane nodes v1.13.5 → v1.14.2: ${seconds.toFixed(1)} s (per node ${perNode.map((s) => s.toFixed(1)).join(', ')} s)\n`);

    expect(machines.map((m) => m.metadata.uid).sort()).toEqual(before.map((m) => m.metadata.uid).sort());
    expect([...machineCounts]).toEqual([3]);
    expect(mostUnderWay).toBe(1);
    expect(mostCordoned).toBe(1);
    expect([...everCordoned].sort()).toEqual([...names].sort());
    expect(await cordoned(names)).toEqual([]);
    expect(sawInPlace).toContain(`Talos installer ${OLD}, ${NEW} wanted (upgraded in place`);

    // Each node rebooted once into the new version; etcd kept quorum with one member down at most.
    expect(await Promise.all(machines.map((m) => talosTag(m)))).toEqual(['v1.14.2', 'v1.14.2', 'v1.14.2']);
    for (const [i, id] of nodeIds.entries()) expect((await w.sim.inspect(id)).bootCount).toBe(bootsBefore[i]! + 1);
    const judged = await cp.judgeSince(historyBefore);
    expect(judged).toMatchObject({ quorumAlwaysKept: true, maxMembersChangedAtOnce: 1, minUp: 2, maxMembers: 3 });
    const reboots = (await cp.historySince(historyBefore)).filter((s) => s.event === 'rebooting').map((s) => s.member.nodeId);
    expect(reboots.sort()).toEqual([...nodeIds].sort());
    expect(await cp.etcdMembers()).toEqual([...names].sort());

    // The Machines record what their nodes run and their bootstrap data says it: a replacement would be the same.
    for (const machine of machines) {
      expect(machine.metadata.annotations?.[IN_PLACE_UPGRADE_ANNOTATION]).toBeUndefined();
      const secret = await w.client.get<SecretObject>(SecretKind, cp.namespace, machine.spec.bootstrap.dataSecretName!);
      expect(fromBase64(secret.data?.value)).toContain(NEW);
      expect(fromBase64(secret.data?.value)).not.toContain(OLD);
    }
    const app = await workload.get<Pod>(PodKind, 'default', 'app');
    expect(app.metadata.deletionTimestamp).toBeDefined();
    expect((await workload.get<Pod>(PodKind, 'default', 'agent')).metadata.deletionTimestamp).toBeUndefined();

    const upgraded = await eventsFor(w.client, cp.namespace, cp.name, 'MachineUpgradedInPlace');
    expect(upgraded.map((e) => e.note ?? '').filter((note) => note.includes('Talos v1.14.2')).length).toBe(3);
    const steps = (await eventsFor(w.client, cp.namespace, cp.name, 'InPlaceUpgradeStep')).map((e) => e.note);
    expect(steps).toContainEqual(expect.stringContaining('through LifecycleService.Upgrade (the node ran Talos v1.13.5)'));
  });

  it('a node that does not come back from its reboot stops the rollout, which says why and keeps the others up; it goes on once the node is back', async () => {
    const machines = await cp.machines();
    const nodeIds = await Promise.all(machines.map((m) => cp.nodeIdOf(m)));
    const bootsBefore = await Promise.all(nodeIds.map(async (id) => (await w.sim.inspect(id)).bootCount));
    await Promise.all(nodeIds.map((id) => w.sim.setFault(id, { staysDownAfterReboot: true })));
    const historyBefore = await cp.historyLength();
    await upgradeTo(NEXT);

    const stopped = await eventually('RollingOut saying which node it waits for', async () => {
      const message = cp.condition(await cp.tcp(), 'RollingOut')?.message ?? '';
      return /Upgrading Machine (\S+) to Talos v1\.14\.3 in place: rebooted, waiting for its Talos API to answer/.exec(message) ?? undefined;
    }, { timeoutMs: 90_000, intervalMs: 250 });
    const down = stopped[1]!;
    // It stays stopped there: no second node touched while this one is down.
    await sleep(5_000);
    const during = await cp.machines();
    const progress = during.map((m) => [m.metadata.name === down, m.metadata.annotations?.[IN_PLACE_UPGRADE_ANNOTATION]]);
    expect(progress).toEqual(expect.arrayContaining([[true, `{"installer":"${NEXT}","step":"rebooted"}`], [false, undefined], [false, undefined]]));
    const downId = nodeIds[machines.findIndex((m) => m.metadata.name === down)]!;
    for (const [i, id] of nodeIds.entries()) {
      const node = await w.sim.inspect(id);
      expect([id, node.state, node.bootCount]).toEqual(id === downId ? [id, 'rebooting', bootsBefore[i]] : [id, 'running', bootsBefore[i]]);
    }
    expect(cp.condition(await cp.tcp(), 'RollingOut')?.message).toContain(`Upgrading Machine ${down} to Talos v1.14.3 in place: rebooted, waiting for its Talos API to answer`);

    await Promise.all(nodeIds.map((id) => w.sim.clearFaults(id)));
    const after = await upgradedTo(NEXT);
    expect(after.map((m) => m.metadata.uid).sort()).toEqual(machines.map((m) => m.metadata.uid).sort());
    expect(await Promise.all(after.map((m) => talosTag(m)))).toEqual(['v1.14.3', 'v1.14.3', 'v1.14.3']);
    expect(await cp.judgeSince(historyBefore)).toMatchObject({ quorumAlwaysKept: true, maxMembersChangedAtOnce: 1, minUp: 2 });
    expect(await cordoned(nodeNames(after))).toEqual([]);
  });

  it('an installer that fails stops the rollout naming the node and the step, with no node down; it goes on once the fault clears', async () => {
    const machines = await cp.machines();
    const nodeIds = await Promise.all(machines.map((m) => cp.nodeIdOf(m)));
    const bootsBefore = await Promise.all(nodeIds.map(async (id) => (await w.sim.inspect(id)).bootCount));
    await Promise.all(nodeIds.map((id) => w.sim.setFault(id, { installerExitCode: 1 })));
    const historyBefore = await cp.historyLength();
    await upgradeTo(LATER);
    const stopped = await eventually('RollingOut naming the failed step', async () => {
      const message = cp.condition(await cp.tcp(), 'RollingOut')?.message ?? '';
      return /In-place upgrade of Machine (\S+) to Talos v1\.14\.4 stopped: step install failed: the installer exited with code 1/.exec(message) ?? undefined;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    const failed = await eventsFor(w.client, cp.namespace, cp.name, 'InPlaceUpgradeFailed');
    expect(failed.map((e) => e.note)).toContainEqual(expect.stringContaining(stopped[0]));
    const during = await cp.machines();
    expect(during.map((m) => [m.metadata.name === stopped[1], m.metadata.annotations?.[IN_PLACE_UPGRADE_ANNOTATION]])).toEqual(
      expect.arrayContaining([[true, `{"installer":"${LATER}","step":"pulled"}`], [false, undefined], [false, undefined]]),
    );
    for (const [i, id] of nodeIds.entries()) expect((await w.sim.inspect(id)).bootCount).toBe(bootsBefore[i]);

    await Promise.all(nodeIds.map((id) => w.sim.clearFaults(id)));
    const after = await upgradedTo(LATER);
    expect(await Promise.all(after.map((m) => talosTag(m)))).toEqual(['v1.14.4', 'v1.14.4', 'v1.14.4']);
    expect(await cp.judgeSince(historyBefore)).toMatchObject({ quorumAlwaysKept: true, maxMembersChangedAtOnce: 1, minUp: 2 });
  });
});
