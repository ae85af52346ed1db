import { CLONED_FROM_GROUPKIND, CLONED_FROM_NAME, InvalidInfrastructureTemplate, InvalidMachineName, machineName, machineObjects } from '../../../src/controlplane/machine-objects';
import { TEMPLATE_KEYS_ANNOTATION } from '../../../src/controlplane/machine-template';
import type { Unstructured } from '../../../src/kube/client/unstructured';
import { WATCH_FILTER_LABEL } from '../../../src/kube/controller/predicates';
import { ETCD_CLEANUP_HOOK } from '../../../src/controlplane/pre-terminate';
import { tcp } from './fixtures';

const template: Unstructured = {
  apiVersion: 'infrastructure.cluster.x-k8s.io/v1alpha1', kind: 'SimMachineTemplate',
  metadata: { name: 'tmpl', namespace: 'ns', uid: 'tmpl-uid' },
  spec: { template: { metadata: { labels: { tier: 'cp' }, annotations: { note: 'x' } }, spec: { cpus: 2 } } },
};

const named = (name: string, template?: string) => {
  const base = tcp();
  return { metadata: { ...base.metadata, name }, spec: { ...base.spec, ...(template ? { machineNaming: { template } } : {}) } };
};

describe('machineName', () => {
  it('is the control plane name, a dash and 5 characters of the name generator alphabet', () => {
    let i = 0;
    expect(machineName(named('cp'), 'c', () => i++)).toBe('cp-bcdfg');
    expect(machineName(named('x'.repeat(70)), 'c', () => 26)).toBe(`${'x'.repeat(58)}-99999`);
    expect(machineName(named('cp'), 'c')).toMatch(/^cp-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('follows spec.machineNaming.template: the cluster, the control plane and the random part filled in', () => {
    expect(machineName(named('cp', '{{ .cluster.name }}-cp-{{ .random }}'), 'prod', () => 0)).toBe('prod-cp-bbbbb');
    expect(machineName(named('cp', '{{.talosControlPlane.name}}-{{ .random }}-m'), 'prod', () => 1)).toBe('cp-ccccc-m');
  });

  it('refuses a template with an unknown field or one giving no DNS label, saying which', () => {
    expect(() => machineName(named('cp', '{{ .kubeadmControlPlane.name }}-{{ .random }}'), 'c')).toThrow(InvalidMachineName);
    expect(() => machineName(named('cp', '{{ .kubeadmControlPlane.name }}-{{ .random }}'), 'c')).toThrow('{{ .kubeadmControlPlane.name }} is not known');
    expect(() => machineName(named('cp', 'CP_{{ .random }}'), 'c', () => 0)).toThrow('gives "CP_bbbbb", which is not a DNS label');
    expect(() => machineName(named('cp', `${'a'.repeat(60)}-{{ .random }}`), 'c')).toThrow('not a DNS label');
  });
});

describe('machineObjects', () => {
  const objects = machineObjects({ tcp: tcp(), clusterName: 'c', template, name: 'cp-abcde', first: false });

  it('gives the TalosConfig, the infrastructure machine and the Machine one name', () => {
    expect([objects.talosConfig, objects.infraMachine, objects.machine].map((o) => o.metadata.name)).toEqual(['cp-abcde', 'cp-abcde', 'cp-abcde']);
    expect(objects.machine.spec.bootstrap.configRef).toEqual({ apiGroup: 'bootstrap.cluster.x-k8s.io', kind: 'TalosConfig', name: 'cp-abcde' });
    expect(objects.machine.spec.infrastructureRef).toEqual({ apiGroup: 'infrastructure.cluster.x-k8s.io', kind: 'SimMachine', name: 'cp-abcde' });
  });

  it('clones the template: kind without Template, its labels and annotations, the cloned-from annotations, its spec', () => {
    expect(objects.infraMachine).toMatchObject({
      apiVersion: 'infrastructure.cluster.x-k8s.io/v1alpha1', kind: 'SimMachine',
      metadata: {
        namespace: 'ns',
        labels: { tier: 'cp', 'cluster.x-k8s.io/cluster-name': 'c', 'cluster.x-k8s.io/control-plane': '' },
        annotations: { note: 'x', [CLONED_FROM_NAME]: 'tmpl', [CLONED_FROM_GROUPKIND]: 'SimMachineTemplate.infrastructure.cluster.x-k8s.io' },
      },
      spec: { cpus: 2 },
    });
  });

  it('makes the TalosControlPlane controller of the Machine only (Cluster API makes the Machine controller of the others)', () => {
    expect(objects.machine.metadata.ownerReferences).toEqual([
      { apiVersion: 'controlplane.cluster.x-k8s.io/v1beta1', kind: 'TalosControlPlane', name: 'cp', uid: 'tcp-uid', controller: true, blockOwnerDeletion: true },
    ]);
    for (const other of [objects.talosConfig, objects.infraMachine]) expect(other.metadata.ownerReferences?.[0]?.controller).toBe(false);
  });

  it('labels the Machine with its cluster, control-plane role and control plane, and gives it the version with a v', () => {
    expect(objects.machine.metadata.labels).toEqual({
      'cluster.x-k8s.io/cluster-name': 'c', 'cluster.x-k8s.io/control-plane': '', 'cluster.x-k8s.io/control-plane-name': 'cp',
    });
    expect(objects.machine.spec).toMatchObject({ clusterName: 'c', version: 'v1.34.1' });
  });

  it('gives the Machine the annotations asked for (a replacement\'s remediation-for), and otherwise only the template keys record and the etcd cleanup hook', () => {
    expect(objects.machine.metadata.annotations).toEqual({ [TEMPLATE_KEYS_ANNOTATION]: '{"labels":[],"annotations":[]}', [ETCD_CLEANUP_HOOK]: '' });
    expect(ETCD_CLEANUP_HOOK).toBe('pre-terminate.delete.hook.machine.cluster.x-k8s.io/talos-capi-cleanup');
    const annotations = { 'controlplane.cluster.x-k8s.io/remediation-for': '{"machine":"cp-old","timestamp":"2026-01-01T00:00:00Z","retryCount":0}' };
    expect(machineObjects({ tcp: tcp(), clusterName: 'c', template, name: 'cp-abcde', first: false, annotations }).machine.metadata.annotations).toMatchObject(annotations);
  });

  it('passes the control plane\'s watch-filter label on to all three, so the shard that owns it sees them', () => {
    const sharded = { ...tcp(), metadata: { ...tcp().metadata, labels: { [WATCH_FILTER_LABEL]: 'shard-a' } } };
    const shardedTemplate = { ...template, spec: { template: { metadata: { labels: { [WATCH_FILTER_LABEL]: 'shard-b' } }, spec: {} } } };
    const created = machineObjects({ tcp: sharded, clusterName: 'c', template: shardedTemplate, name: 'n', first: false });
    for (const object of [created.talosConfig, created.infraMachine, created.machine]) expect(object.metadata.labels?.[WATCH_FILTER_LABEL]).toBe('shard-a');
    for (const object of [objects.talosConfig, objects.machine]) expect(object.metadata.labels).not.toHaveProperty([WATCH_FILTER_LABEL]);
  });

  it('makes a v1alpha3 TalosConfig of the controlplane config, or the init config for the first Machine when there is one', () => {
    expect(objects.talosConfig).toMatchObject({ apiVersion: 'bootstrap.cluster.x-k8s.io/v1alpha3', kind: 'TalosConfig', spec: { generateType: 'controlplane', talosVersion: 'v1.13' } });
    expect(machineObjects({ tcp: tcp(), clusterName: 'c', template, name: 'n', first: true }).talosConfig.spec).toMatchObject({ generateType: 'controlplane' });
    expect(machineObjects({ tcp: tcp({ init: true }), clusterName: 'c', template, name: 'n', first: true }).talosConfig.spec).toMatchObject({ generateType: 'init' });
  });

  it('refuses a template without spec.template, or a kind that is not a template, naming it', () => {
    expect(() => machineObjects({ tcp: tcp(), clusterName: 'c', template: { ...template, spec: {} }, name: 'n', first: false }))
      .toThrow(new InvalidInfrastructureTemplate('SimMachineTemplate tmpl has no spec.template'));
    expect(() => machineObjects({ tcp: tcp(), clusterName: 'c', template: { ...template, kind: 'SimMachine' }, name: 'n', first: false }))
      .toThrow(/SimMachine tmpl is not a template kind/);
  });
});

describe('machineObjects with a machine template', () => {
  const base = tcp();
  const withTemplate = {
    ...base,
    spec: {
      ...base.spec,
      machineTemplate: {
        metadata: { labels: { team: 'a', 'cluster.x-k8s.io/cluster-name': 'hijack' }, annotations: { owner: 'ops' } },
        spec: {
          ...base.spec.machineTemplate.spec,
          deletion: { nodeDrainTimeoutSeconds: 60 },
          readinessGates: [{ conditionType: 'example.com/Ready' }],
        },
      },
    },
  };
  const objects = machineObjects({ tcp: withTemplate, clusterName: 'c', template, name: 'cp-abcde', first: false });

  it('gives all three objects the template labels and annotations (never over the cluster labels), and records the keys', () => {
    for (const object of [objects.machine, objects.infraMachine, objects.talosConfig]) {
      expect(object.metadata.labels).toMatchObject({ team: 'a', 'cluster.x-k8s.io/cluster-name': 'c' });
      expect(object.metadata.annotations).toMatchObject({ owner: 'ops', [TEMPLATE_KEYS_ANNOTATION]: '{"labels":["team"],"annotations":["owner"]}' });
    }
  });

  it('gives the Machine the deletion timeouts and readiness gates', () => {
    expect(objects.machine.spec.deletion).toEqual({ nodeDrainTimeoutSeconds: 60 });
    expect(objects.machine.spec.readinessGates).toEqual([{ conditionType: 'example.com/Ready' }]);
  });
});
