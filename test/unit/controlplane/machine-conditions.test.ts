// The conditions the control plane keeps on its Machines: UpToDate, EtcdMemberHealthy, one per Talos service and one per static pod.
import { etcdMemberCondition, machineConditionChanges, says, serviceCondition, upToDateCondition } from '../../../src/controlplane/machine-conditions';
import { CONTROL_PLANE_SERVICES } from '../../../src/controlplane/service-watch';
import type { NodeServices } from '../../../src/controlplane/service-watch';
import type { Machine } from '../../../src/api/capi/v1beta2/types';
import { cluster, machine, tcp, view } from './fixtures';
import { ControlPlane } from '../../../src/controlplane/control-plane';
import { NodeIndex, type ControlPlanePod } from '../../../src/cluster/workload-nodes';
import { updateStatus } from '../../../src/controlplane/status';

const withUpToDate = (m: Machine, status: 'True' | 'False', reason: string, message = ''): Machine => ({
  ...m, status: { ...m.status, conditions: [...(m.status?.conditions ?? []), { type: 'UpToDate', status, reason, message, lastTransitionTime: 't' }] },
});

describe('UpToDate on control-plane Machines', () => {
  it('is True for an up-to-date Machine and False listing why otherwise', () => {
    expect(upToDateCondition([])).toEqual({ type: 'UpToDate', status: 'True', reason: 'UpToDate', message: '' });
    expect(upToDateCondition(['Kubernetes version v1.33.5, v1.34.1 wanted', 'TalosConfig differs from controlPlaneConfig'], 3)).toEqual({
      type: 'UpToDate', status: 'False', reason: 'NotUpToDate', observedGeneration: 3,
      message: '* Kubernetes version v1.33.5, v1.34.1 wanted\n* TalosConfig differs from controlPlaneConfig',
    });
  });

  it('is written only where it changes, never on a Machine being deleted', () => {
    const current = withUpToDate(machine('cp-a'), 'True', 'UpToDate');
    const stale = withUpToDate(machine('cp-b', { version: 'v1.33.5' }), 'True', 'UpToDate');
    const missing = machine('cp-c');
    const deleting = machine('cp-d', { version: 'v1.33.5', deleting: true });
    const changes = machineConditionChanges(view(tcp(), [current, stale, missing, deleting]), new Map());
    expect(changes.map(({ machine: m, conditions }) => [m.metadata.name, conditions.map((c) => `${c.type}=${c.status}`)])).toEqual([
      ['cp-b', ['UpToDate=False']], ['cp-c', ['UpToDate=True']],
    ]);
  });
});

describe('EtcdMemberHealthy on control-plane Machines', () => {
  const etcd = (state: string, healthy: boolean): NodeServices => ({
    reachable: true, services: new Map([['etcd', { state, healthy, healthUnknown: false, message: '' }]]),
  });

  it('says what the node\'s stream says of its etcd: healthy, not healthy, unreachable, not heard from', () => {
    expect(etcdMemberCondition(etcd('RUNNING', true))).toMatchObject({ type: 'EtcdMemberHealthy', status: 'True', reason: 'Healthy' });
    expect(etcdMemberCondition(etcd('RUNNING', false))).toMatchObject({ status: 'False', reason: 'NotHealthy', message: 'etcd running, not healthy' });
    expect(etcdMemberCondition({ reachable: false, error: 'connection refused' })).toMatchObject({
      status: 'Unknown', reason: 'InspectionFailed', message: 'Talos API not answering (connection refused)',
    });
    expect(etcdMemberCondition(undefined)).toMatchObject({ status: 'Unknown', reason: 'InspectingMember' });
  });

  it('is written once etcd is bootstrapped, and only where it changes', () => {
    const healthy = withUpToDate(machine('cp-a'), 'True', 'UpToDate');
    const said = { ...healthy, status: { ...healthy.status, conditions: [...healthy.status!.conditions!, { type: 'EtcdMemberHealthy', status: 'True' as const, reason: 'Healthy', message: '', lastTransitionTime: 't' }] } };
    // Only EtcdMemberHealthy is looked at here (the nodes' other services are not reported: those conditions change too).
    const services = new Map([['cp-a', etcd('RUNNING', true)], ['cp-b', etcd('FINISHED', false)]]);
    const sick = withUpToDate(machine('cp-b'), 'True', 'UpToDate');
    const etcdChanges = (bootstrapped: boolean) => machineConditionChanges(view(tcp({ bootstrapped }), [said, sick]), services)
      .flatMap(({ machine: m, conditions }) => conditions.filter((c) => c.type === 'EtcdMemberHealthy' && !says(m, c)).map((c) => `${m.metadata.name}: ${c.status}`));
    expect(etcdChanges(false)).toEqual([]);
    expect(etcdChanges(true)).toEqual(['cp-b: False']);
  });
});

const serviceRunning = (healthy = true) => ({ state: 'RUNNING', healthy, healthUnknown: false, message: '' });
const allWell = () => new Map([...CONTROL_PLANE_SERVICES, 'etcd'].map((id) => [id, serviceRunning()]));

