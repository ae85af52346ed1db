// The UpToDate condition the control plane keeps on its Machines.
import { upToDateChanges, upToDateCondition } from '../../../src/controlplane/machine-conditions';
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
    const changes = upToDateChanges(view(tcp(), [current, stale, missing, deleting]));
    expect(changes.map(({ machine: m, condition }) => [m.metadata.name, condition.status])).toEqual([['cp-b', 'False'], ['cp-c', 'True']]);
  });
});
