// The UpToDate condition the control plane keeps on its Machines.
import { etcdMemberCondition, machineConditionChanges, upToDateCondition } from '../../../src/controlplane/machine-conditions';
import type { NodeServices } from '../../../src/controlplane/service-watch';
import type { Machine } from '../../../src/api/capi/v1beta2/types';
import { machine, tcp, view } from './fixtures';

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
    const services = new Map([['cp-a', etcd('RUNNING', true)], ['cp-b', etcd('FINISHED', false)]]);
    const sick = withUpToDate(machine('cp-b'), 'True', 'UpToDate');
    expect(machineConditionChanges(view(tcp(), [said, sick]), services)).toEqual([]);
    const changes = machineConditionChanges(view(tcp({ bootstrapped: true }), [said, sick]), services);
    expect(changes.map(({ machine: m, conditions }) => [m.metadata.name, conditions.map((c) => `${c.type}=${c.status}`)])).toEqual([
      ['cp-b', ['UpToDate=True', 'EtcdMemberHealthy=False']],
    ]);
  });
});