describe('Talos service conditions on control-plane Machines', () => {
  const running = serviceRunning;

  it('one per Talos service of the control plane, named after it', () => {
    const names = CONTROL_PLANE_SERVICES.map((id) => serviceCondition(id, { reachable: true, services: allWell() }).type);
    expect(names).toEqual(['ApidHealthy', 'ContainerdHealthy', 'CriHealthy', 'KubeletHealthy', 'MachinedHealthy', 'TrustdHealthy']);
  });

  it('says what the node\'s stream says of the service: healthy, failing, not reported, unreachable, not heard from', () => {
    expect(serviceCondition('kubelet', { reachable: true, services: allWell() }, 4)).toEqual({ type: 'KubeletHealthy', status: 'True', reason: 'Healthy', message: '', observedGeneration: 4 });
    const failing = new Map([...allWell(), ['kubelet', { state: 'FAILED', healthy: false, healthUnknown: true, message: 'Condition failed: exit status 1' }]]);
    expect(serviceCondition('kubelet', { reachable: true, services: failing })).toEqual({ type: 'KubeletHealthy', status: 'False', reason: 'NotHealthy', message: 'kubelet failed (Condition failed: exit status 1)' });
    const unhealthy = new Map([...allWell(), ['apid', running(false)]]);
    expect(serviceCondition('apid', { reachable: true, services: unhealthy })).toMatchObject({ status: 'False', message: 'apid running, not healthy' });
    const noTrustd = new Map([...allWell()].filter(([id]) => id !== 'trustd'));
    expect(serviceCondition('trustd', { reachable: true, services: noTrustd })).toMatchObject({ type: 'TrustdHealthy', status: 'False', message: 'trustd not reported' });
    expect(serviceCondition('apid', { reachable: false, error: 'connection refused' })).toMatchObject({ status: 'Unknown', reason: 'InspectionFailed', message: 'Talos API not answering (connection refused)' });
    expect(serviceCondition('apid', undefined)).toMatchObject({ status: 'Unknown', reason: 'Inspecting' });
  });

  it('written once the node has an address (before etcd is bootstrapped too), only where one changes', () => {
    const kubeletDown = new Map([...allWell(), ['kubelet', { state: 'FINISHED', healthy: false, healthUnknown: true, message: '' }]]);
    const current = withUpToDate(machine('cp-a'), 'True', 'UpToDate');
    const said = { ...current, status: { ...current.status, conditions: [
      ...current.status!.conditions!,
      ...CONTROL_PLANE_SERVICES.map((id) => ({ ...serviceCondition(id, { reachable: true, services: allWell() }), lastTransitionTime: 't' })),
    ] } };
    const noAddress = withUpToDate(machine('cp-c'), 'True', 'UpToDate');
    const nodes = new Map([['cp-a', { reachable: true as const, services: allWell() }], ['cp-b', { reachable: true as const, services: kubeletDown }]]);
    const changes = machineConditionChanges(view(tcp(), [said, withUpToDate(machine('cp-b'), 'True', 'UpToDate'), noAddress]), nodes);
    expect(changes.map(({ machine: m, conditions }) => [m.metadata.name, conditions.filter((c) => c.status !== 'True').map((c) => `${c.type}=${c.status}: ${c.message}`)])).toEqual([
      ['cp-b', ['KubeletHealthy=False: kubelet finished']],
    ]);
  });
});

describe('static pod conditions, from the workload cluster', () => {
  const pod = (component: string, nodeName: string, ready: boolean): ControlPlanePod => ({
    metadata: { name: `${component}-${nodeName}`, namespace: 'kube-system', labels: { 'k8s-app': component, tier: 'control-plane' } },
    spec: { nodeName },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  });
  const running = (nodeName: string) => ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((c) => pod(c, nodeName, true));
  const machines = [machine('cp-a', { node: true }), machine('cp-b', { node: true })];
  const seen = (pods: ControlPlanePod[]) => new ControlPlane(structuredClone(tcp({ bootstrapped: true })), cluster, machines, new Map(), undefined, new NodeIndex([], pods));

  it('are set once the workload cluster is seen: Running, or why not', () => {
    const pods = [...running('cp-a'), pod('kube-apiserver', 'cp-b', false), pod('kube-controller-manager', 'cp-b', true)];
    const changes = machineConditionChanges(seen(pods), new Map());
    const podConditions = (name: string) => changes.find((c) => c.machine.metadata.name === name)!.conditions.filter((c) => c.type.endsWith('PodHealthy')).map((c) => `${c.type}=${c.status}/${c.reason}`);
    expect(podConditions('cp-a')).toEqual(['APIServerPodHealthy=True/Running', 'ControllerManagerPodHealthy=True/Running', 'SchedulerPodHealthy=True/Running']);
    expect(podConditions('cp-b')).toEqual(['APIServerPodHealthy=False/NotReady', 'ControllerManagerPodHealthy=True/Running', 'SchedulerPodHealthy=False/DoesNotExist']);
  });

  it('are not set before the workload cluster is seen', () => {
    const changes = machineConditionChanges(view(tcp({ bootstrapped: true }), machines), new Map());
    expect(changes.flatMap((c) => c.conditions).filter((c) => c.type.endsWith('PodHealthy'))).toEqual([]);
  });

  it('make ControlPlaneComponentsHealthy False naming the Machine and the pod', () => {
    const services = new Map(machines.map((m) => [m.metadata.name!, { reachable: true as const, services: allWell() }]));
    const healthy = seen([...running('cp-a'), ...running('cp-b')]);
    updateStatus(healthy, { kubeconfigWritten: true, nodeServices: services });
    expect(healthy.tcp.status?.conditions?.find((c) => c.type === 'ControlPlaneComponentsHealthy')).toMatchObject({ status: 'True' });
    const sick = seen([...running('cp-a'), ...running('cp-b').filter((p) => p.metadata.labels?.['k8s-app'] !== 'kube-scheduler')]);
    updateStatus(sick, { kubeconfigWritten: true, nodeServices: services });
    expect(sick.tcp.status?.conditions?.find((c) => c.type === 'ControlPlaneComponentsHealthy')).toMatchObject({
      status: 'False', reason: 'NotHealthy', message: '* Machine cp-b: The kube-scheduler static pod is not in the workload cluster',
    });
  });
});
