import { talosConfigSpecSchema } from '../../../src/api/bootstrap/crds';
import { CONTROLPLANE_CONTRACT_LABELS, KUBERNETES_VERSION_PATTERN, talosControlPlaneCrd, talosControlPlaneTemplateCrd } from '../../../src/api/controlplane/crds';
import { TALOS_CONTROL_PLANE_FINALIZER } from '../../../src/api/controlplane/group';
import type { JSONSchemaProps } from '../../../src/api/crd';

const crd = talosControlPlaneCrd();
const [version] = crd.spec.versions;
const root = version!.schema.openAPIV3Schema;
const spec = root.properties!.spec!;
const status = root.properties!.status!;
const rollout = spec.properties!.rolloutStrategy!;
const rollingUpdate = rollout.properties!.rollingUpdate!.properties!;

describe('TalosControlPlaneTemplate CRD', () => {
  const template = talosControlPlaneTemplateCrd();
  it('is v1beta1 only, for the v1beta2 contract (ClusterClass), holding what a topology does not set', () => {
    expect(template.metadata).toEqual({ name: 'taloscontrolplanetemplates.controlplane.cluster.x-k8s.io', labels: { 'cluster.x-k8s.io/v1beta2': 'v1beta1' } });
    expect(template.spec.versions.map((v) => [v.name, v.served, v.storage])).toEqual([['v1beta1', true, true]]);
    const resource = template.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!.properties!.template!.properties!.spec!;
    expect(Object.keys(resource.properties!).sort()).toEqual(['controlPlaneConfig', 'machineNaming', 'machineTemplate', 'remediation', 'rollout']);
    expect(resource.required).toEqual(['controlPlaneConfig']);
  });
});

