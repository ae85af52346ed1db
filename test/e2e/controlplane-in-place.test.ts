// The InPlace rollout strategy in the world: a control plane of 3 (and a MachineDeployment of 2
// workers) at Kubernetes v1.33 upgraded to v1.34 on its running nodes through the Talos API — no
// Machine replaced, one node at a time, no etcd member ever down, every Node's kubelet at the new
// version, its static pods' copies in the workload cluster rendered from the config applied, the
// bootstrap data Secrets saying what the nodes run, the Machines' spec.version following, and once
// all of them run it the workload's kube-proxy DaemonSet too (a cluster with kube-proxy disabled
// has none, and is told so). A step that fails stops the upgrade and says where; it resumes once
// the fault clears. Then a change that cannot be made in place (the version with a new
// infrastructure template) rolls by replacement, and kube-proxy follows it as well.
import { MachineKind } from '../../src/api/capi/v1beta2/resources';
import type { Machine } from '../../src/api/capi/v1beta2/types';
import { fromBase64, type SecretObject } from '../../src/cluster/secrets';
import { IN_PLACE_UPGRADE_ANNOTATION } from '../../src/controlplane/in-place-progress';
import { CONFIG_VERSION_ANNOTATION } from '../../src/controlplane/static-pods';
import type { ControlPlanePod } from '../../src/cluster/workload-nodes';
import { PodKind } from '../../src/cluster/node-drain';
import { DaemonSetKind, KUBE_PROXY_VERSION_ANNOTATION } from '../../src/controlplane/kube-proxy';
import { isNotFound } from '../../src/kube/client/api-error';
import { NodeKind, SecretKind } from '../../src/kube/client/resource';
import type { KubeObject } from '../../src/kube/meta/object';
import { eventsFor } from '../support/capi-fixtures';
import { ControlPlaneProbe, kubeProxyAt, kubeProxyImage } from './controlplane-fixtures';
import {
  createClusterWithControlPlane, createMachineDeployment, createNamespace, createWorkerTemplates, eventually, waitForRunningMachines, workloadClient, world,
} from './world-fixtures';
import { INFRA_API_VERSION, SimMachineTemplateKind } from '../world/infra/api';

jest.setTimeout(600_000);

const w = world();
const NAME = 'iota';
const OLD = 'v1.33.4';
const NEW = 'v1.34.1';
const IN_PLACE = { 'controlplane.cluster.x-k8s.io/rollout-strategy': 'InPlace' };
const kubeProxy = (version: string) => `registry.k8s.io/kube-proxy:${version}`;

