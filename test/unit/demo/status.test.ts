// Where the demo asks for the etcd members: the control-plane Machines' InternalIPs.
import type { Machine, MachineAddress } from '../../../src/api/capi/v1beta2/types';
import { controlPlaneEndpoints } from '../../../scripts/demo-status';

const machine = (name: string, controlPlane: boolean, addresses: MachineAddress[], deleting = false): Machine => ({
  apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Machine',
  metadata: { name, labels: controlPlane ? { 'cluster.x-k8s.io/control-plane': '' } : {}, ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  spec: { clusterName: 'demo', bootstrap: {}, infrastructureRef: { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: 'SimMachine', name } },
  status: { addresses },
});

describe('controlPlaneEndpoints', () => {
  it('gives the InternalIPs of the control-plane Machines not being deleted, by Machine name', () => {
    expect(controlPlaneEndpoints([
      machine('cp-b', true, [{ type: 'Hostname', address: 'cp-b' }, { type: 'InternalIP', address: '127.9.0.3' }]),
      machine('worker', false, [{ type: 'InternalIP', address: '127.9.0.9' }]),
      machine('cp-a', true, [{ type: 'InternalIP', address: '127.9.0.2' }]),
      machine('cp-c', true, []),
      machine('cp-d', true, [{ type: 'InternalIP', address: '127.9.0.4' }], true),
    ])).toEqual(['127.9.0.2', '127.9.0.3']);
  });
});