describe('TalosControlPlane CRD', () => {
  it('serves v1alpha3 and v1beta1, stores v1beta1, and converts through the webhook', () => {
    expect(crd.metadata.name).toBe('taloscontrolplanes.controlplane.cluster.x-k8s.io');
    expect(crd.spec.versions.map((v) => [v.name, v.served, v.storage])).toEqual([['v1alpha3', true, false], ['v1beta1', true, true]]);
    expect(crd.spec.conversion).toMatchObject({ strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1'], clientConfig: { service: { path: '/convert' } } } });
    expect(crd.spec.scope).toBe('Namespaced');
    expect(crd.spec.names).toEqual({
      kind: 'TalosControlPlane', listKind: 'TalosControlPlaneList', plural: 'taloscontrolplanes', singular: 'taloscontrolplane',
      shortNames: ['tcp'], categories: ['cluster-api'],
    });
    expect(TALOS_CONTROL_PLANE_FINALIZER).toBe('talos.controlplane.cluster.x-k8s.io');
  });

  it('labels the v1beta2 contract with v1beta1 and the older ones with v1alpha3', () => {
    expect(CONTROLPLANE_CONTRACT_LABELS).toEqual({
      'cluster.x-k8s.io/v1alpha3': 'v1alpha3',
      'cluster.x-k8s.io/v1alpha4': 'v1alpha3',
      'cluster.x-k8s.io/v1beta1': 'v1alpha3',
      'cluster.x-k8s.io/v1beta2': 'v1beta1',
    });
    expect(crd.metadata.labels).toEqual(CONTROLPLANE_CONTRACT_LABELS);
  });

  it('has the status and scale subresources and CACPPT\'s printer columns', () => {
    expect(version!.subresources).toEqual({
      status: {},
      scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
    });
    expect(version!.additionalPrinterColumns!.map((c) => [c.name, c.jsonPath, c.type])).toEqual([
      ['Ready', '.status.ready', 'boolean'],
      ['Initialized', '.status.initialized', 'boolean'],
      ['Replicas', '.status.replicas', 'integer'],
      ['Ready Replicas', '.status.readyReplicas', 'integer'],
      ['Unavailable Replicas', '.status.unavailableReplicas', 'integer'],
    ]);
  });

  it('defaults replicas to 1 and the rollout to RollingUpdate with maxSurge 1', () => {
    expect(root.required).toEqual(['spec']);
    expect(spec.required).toEqual(['version', 'infrastructureTemplate', 'controlPlaneConfig']);
    expect(spec.properties!.replicas!.default).toBe(1);
    expect(rollout.default).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } });
    expect(rollout.properties!.type!).toMatchObject({ enum: ['RollingUpdate', 'OnDelete'], default: 'RollingUpdate' });
    const v1beta1Spec = crd.spec.versions[1]!.schema.openAPIV3Schema.properties!.spec!;
    expect(v1beta1Spec.required).toEqual(['version', 'machineTemplate', 'controlPlaneConfig']);
    const v1beta1Strategy = v1beta1Spec.properties!.rollout!.properties!.strategy!;
    expect(v1beta1Strategy.properties!.type!).toMatchObject({ enum: ['RollingUpdate', 'OnDelete', 'InPlace'], default: 'RollingUpdate' });
    // What a failed in-place step does: v1beta1 only (v1alpha3 has the annotation), Stop unless asked.
    expect(v1beta1Strategy.properties!.inPlace!.properties!.onFailure!).toMatchObject({ type: 'string', enum: ['Stop', 'Replace'], default: 'Stop' });
    expect(rollout.properties!.inPlace).toBeUndefined();
    expect(rollingUpdate.maxSurge!.default).toBe(1);
    expect(rollingUpdate.maxUnavailable!.default).toBeUndefined();
  });

  it('takes maxSurge and maxUnavailable as int-or-string, as upstream', () => {
    for (const field of [rollingUpdate.maxSurge!, rollingUpdate.maxUnavailable!]) {
      expect(field).toMatchObject({ 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] });
    }
  });

  it('embeds the TalosConfig spec for init and controlplane, generateType optional there', () => {
    const config = spec.properties!.controlPlaneConfig!;
    expect(config.required).toEqual(['controlplane']);
    for (const role of ['init', 'controlplane']) {
      const embedded = config.properties![role]!;
      expect(Object.keys(embedded.properties!)).toEqual(Object.keys(talosConfigSpecSchema().properties!));
      expect(embedded.required).toBeUndefined();
      expect(embedded.properties!.generateType!.enum).toEqual(talosConfigSpecSchema().properties!.generateType!.enum);
    }
  });

  it('accepts versions with or without the v, and nothing that is not major.minor.patch', () => {
    const pattern = new RegExp(KUBERNETES_VERSION_PATTERN);
    for (const accepted of ['v1.29.0', '1.29.0', 'v1.30.0-rc.1', 'v1.30.0+k3s1']) expect(pattern.test(accepted)).toBe(true);
    for (const refused of ['v1.29', 'latest', 'v01.29.0', '1.29.0 ']) expect(pattern.test(refused)).toBe(false);
    const rules = spec.properties!.version!['x-kubernetes-validations']!;
    expect(rules.map((r) => r.rule.includes('oldSelf'))).toEqual([true, true]);
  });

  it('has every upstream status field and the v1beta2 contract ones, conditions of both shapes (v1beta1 keeps KCP\'s lastRemediation)', () => {
    expect(Object.keys(status.properties!).sort()).toEqual([
      'availableReplicas', 'bootstrapped', 'conditions', 'failureMessage', 'failureReason', 'initialization', 'initialized',
      'observedGeneration', 'ready', 'readyReplicas', 'replicas', 'selector', 'unavailableReplicas', 'upToDateReplicas',
      'updatedReplicas', 'v1beta2', 'version', 'versions',
    ]);
    expect(Object.keys(status.properties!.initialization!.properties!)).toEqual(['controlPlaneInitialized']);
    const hubStatus = crd.spec.versions[1]!.schema.openAPIV3Schema.properties!.status!;
    expect(hubStatus.properties!.lastRemediation!.required).toEqual(['machine', 'time', 'retryCount']);
    const legacy = status.properties!.conditions!.items!;
    const current: JSONSchemaProps = status.properties!.v1beta2!.properties!.conditions!;
    expect(legacy.properties!.severity).toBeDefined();
    expect(current['x-kubernetes-list-map-keys']).toEqual(['type']);
    expect(current.items!.properties!.observedGeneration).toBeDefined();
  });
});