interface Node extends KubeObject {
  status?: { nodeInfo?: { kubeletVersion?: string } };
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

let cp: ControlPlaneProbe;
let older: ControlPlaneProbe;

// Both clusters come up side by side.
beforeAll(async () => {
  const namespace = await createNamespace(w.client, 'e2e-cp-in-place');
  const cluster = await createClusterWithControlPlane(w.client, namespace, NAME, 3, { version: OLD, annotations: IN_PLACE });
  cp = new ControlPlaneProbe(w.client, w.sim, cluster);
  await createWorkerTemplates(w.client, namespace, `${NAME}-workers`);
  await createMachineDeployment(w.client, cluster, `${NAME}-workers`, 2, `${NAME}-workers`, OLD);
  older = new ControlPlaneProbe(w.client, w.sim, await createClusterWithControlPlane(w.client, namespace, 'kappa', 1, {
    version: OLD, annotations: IN_PLACE, configPatches: [
      { op: 'add', path: '/machine/install/image', value: 'ghcr.io/siderolabs/installer:v1.12.6' },
      { op: 'add', path: '/cluster/proxy/disabled', value: true },
    ],
  }));
});

describe('a Talos 1.12 node, which serves no ImageService, with kube-proxy disabled', () => {
  it('is upgraded in place all the same: the apply has it pull the images; there is no kube-proxy to upgrade, and that is said', async () => {
    const { machines: [machine] } = await older.settled(1, OLD);
    await older.patch({ version: NEW });
    const { machines: [after] } = await older.settled(1, NEW, 120_000);
    expect(after!.metadata.uid).toBe(machine!.metadata.uid);
    const node = await w.sim.inspect(await older.nodeIdOf(after!));
    expect(node.kubeletImage).toBe(`ghcr.io/siderolabs/kubelet:${NEW}`);
    const steps = await eventsFor(w.client, older.namespace, older.name, 'InPlaceUpgradeStep');
    expect(steps.map((e) => e.note)).toContainEqual(`Machine ${machine!.metadata.name}'s node serves no ImageService (Talos < 1.13): it pulls the Kubernetes ${NEW} images when the config is applied`);

    const workload = await workloadClient(w, older.namespace, 'kappa');
    expect(await workload.get(DaemonSetKind, 'kube-system', 'kube-proxy').then(() => 'found', (error: unknown) => (isNotFound(error) ? 'absent' : error))).toBe('absent');
    const left = await eventsFor(w.client, older.namespace, older.name, 'KubeProxyNotManaged');
    expect(left.map((e) => e.note)).toContainEqual(`Left kube-proxy alone at Kubernetes ${NEW}: the workload cluster has no DaemonSet kube-system/kube-proxy (kube-proxy disabled, or run by the CNI or the user)`);
  });
});

describe('a control plane of 3 upgraded in place', () => {
  it(`comes up at ${OLD} with 2 workers, and Talos's kube-proxy DaemonSet at ${OLD}`, async () => {
    await cp.settled(3, OLD);
    await waitForRunningMachines(w.client, cp.namespace, NAME, 5);
    expect(await kubeProxyImage(await workloadClient(w, cp.namespace, NAME))).toBe(kubeProxy(OLD));
    // Read once and found at the version: recorded, so that it is not read again.
    await eventually('the kube-proxy version recorded', async () => (await cp.tcp()).metadata.annotations?.[KUBE_PROXY_VERSION_ANNOTATION] === OLD || undefined, { timeoutMs: 60_000, intervalMs: 250 });
  });

  it(`upgrades ${OLD} → ${NEW} on the running nodes: same Machines, one node at a time, etcd untouched`, async () => {
    const before = await cp.machines();
    const nodeIds = await Promise.all(before.map((m) => cp.nodeIdOf(m)));
    const nodesBefore = await Promise.all(nodeIds.map((id) => w.sim.inspect(id)));
    const historyBefore = await cp.historyLength();
    const startedAt = Date.now();
    await cp.patch({ version: NEW });

    // Sampled all along: never a Machine more or less, never two nodes under way at once.
    let done = false;
    let mostUnderWay = 0;
    const machineCounts = new Set<number>();
    let sawInPlace = '';
    const sampling = (async () => {
      while (!done) {
        const [machines, tcp] = await Promise.all([cp.machines(), cp.tcp()]);
        machineCounts.add(machines.length);
        mostUnderWay = Math.max(mostUnderWay, machines.filter((m) => IN_PLACE_UPGRADE_ANNOTATION in (m.metadata.annotations ?? {})).length);
        const rolling = cp.condition(tcp, 'RollingOut');
        if (rolling?.status === 'True' && rolling.message?.includes('in place')) sawInPlace = rolling.message;
        await sleep(200);
      }
    })();
    const { tcp, machines } = await cp.settled(3, NEW, 240_000);
    done = true;
    await sampling;
    const seconds = (Date.now() - startedAt) / 1000;
    process.stderr.write(`[figures] in-place Kubernetes upgrade of 3 control-plane nodes ${OLD} → ${NEW}: ${seconds.toFixed(1)} s\n`);

    expect(machines.map((m) => m.metadata.uid).sort()).toEqual(before.map((m) => m.metadata.uid).sort());
    expect([...machineCounts]).toEqual([3]);
    expect(mostUnderWay).toBe(1);
    expect(sawInPlace).toMatch(/^Rolling out \d outdated Machines? in place/);
    expect(sawInPlace).toContain(`Kubernetes version ${OLD}, ${NEW} wanted (upgraded in place`);
    expect(tcp.status?.versions).toEqual([{ version: NEW, replicas: 3 }]);
    expect(machines.every((m) => !(IN_PLACE_UPGRADE_ANNOTATION in (m.metadata.annotations ?? {})))).toBe(true);

    // No etcd member went down or changed: the history has not moved.
    expect(await cp.historyLength()).toBe(historyBefore);
    expect(await cp.etcdMembers()).toEqual(machines.map((m) => m.status!.nodeRef!.name).sort());

    // Each node runs the new images without a reboot, and its bootstrap data Secret says so.
    for (const [i, id] of nodeIds.entries()) {
      const node = await w.sim.inspect(id);
      expect(node.bootCount).toBe(nodesBefore[i]!.bootCount);
      expect(node.kubeletImage).toBe(`ghcr.io/siderolabs/kubelet:${NEW}`);
      expect(node.staticPods?.map((p) => `${p.image} ${p.ready}`)).toEqual(
        ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((c) => `registry.k8s.io/${c}:${NEW} true`),
      );
      expect(node.images?.map((image) => image.name)).toContain(`registry.k8s.io/kube-proxy:${NEW}`);
    }
    for (const machine of machines) {
      const secret = await w.client.get<SecretObject>(SecretKind, cp.namespace, machine.spec.bootstrap.dataSecretName!);
      const node = await w.sim.inspect(await cp.nodeIdOf(machine));
      expect(fromBase64(secret.data?.value)).toBe(node.appliedConfig);
      expect(node.appliedConfig).toContain(`registry.k8s.io/kube-proxy:${NEW}`);
    }

    const workload = await workloadClient(w, cp.namespace, NAME);
    const nodes = (await workload.list<Node>(NodeKind, {})).items;
    const version = (name: string) => nodes.find((n) => n.metadata.name === name)?.status?.nodeInfo?.kubeletVersion;
    expect(machines.map((m) => version(m.status!.nodeRef!.name))).toEqual([NEW, NEW, NEW]);
    // Workers are their MachineDeployment's business: untouched.
    expect(nodes.filter((n) => !machines.some((m) => m.status!.nodeRef!.name === n.metadata.name)).map((n) => n.status?.nodeInfo?.kubeletVersion)).toEqual([OLD, OLD]);

    const upgraded = await eventsFor(w.client, cp.namespace, cp.name, 'MachineUpgradedInPlace');
    expect(upgraded.map((e) => e.note).sort()).toEqual(machines.map((m) => `Upgraded Machine ${m.metadata.name} to Kubernetes ${NEW} in place: its static pods run the new images from the config applied and its Node reports kubelet ${NEW}`).sort());

    // The static pods' copies in the workload cluster were rendered from the config applied.
    for (const machine of machines) {
      const nodeName = machine.status!.nodeRef!.name;
      const rendered = (await w.sim.inspect(await cp.nodeIdOf(machine))).staticPods ?? [];
      for (const component of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const) {
        const pod = await workload.get<ControlPlanePod>(PodKind, 'kube-system', `${component}-${nodeName}`);
        expect(pod.spec?.containers?.[0]?.image).toBe(`registry.k8s.io/${component}:${NEW}`);
        expect(pod.metadata.annotations?.[CONFIG_VERSION_ANNOTATION]).toBe(String(rendered.find((p) => p.name === component)?.configVersion));
        expect(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      }
    }

    // Then the workload's kube-proxy, which Talos deployed once and never updates.
    await kubeProxyAt(workload, kubeProxy(NEW));
    const proxy = await eventsFor(w.client, cp.namespace, cp.name, 'KubeProxyUpgraded');
    expect(proxy.map((e) => e.note)).toEqual([
      `Set the image of DaemonSet kube-system/kube-proxy in the workload cluster: ${kubeProxy(OLD)} → ${kubeProxy(NEW)} (every control-plane Machine runs Kubernetes ${NEW})`,
    ]);
    await eventually('the kube-proxy version recorded', async () => (await cp.tcp()).metadata.annotations?.[KUBE_PROXY_VERSION_ANNOTATION] === NEW || undefined, { timeoutMs: 30_000, intervalMs: 250 });
  });

  it('a failed step stops the upgrade naming the node and the step; once the fault clears it goes on from there', async () => {
    const machines = await cp.machines();
    const nodeIds = await Promise.all(machines.map((m) => cp.nodeIdOf(m)));
    const historyBefore = await cp.historyLength();
    const refused = { rpcErrors: { ApplyConfiguration: { code: 'FailedPrecondition', message: 'apply refused' } } };
    await Promise.all(nodeIds.map((id) => w.sim.setFault(id, refused)));
    await cp.patch({ version: 'v1.34.2' });
    const stopped = await eventually('RollingOut naming the failed step', async () => {
      const message = cp.condition(await cp.tcp(), 'RollingOut')?.message ?? '';
      return /In-place upgrade of Machine \S+ to v1\.34\.2 stopped: step apply failed: .*apply refused/.exec(message)?.[0];
    }, { timeoutMs: 60_000, intervalMs: 250 });
    const failed = await eventsFor(w.client, cp.namespace, cp.name, 'InPlaceUpgradeFailed');
    expect(failed.map((e) => e.note)).toContainEqual(expect.stringContaining(stopped));
    // The rollout is not over: kube-proxy stays where it was.
    const workload = await workloadClient(w, cp.namespace, NAME);
    expect(await kubeProxyImage(workload)).toBe(kubeProxy(NEW));
    // Only the node that failed has progress (its images pulled); the others are untouched.
    const name = /Machine (\S+) to/.exec(stopped)![1];
    const during = await cp.machines();
    expect(during.map((m) => [m.metadata.name === name, m.spec.version, m.metadata.annotations?.[IN_PLACE_UPGRADE_ANNOTATION]])).toEqual(
      expect.arrayContaining([[true, NEW, '{"version":"v1.34.2","step":"pulled"}'], [false, NEW, undefined], [false, NEW, undefined]]),
    );

    await Promise.all(nodeIds.map((id) => w.sim.clearFaults(id)));
    const { machines: after } = await cp.settled(3, 'v1.34.2', 120_000);
    expect(after.map((m) => m.metadata.uid).sort()).toEqual(machines.map((m) => m.metadata.uid).sort());
    expect(await cp.historyLength()).toBe(historyBefore);
    await kubeProxyAt(workload, kubeProxy('v1.34.2'));
  });

  it('a version change with a new infrastructure template is rolled by replacement, and RollingOut says why; kube-proxy follows once it is over', async () => {
    const old = (await cp.machines()).map((m) => m.metadata.name!);
    await w.client.create(SimMachineTemplateKind, {
      apiVersion: INFRA_API_VERSION, kind: 'SimMachineTemplate', metadata: { name: `${NAME}-control-plane-2`, namespace: cp.namespace }, spec: { template: { spec: {} } },
    });
    const before = await cp.historyLength();
    const tcp = await cp.tcp();
    await cp.patch({ version: 'v1.34.3', infrastructureTemplate: { ...tcp.spec.infrastructureTemplate, name: `${NAME}-control-plane-2` } });
    const why = await eventually('RollingOut saying the Machines are replaced', async () => {
      const message = cp.condition(await cp.tcp(), 'RollingOut')?.message ?? '';
      return message.includes('(replaced: only a Kubernetes version or Talos installer change is made in place)') ? message : undefined;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    expect(why).toContain('Kubernetes version v1.34.2, v1.34.3 wanted; infrastructure cloned from');
    const { machines } = await cp.settled(3, 'v1.34.3');
    await cp.expectRolledOnce(before, old, machines);
    const still = await Promise.all(old.map((name) => w.client.get<Machine>(MachineKind, cp.namespace, name).then(() => name, () => undefined)));
    expect(still.filter(Boolean)).toEqual([]);
    await kubeProxyAt(await workloadClient(w, cp.namespace, NAME), kubeProxy('v1.34.3'));
  });
});
