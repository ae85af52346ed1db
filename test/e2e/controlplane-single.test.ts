// A single-replica control plane rolls by surging whatever maxSurge says (its only etcd member is
// never removed before the replacement joined), on an infrastructure template change and on a
// controlPlaneConfig change, in the world with the simulator recording etcd membership.
import { CONTROL_PLANE_LABEL, type Machine } from '../../src/api/capi/v1beta2/types';
import type { TalosControlPlane } from '../../src/api/controlplane/v1alpha3/types';
import type { KubeObject } from '../../src/kube/meta/object';
import { SimMachineKind, SimMachineTemplateKind } from '../world/infra/api';
import { eventsFor } from '../support/capi-fixtures';
import { membershipInvariants } from '../support/etcd-history';
import {
  createClusterWithControlPlane, createNamespace, eventually, INSTALL_DISK_PATCH, machinesOf, simMachine, TalosControlPlaneKind, TALOS_VERSION, world,
} from './world-fixtures';

jest.setTimeout(900_000);

const w = world();
const NAME = 'zeta';
const TCP = `${NAME}-control-plane`;
const TalosConfigKind = { group: 'bootstrap.cluster.x-k8s.io', version: 'v1alpha3', kind: 'TalosConfig', plural: 'talosconfigs', namespaced: true };
const KUBELET_PATCH = { op: 'add', path: '/machine/kubelet/extraArgs', value: { 'max-pods': '150' } };

describe('a control plane of 1 replica', () => {
  let namespace: string;
  let historyNode = '';

  const tcp = () => w.client.get<TalosControlPlane>(TalosControlPlaneKind, namespace, TCP);
  const controlPlaneMachines = async () => (await machinesOf(w.client, namespace, NAME)).filter((m) => CONTROL_PLANE_LABEL in (m.metadata.labels ?? {}));
  const nodeOf = async (machine: Machine) => (await simMachine(w.client, namespace, machine.metadata.name!)).status!.nodeId!;

  /** One Ready, up-to-date Machine other than `old`, the generation seen. */
  async function replaced(old: string, what: string): Promise<Machine> {
    return eventually(what, async () => {
      const [current, machines] = await Promise.all([tcp(), controlPlaneMachines()]);
      const s = current.status;
      const done = s?.observedGeneration === current.metadata.generation && s?.replicas === 1 && s?.readyReplicas === 1 && s?.upToDateReplicas === 1 &&
        machines.length === 1 && machines[0]!.metadata.name !== old && !machines[0]!.metadata.deletionTimestamp;
      return done ? machines[0] : undefined;
    }, { timeoutMs: 300_000, intervalMs: 500 });
  }

  /** Rolled by surging: never more than 2 members, never without quorum, one member in flux. */
  async function surged(beforeLength: number, machine: Machine): Promise<void> {
    historyNode = await nodeOf(machine);
    const judged = membershipInvariants((await w.sim.etcdHistory(historyNode)).slice(Math.max(0, beforeLength - 1)));
    expect(judged).toMatchObject({ quorumAlwaysKept: true, maxMembers: 2, minUp: 1 });
    expect(judged.maxMembersChangedAtOnce).toBeLessThanOrEqual(1);
  }

  beforeAll(async () => {
    namespace = await createNamespace(w.client, 'e2e-cp-single');
    await createClusterWithControlPlane(w.client, namespace, NAME, 1);
    await w.client.create(SimMachineTemplateKind, {
      apiVersion: 'infrastructure.cluster.x-k8s.io/v1alpha1', kind: 'SimMachineTemplate', metadata: { name: `${NAME}-control-plane-v2`, namespace }, spec: { template: { spec: {} } },
    });
  });

  it('comes up Ready', async () => {
    const [machine] = await eventually('1/1 Ready', async () => {
      const machines = await controlPlaneMachines();
      return (await tcp()).status?.readyReplicas === 1 && machines.length === 1 ? machines : undefined;
    }, { timeoutMs: 300_000, intervalMs: 500 });
    historyNode = await nodeOf(machine!);
  });

  it('a new infrastructure template with maxSurge 0 rolls by surging: 2 members at most, quorum kept, the new machine cloned from the new template', async () => {
    const [old] = await controlPlaneMachines();
    const before = (await w.sim.etcdHistory(historyNode)).length;
    await w.client.patch(TalosControlPlaneKind, namespace, TCP, {
      spec: {
        infrastructureTemplate: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1alpha1', kind: 'SimMachineTemplate', name: `${NAME}-control-plane-v2` },
        rolloutStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } },
      },
    }, 'merge');
    const machine = await replaced(old!.metadata.name!, 'replaced after the template change');
    await surged(before, machine);
    const infra = await w.client.get<KubeObject>(SimMachineKind, namespace, machine.spec.infrastructureRef.name);
    expect(infra.metadata.annotations?.['cluster.x-k8s.io/cloned-from-name']).toBe(`${NAME}-control-plane-v2`);
    const removed = await eventsFor(w.client, namespace, TCP, 'MachineRemoved');
    expect(removed.map((e) => e.note).join('\n')).toContain(`Deleted control-plane Machine ${old!.metadata.name} (outdated: infrastructure cloned from SimMachineTemplate.infrastructure.cluster.x-k8s.io ${TCP}`);
  });

  it('a controlPlaneConfig change rolls too, and the replacement’s TalosConfig carries it', async () => {
    const [old] = await controlPlaneMachines();
    const before = (await w.sim.etcdHistory(historyNode)).length;
    await w.client.patch(TalosControlPlaneKind, namespace, TCP, {
      spec: { controlPlaneConfig: { controlplane: { generateType: 'controlplane', talosVersion: TALOS_VERSION, configPatches: [INSTALL_DISK_PATCH, KUBELET_PATCH] } } },
    }, 'merge');
    const machine = await replaced(old!.metadata.name!, 'replaced after the config change');
    await surged(before, machine);
    const config = await w.client.get<KubeObject & { spec: { configPatches?: unknown[] } }>(TalosConfigKind, namespace, machine.spec.bootstrap.configRef!.name);
    expect(config.spec.configPatches).toEqual([INSTALL_DISK_PATCH, KUBELET_PATCH]);
    const node = await w.sim.inspect(historyNode);
    expect(node.bootConfig ?? node.appliedConfig).toContain('max-pods');
  });
});
