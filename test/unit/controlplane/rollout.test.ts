import { convertTalosConfig } from '../../../src/api/bootstrap/conversion';
import { talosConfigSpecForMachine } from '../../../src/api/controlplane/spec';
import { machineToRemove, outdatedBecause } from '../../../src/controlplane/rollout';
import { machine, tcp } from './fixtures';

const V1BETA1 = 'v1beta1';
const served = (spec: unknown) =>
  (convertTalosConfig({ apiVersion: 'bootstrap.cluster.x-k8s.io/v1alpha3', kind: 'TalosConfig', metadata: {}, spec } as never, V1BETA1) as unknown as { spec: unknown }).spec;
const infra = (name: string, groupKind = 'SimMachineTemplate.infrastructure.cluster.x-k8s.io') => ({
  metadata: { annotations: { 'cluster.x-k8s.io/cloned-from-name': name, 'cluster.x-k8s.io/cloned-from-groupkind': groupKind } },
});

const outdatedReasons = (...args: Parameters<typeof outdatedBecause>) => outdatedBecause(...args).map((r) => r.message);

describe('outdatedBecause', () => {
  const plane = tcp();
  const current = served(talosConfigSpecForMachine(plane.spec, false));

  it('is empty for a Machine made from the current spec, also when its parts are not cached', () => {
    expect(outdatedReasons(plane, machine('m'), { talosConfig: { spec: current }, infraMachine: infra('tmpl') }, V1BETA1)).toEqual([]);
    expect(outdatedReasons(plane, machine('m'))).toEqual([]);
  });

  it('names a rollout.after that has passed, for Machines created before it; one still ahead changes nothing', () => {
    const after = '2026-06-01T00:00:00Z';
    const withAfter = { ...plane, spec: { ...plane.spec, rollout: { after } } };
    const old = machine('old', { created: '2026-05-01T00:00:00Z' });
    const young = machine('young', { created: '2026-06-02T00:00:00Z' });
    const june2 = Date.parse('2026-06-02T12:00:00Z');
    expect(outdatedReasons(withAfter, old, {}, undefined, june2)).toEqual([`created before rollout.after (${after})`]);
    expect(outdatedReasons(withAfter, young, {}, undefined, june2)).toEqual([]);
    expect(outdatedReasons(withAfter, old, {}, undefined, Date.parse('2026-05-31T00:00:00Z'))).toEqual([]);
  });

  it('names a Kubernetes version change', () => {
    expect(outdatedReasons(plane, machine('m', { version: 'v1.33.5' }))).toEqual(['Kubernetes version v1.33.5, v1.34.1 wanted']);
  });

  it('names an infrastructure template change, by name or by kind', () => {
    expect(outdatedReasons(plane, machine('m'), { infraMachine: infra('old-tmpl') })).toEqual([
      'infrastructure cloned from SimMachineTemplate.infrastructure.cluster.x-k8s.io old-tmpl, SimMachineTemplate.infrastructure.cluster.x-k8s.io tmpl wanted',
    ]);
    expect(outdatedReasons(plane, machine('m'), { infraMachine: infra('tmpl', 'OtherTemplate.infrastructure.cluster.x-k8s.io') })).toHaveLength(1);
  });

  it('compares the TalosConfig with controlPlaneConfig in the version the cache serves', () => {
    const changed = served({ ...talosConfigSpecForMachine(plane.spec, false), talosVersion: 'v1.12' });
    expect(outdatedReasons(plane, machine('m'), { talosConfig: { spec: changed } }, V1BETA1)).toEqual(['TalosConfig differs from controlPlaneConfig']);
  });

  it('says which kind of difference each reason is (only a version difference can be made in place)', () => {
    const changed = served({ ...talosConfigSpecForMachine(plane.spec, false), talosVersion: 'v1.12' });
    const reasons = outdatedBecause(plane, machine('m', { version: 'v1.33.5' }), { talosConfig: { spec: changed }, infraMachine: infra('old-tmpl') }, V1BETA1);
    expect(reasons.map((r) => r.kind)).toEqual(['version', 'infrastructure', 'config']);
  });

  it('counts the first Machine’s init config as up to date (CACPPT always rolled it)', () => {
    const withInit = tcp({ init: true });
    const init = served(talosConfigSpecForMachine(withInit.spec, true));
    expect(outdatedReasons(withInit, machine('m'), { talosConfig: { spec: init } }, V1BETA1)).toEqual([]);
  });
});

describe('machineToRemove', () => {
  const marked = { 'cluster.x-k8s.io/delete-machine': 'yes' };
  const a = machine('a');
  const b = machine('b', { annotations: marked });
  const c = machine('c', { version: 'old' });
  const d = machine('d', { version: 'old', annotations: marked });
  const outdated = (m: { spec: { version?: string } }) => m.spec.version === 'old';

  it('prefers outdated and marked, then marked, then outdated, then the oldest', () => {
    expect(machineToRemove([a, b, c, d], outdated)?.metadata.name).toBe('d');
    expect(machineToRemove([a, b, c], outdated)?.metadata.name).toBe('b');
    expect(machineToRemove([a, c], outdated)?.metadata.name).toBe('c');
    expect(machineToRemove([a, machine('e')], outdated)?.metadata.name).toBe('a');
    expect(machineToRemove([], outdated)).toBeUndefined();
  });
});
