// The InPlace strategy with `onFailure: Replace` in the world (asked for on v1alpha3 with the
// annotations, read by the operator as v1beta1 through the conversion webhook): a control plane of
// 3 upgraded v1.33 → v1.34 where one node cannot pull the new kube-apiserver image, then to a new
// Talos installer that fails on another node. Each time that Machine is marked, RollingOut says why
// it is replaced, and it is replaced through the rolling update (a new Machine, then the old one out
// with its etcd member); the other two keep their Machines and are upgraded in place; etcd keeps
// quorum with at most one member in flux.
import type { Machine } from '../../src/api/capi/v1beta2/types';
import { IN_PLACE, IN_PLACE_ON_FAILURE_ANNOTATION, IN_PLACE_REPLACE, ROLLOUT_STRATEGY_ANNOTATION } from '../../src/api/controlplane/group';
import { IN_PLACE_FAILED_ANNOTATION } from '../../src/controlplane/in-place-fallback';
import { INSTALLED_IMAGE_ANNOTATION } from '../../src/controlplane/installer';
import { eventsFor } from '../support/capi-fixtures';
import type { SimFaults } from '../support/talos-sim';
import { ControlPlaneProbe } from './controlplane-fixtures';
import { createClusterWithControlPlane, createNamespace, INSTALL_DISK_PATCH, TALOS_VERSION, world } from './world-fixtures';

jest.setTimeout(600_000);

const w = world();
const NAME = 'phi';
const OLD = 'v1.33.4';
const NEW = 'v1.34.1';
const BROKEN = `registry.k8s.io/kube-apiserver:${NEW}`;
const INSTALLER = 'ghcr.io/siderolabs/installer:v1.14.2';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const byCreation = (a: Machine, b: Machine) => a.metadata.creationTimestamp!.localeCompare(b.metadata.creationTimestamp!) || a.metadata.name!.localeCompare(b.metadata.name!);

let cp: ControlPlaneProbe;

beforeAll(async () => {
  const namespace = await createNamespace(w.client, 'e2e-cp-in-place-fallback');
  const annotations = { [ROLLOUT_STRATEGY_ANNOTATION]: IN_PLACE, [IN_PLACE_ON_FAILURE_ANNOTATION]: IN_PLACE_REPLACE };
  cp = new ControlPlaneProbe(w.client, w.sim, await createClusterWithControlPlane(w.client, namespace, NAME, 3, { version: OLD, annotations }));
});

interface Fallback {
  victim: Machine;
  kept: Machine[];
  machines: Machine[];
  /** The victim's mark, as JSON. */
  mark: unknown;
  /** RollingOut's message while it said why the victim is replaced. */
  why: string;
}

/**
 * Makes `change` with `fault` on the node of the `victimAt`-th oldest Machine, until the control
 * plane settles at `version`: the victim replaced, the others kept, etcd judged all along.
 */
async function changeWithOneFailing(victimAt: number, fault: SimFaults, change: Record<string, unknown>, version: string, what: string): Promise<Fallback> {
  const before = (await cp.machines()).sort(byCreation);
  const victim = before[victimAt]!;
  const kept = before.filter((m) => m !== victim);
  await cp.avoidHistoryNode(victim, before);
  await w.sim.setFault(await cp.nodeIdOf(victim), fault);
  const historyBefore = await cp.historyLength();
  const startedAt = Date.now();
  await cp.patch(change);

  let done = false;
  let mark: string | undefined;
  let why = '';
  const sampling = (async () => {
    while (!done) {
      const [machines, tcp] = await Promise.all([cp.machines(), cp.tcp()]);
      mark ??= machines.find((m) => m.metadata.uid === victim.metadata.uid)?.metadata.annotations?.[IN_PLACE_FAILED_ANNOTATION];
      const message = cp.condition(tcp, 'RollingOut')?.message ?? '';
      if (message.includes('onFailure is Replace')) why = message;
      await sleep(200);
    }
  })();
  const { machines } = await cp.settled(3, version, 400_000);
  done = true;
  await sampling;
  process.stderr.write(`[figures] ${what} of 3 control-plane nodes, one replaced after its step failed: ${((Date.now() - startedAt) / 1000).toFixed(1)} s\n`);

  const uids = machines.map((m) => m.metadata.uid);
  expect(uids).not.toContain(victim.metadata.uid);
  expect(uids).toEqual(expect.arrayContaining(kept.map((m) => m.metadata.uid)));
  expect(machines.filter((m) => !kept.some((k) => k.metadata.uid === m.metadata.uid)).map((m) => m.metadata.name)).not.toContain(victim.metadata.name);
  await cp.expectRolledOnce(historyBefore, [victim.metadata.name!], machines);
  return { victim, kept, machines, mark: JSON.parse(mark ?? '{}'), why };
}

