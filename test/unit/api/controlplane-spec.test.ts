import {
  controlPlaneSelector, createsBeforeRemoving, kubernetesVersionOf, maxSurgeOf, maxUnavailableOf,
  replicasOf, rolloutStrategyTypeOf, talosConfigSpecForMachine,
} from '../../../src/api/controlplane/spec';
import type { RollingUpdate, TalosControlPlaneSpec } from '../../../src/api/controlplane/v1beta1/types';

function specWith(extra: Partial<TalosControlPlaneSpec> = {}): TalosControlPlaneSpec {
  return {
    version: 'v1.30.0',
    machineTemplate: { spec: { infrastructureRef: { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: 'SimMachineTemplate', name: 'cp' } } },
    controlPlaneConfig: { controlplane: { talosVersion: 'v1.11' } },
    ...extra,
  };
}
const rolling = (rollingUpdate: RollingUpdate) => specWith({ rollout: { strategy: { type: 'RollingUpdate', rollingUpdate } } });

describe('TalosControlPlane spec helpers', () => {
  it('replicasOf defaults to 1 and keeps what is set', () => {
    expect(replicasOf(specWith())).toBe(1);
    expect(replicasOf(specWith({ replicas: 3 }))).toBe(3);
  });

  it('rolloutStrategyTypeOf is OnDelete or InPlace only when asked for', () => {
    expect(rolloutStrategyTypeOf(specWith({ rollout: { strategy: { type: 'OnDelete' } } }))).toBe('OnDelete');
    expect(rolloutStrategyTypeOf(specWith({ rollout: { strategy: { type: 'InPlace' } } }))).toBe('InPlace');
    expect(rolloutStrategyTypeOf(specWith())).toBe('RollingUpdate');
    expect(rolloutStrategyTypeOf(specWith({ rollout: { strategy: { type: 'Recreate' } } }))).toBe('RollingUpdate');
  });

  it.each([
    [undefined, 1], [0, 0], [1, 1], ['0', 0], ['1', 1], ['50%', 1], [2, 1],
  ] as const)('maxSurgeOf(%p) is %p', (maxSurge, expected) => {
    expect(maxSurgeOf(rolling(maxSurge === undefined ? {} : { maxSurge }))).toBe(expected);
  });

  it('maxSurgeOf is 1 with no rolloutStrategy at all', () => {
    expect(maxSurgeOf(specWith())).toBe(1);
  });

  it.each([
    [{}, 0],
    [{ maxSurge: 1 }, 0],
    [{ maxSurge: 0 }, 1],
    [{ maxSurge: 1, maxUnavailable: 1 }, 1],
    [{ maxSurge: 0, maxUnavailable: '1' }, 1],
    [{ maxSurge: 1, maxUnavailable: 0 }, 0],
  ] as const)('maxUnavailableOf(%p) is %p: unset, what the surge implies', (rollingUpdate, expected) => {
    expect(maxUnavailableOf(rolling(rollingUpdate))).toBe(expected);
  });

  it.each([
    [{ maxSurge: 1 }, true],
    [{ maxSurge: 1, maxUnavailable: 1 }, true],
    [{ maxSurge: 1, maxUnavailable: 0 }, true],
    [{ maxSurge: 0 }, false],
    [{ maxSurge: 0, maxUnavailable: 1 }, false],
    [{ maxSurge: 0, maxUnavailable: 0 }, true],
  ] as const)('createsBeforeRemoving(%p) is %p', (rollingUpdate, expected) => {
    expect(createsBeforeRemoving(rolling(rollingUpdate))).toBe(expected);
  });

  it('kubernetesVersionOf adds the v Cluster API requires, once', () => {
    expect(kubernetesVersionOf(specWith({ version: '1.30.2' }))).toBe('v1.30.2');
    expect(kubernetesVersionOf(specWith({ version: 'v1.30.2' }))).toBe('v1.30.2');
  });

  describe('talosConfigSpecForMachine', () => {
    const init = { configPatches: [{ op: 'add', path: '/cluster/etcd/ca', value: { crt: 'x' } }] };
    const controlplane = { talosVersion: 'v1.11', configPatches: [{ op: 'add', path: '/cluster/a', value: 1 }] };

    it('gives the first Machine the init config when there is one, generateType init', () => {
      const spec = specWith({ controlPlaneConfig: { init, controlplane } });
      expect(talosConfigSpecForMachine(spec, true)).toEqual({ ...init, generateType: 'init' });
      expect(talosConfigSpecForMachine(spec, false)).toEqual({ ...controlplane, generateType: 'controlplane' });
    });

    it('gives every Machine the controlplane config when init is absent or empty', () => {
      for (const config of [{ controlplane }, { init: {}, controlplane }]) {
        expect(talosConfigSpecForMachine(specWith({ controlPlaneConfig: config }), true)).toEqual({ ...controlplane, generateType: 'controlplane' });
      }
    });

    it('keeps a generateType that is given, and returns a copy', () => {
      const given = { generateType: 'none', data: 'version: v1alpha1' };
      const spec = specWith({ controlPlaneConfig: { controlplane: given } });
      const result = talosConfigSpecForMachine(specWith({ controlPlaneConfig: { controlplane } }), false);
      result.configPatches![0]!.value = 2;
      expect(controlplane.configPatches[0]!.value).toBe(1);
      expect(talosConfigSpecForMachine(spec, false)).toEqual(given);
    });
  });

  it('controlPlaneSelector is the Cluster\'s control-plane Machines in CACPPT\'s string form', () => {
    expect(controlPlaneSelector('c1')).toBe('cluster.x-k8s.io/cluster-name=c1,cluster.x-k8s.io/control-plane=');
  });
});
