// What the demo prints: its live tables, when it calls the cluster Ready, `kubectl get nodes`.
import type { Cluster, Machine } from '../../../src/api/capi/v1beta2/types';
import type { Condition } from '../../../src/api/meta';
import type { ConditionStatus } from '../../../src/kube/patch/conditions';
import type { TalosControlPlane } from '../../../src/api/controlplane/v1beta1/types';
import { changedTables, formatTable, frameOf, humanDuration, isReady, nodesTable, redraw, snapshotTables, type NodeObject, type Snapshot } from '../../../scripts/demo-table';

const condition = (type: string, status: ConditionStatus, message = ''): Condition => ({ type, status, reason: status === 'True' ? type : 'Waiting', message, lastTransitionTime: '2026-01-01T00:00:00Z' });

function machine(name: string, phase: string, ready: ConditionStatus, node?: string): Machine {
  return {
    apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Machine',
    metadata: { name, labels: name.includes('control-plane') ? { 'cluster.x-k8s.io/control-plane': '' } : {} },
    spec: { clusterName: 'demo', version: 'v1.34.1', bootstrap: {}, infrastructureRef: { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: 'SimMachine', name } },
    status: { phase, conditions: [condition('Ready', ready)], ...(node ? { nodeRef: { name: node } } : {}) },
  };
}

const cluster = (cpAvailable: ConditionStatus): Cluster => ({
  apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster', metadata: { name: 'demo' },
  status: { phase: 'Provisioned', conditions: [condition('ControlPlaneInitialized', 'True'), condition('ControlPlaneAvailable', cpAvailable), condition('WorkersAvailable', 'False')] },
});

const controlPlane: TalosControlPlane = {
  apiVersion: 'controlplane.cluster.x-k8s.io/v1beta1', kind: 'TalosControlPlane', metadata: { name: 'demo-control-plane' },
  spec: {
    replicas: 3, version: 'v1.34.1', machineTemplate: { spec: { infrastructureRef: { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: 'SimMachineTemplate', name: 'demo' } } },
    controlPlaneConfig: { controlplane: { talosVersion: 'v1.13' } },
  },
  status: { replicas: 2, readyReplicas: 1, upToDateReplicas: 2, version: 'v1.34.1', conditions: [condition('Available', 'False', 'Waiting for etcd to have 3 members')] },
};

const runningAll = [
  machine('demo-control-plane-a', 'Running', 'True', 'demo-control-plane-a'),
  machine('demo-control-plane-b', 'Running', 'True', 'demo-control-plane-b'),
  machine('demo-workers-x', 'Running', 'True', 'demo-workers-x'),
];

describe('formatTable', () => {
  it('aligns columns three spaces apart, the last one unpadded', () => {
    expect(formatTable(['NAME', 'STATUS'], [['a-long-name', 'Ready'], ['b', 'NotReady']])).toBe(
      'NAME          STATUS\na-long-name   Ready\nb             NotReady');
  });
});

describe('snapshotTables', () => {
  const snapshot: Snapshot = {
    cluster: cluster('False'), controlPlane,
    machines: [machine('demo-workers-x', 'Provisioning', 'False'), machine('demo-control-plane-a', 'Running', 'True', 'demo-control-plane-a')],
    etcdMembers: [{ hostname: 'demo-control-plane-a', isLearner: false }, { hostname: 'demo-control-plane-b', isLearner: true }],
  };

  it('shows the cluster, the control plane (with what it waits for) and the machines by name, with their etcd role', () => {
    expect(frameOf(snapshotTables(snapshot))).toBe([
      'CLUSTER   PHASE         CP INITIALIZED   CP AVAILABLE   WORKERS AVAILABLE',
      'demo      Provisioned   True             False          False',
      '',
      'CONTROL PLANE        REPLICAS   READY   UPDATED   VERSION   ETCD MEMBERS',
      'demo-control-plane   2/3        1       2         v1.34.1   2',
      '  Waiting for etcd to have 3 members',
      '',
      'MACHINE                PHASE          READY   VERSION   NODE                   ETCD',
      'demo-control-plane-a   Running        True    v1.34.1   demo-control-plane-a   member',
      'demo-workers-x         Provisioning   False   v1.34.1   -                      -',
    ].join('\n'));
  });

  it('says "-" for what is not known yet: no Cluster status, no etcd answer, no TalosControlPlane', () => {
    const tables = snapshotTables({ cluster: { ...cluster('True'), status: undefined }, machines: [machine('demo-control-plane-b', 'Pending', 'Unknown')] });
    expect(tables[0]![1]).toBe('demo      -       -                -              -');
    expect(tables[1]).toHaveLength(1);
    expect(tables[2]![1]).toMatch(/^demo-control-plane-b +Pending +Unknown +v1\.34\.1 +- +-$/);
  });

  it('marks a learner', () => {
    const tables = snapshotTables({ ...snapshot, machines: [machine('demo-control-plane-b', 'Running', 'True', 'demo-control-plane-b')] });
    expect(tables[2]![1]).toMatch(/ learner$/);
  });
});