const fallbackNotes = async () => (await eventsFor(w.client, cp.namespace, cp.name, 'InPlaceUpgradeFallback')).map((e) => e.note);

describe('onFailure Replace', () => {
  it('is spec.rollout.strategy.inPlace.onFailure on v1beta1', async () => {
    await cp.settled(3, OLD);
    expect((await cp.hub()).spec.rollout?.strategy).toMatchObject({ type: IN_PLACE, inPlace: { onFailure: IN_PLACE_REPLACE } });
  });

  it(`replaces the Machine whose node cannot pull ${BROKEN}, and upgrades the others in place`, async () => {
    const { victim, kept, mark, why } = await changeWithOneFailing(1, { brokenImages: [BROKEN] }, { version: NEW }, NEW, `in-place upgrade ${OLD} → ${NEW}`);
    const name = victim.metadata.name!;
    expect(mark).toMatchObject({ version: NEW, step: 'pull', error: expect.stringContaining(BROKEN) });
    expect(why).toContain(`* Machine ${name}: Kubernetes version ${OLD}, ${NEW} wanted (replaced: its in-place upgrade to ${NEW} failed at step pull: `);
    expect(why).toContain(', and rollout.strategy.inPlace.onFailure is Replace)');
    expect(await fallbackNotes()).toEqual([expect.stringMatching(
      new RegExp(`^In-place upgrade of Machine ${name} to ${NEW} failed at step pull: .*${BROKEN}.*; rollout.strategy.inPlace.onFailure is Replace: the Machine is replaced instead$`),
    )]);
    const upgraded = await eventsFor(w.client, cp.namespace, cp.name, 'MachineUpgradedInPlace');
    expect(upgraded.map((e) => e.note).sort()).toEqual(kept.map((m) => `Upgraded Machine ${m.metadata.name} to Kubernetes ${NEW} in place: its static pods run the new images from the config applied and its Node reports kubelet ${NEW}`).sort());
  });

  it(`replaces the Machine whose installer fails on a Talos upgrade to ${INSTALLER}, and upgrades the others in place`, async () => {
    const patches = [INSTALL_DISK_PATCH, { op: 'add', path: '/machine/install/image', value: INSTALLER }];
    const change = { controlPlaneConfig: { controlplane: { generateType: 'controlplane', talosVersion: TALOS_VERSION, configPatches: patches } } };
    const { victim, kept, machines, mark, why } = await changeWithOneFailing(0, { installerExitCode: 1 }, change, NEW, `in-place Talos upgrade to ${INSTALLER}`);
    const name = victim.metadata.name!;
    expect(mark).toMatchObject({ installer: INSTALLER, step: 'install', error: expect.stringContaining('the installer exited with code 1') });
    expect(why).toContain(`* Machine ${name}: Talos installer (the default), ${INSTALLER} wanted (replaced: its in-place upgrade to Talos v1.14.2 failed at step install: `);
    expect(await fallbackNotes()).toContainEqual(expect.stringMatching(new RegExp(`^In-place upgrade of Machine ${name} to Talos v1\\.14\\.2 failed at step install: `)));
    // The kept Machines record the installer their nodes now run (the new one, made with it, is up to date: settled).
    expect(machines.filter((m) => kept.some((k) => k.metadata.uid === m.metadata.uid)).map((m) => m.metadata.annotations?.[INSTALLED_IMAGE_ANNOTATION])).toEqual([INSTALLER, INSTALLER]);
  });
});