describe('changedTables', () => {
  it('gives, under its header, each line of a table that was not there before, and leaves out unchanged tables', () => {
    const before = [['H1', 'a'], ['H2', 'b', 'c']];
    expect(changedTables(before, [['H1', 'a'], ['H2', 'b', 'c2', 'd']])).toEqual([['H2', 'c2', 'd']]);
    expect(changedTables(before, before)).toEqual([]);
    expect(changedTables([], before)).toEqual(before);
  });
});

describe('isReady', () => {
  it('needs the Cluster to say its control plane is Available', () => {
    expect(isReady({ cluster: cluster('True'), machines: runningAll }, 3)).toBe(true);
    expect(isReady({ cluster: cluster('False'), machines: runningAll }, 3)).toBe(false);
    expect(isReady({ machines: runningAll }, 3)).toBe(false);
  });

  it('needs every expected Machine Running, Ready, with a Node, and no more', () => {
    const ready = cluster('True');
    expect(isReady({ cluster: ready, machines: runningAll.slice(0, 2) }, 3)).toBe(false);
    expect(isReady({ cluster: ready, machines: [...runningAll.slice(0, 2), machine('demo-workers-x', 'Running', 'False', 'demo-workers-x')] }, 3)).toBe(false);
    expect(isReady({ cluster: ready, machines: [...runningAll.slice(0, 2), machine('demo-workers-x', 'Provisioned', 'True', 'demo-workers-x')] }, 3)).toBe(false);
    expect(isReady({ cluster: ready, machines: [...runningAll.slice(0, 2), machine('demo-workers-x', 'Running', 'True')] }, 3)).toBe(false);
    expect(isReady({ cluster: ready, machines: [...runningAll, machine('demo-workers-y', 'Running', 'True', 'demo-workers-y')] }, 3)).toBe(false);
    const deleting = { ...runningAll[2]!, metadata: { ...runningAll[2]!.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
    expect(isReady({ cluster: ready, machines: [...runningAll.slice(0, 2), deleting] }, 3)).toBe(false);
  });
});

describe('humanDuration', () => {
  it.each([
    [-3, '0s'], [0, '0s'], [45.9, '45s'], [119, '119s'], [120, '2m'], [192, '3m12s'], [900, '15m'], [179 * 60, '179m'],
    [3 * 3600, '3h'], [4 * 3600 + 5 * 60, '4h5m'], [30 * 3600, '30h'], [3 * 86400 + 4 * 3600, '3d'],
  ])('%s s is %s', (seconds, text) => expect(humanDuration(seconds)).toBe(text));
});

describe('nodesTable', () => {
  const now = Date.parse('2026-01-01T00:10:00Z');
  const node = (name: string, ready: string | undefined, labels: Record<string, string>, extra: Partial<NodeObject> = {}): NodeObject => ({
    metadata: { name, labels, creationTimestamp: '2026-01-01T00:07:00Z' },
    status: { conditions: ready ? [{ type: 'Ready', status: ready }] : [], nodeInfo: { kubeletVersion: 'v1.34.1' } },
    ...extra,
  });

  it('prints NAME STATUS ROLES AGE VERSION as kubectl get nodes does, by name', () => {
    expect(nodesTable([
      node('w-1', 'False', { 'kubernetes.io/hostname': 'w-1' }),
      node('cp-1', 'True', { 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/etcd': 'true' }),
      node('w-2', undefined, {}, { spec: { unschedulable: true } }),
    ], now)).toBe([
      'NAME   STATUS                       ROLES                AGE   VERSION',
      'cp-1   Ready                        control-plane,etcd   3m    v1.34.1',
      'w-1    NotReady                     <none>               3m    v1.34.1',
      'w-2    Unknown,SchedulingDisabled   <none>               3m    v1.34.1',
    ].join('\n'));
  });
});

describe('redraw', () => {
  it('moves up over the previous frame and clears it; the first frame is just written', () => {
    expect(redraw('a\nb', 0)).toBe('a\nb\n');
    expect(redraw('c', 2)).toBe('\x1b[2A\x1b[Jc\n');
  });
});
