import { CONTROLPLANE_CONVERSION_DATA_ANNOTATION, convertTalosControlPlane } from '../../../src/api/controlplane/conversion';
import { IN_PLACE_ON_FAILURE_ANNOTATION, ROLLOUT_STRATEGY_ANNOTATION } from '../../../src/api/controlplane/group';
import type * as v1alpha3 from '../../../src/api/controlplane/v1alpha3/types';
import type * as v1beta1 from '../../../src/api/controlplane/v1beta1/types';
import { annotationJson, leafPaths, onlyPath } from './bootstrap-fixtures';

const A3 = 'v1alpha3';
const B1 = 'v1beta1';
const toV1beta1 = (obj: v1alpha3.TalosControlPlane) => convertTalosControlPlane(obj, B1) as v1beta1.TalosControlPlane;
const toV1alpha3 = (obj: v1beta1.TalosControlPlane) => convertTalosControlPlane(obj, A3) as v1alpha3.TalosControlPlane;

const v1beta2Condition = { type: 'Available', status: 'True' as const, reason: 'Available', message: '', lastTransitionTime: '2026-12-01T00:00:00Z', observedGeneration: 2 };
const v1beta1Condition = { type: 'Ready', status: 'True' as const, lastTransitionTime: '2026-12-01T00:00:00Z' };
const config = { controlplane: { generateType: 'controlplane', talosVersion: 'v1.13' } };

function fullV1alpha3(): v1alpha3.TalosControlPlane {
  return {
    apiVersion: 'controlplane.cluster.x-k8s.io/v1alpha3',
    kind: 'TalosControlPlane',
    metadata: { name: 'cp', namespace: 'ns', annotations: { 'example.com/note': 'kept' } },
    spec: {
      replicas: 3,
      version: 'v1.34.1',
      infrastructureTemplate: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1alpha1', kind: 'SimMachineTemplate', name: 'cp-infra' },
      controlPlaneConfig: config,
      rolloutStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } },
    },
    status: {
      selector: 'cluster.x-k8s.io/cluster-name=c,cluster.x-k8s.io/control-plane=',
      replicas: 3,
      version: 'v1.34.1',
      updatedReplicas: 3,
      readyReplicas: 3,
      unavailableReplicas: 0,
      initialized: true,
      ready: true,
      bootstrapped: true,
      failureReason: 'R',
      failureMessage: 'M',
      conditions: [v1beta1Condition],
      observedGeneration: 2,
      initialization: { controlPlaneInitialized: true },
      availableReplicas: 3,
      upToDateReplicas: 3,
      versions: [{ version: 'v1.34.1', replicas: 3 }],
      v1beta2: { conditions: [v1beta2Condition] },
    },
  };
}

function fullV1beta1(): v1beta1.TalosControlPlane {
  return {
    apiVersion: 'controlplane.cluster.x-k8s.io/v1beta1',
    kind: 'TalosControlPlane',
    metadata: { name: 'cp', namespace: 'ns' },
    spec: {
      replicas: 3,
      version: 'v1.34.1',
      machineTemplate: {
        metadata: { labels: { team: 'a' }, annotations: { note: 'x' } },
        spec: {
          infrastructureRef: { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: 'SimMachineTemplate', name: 'cp-infra' },
          deletion: { nodeDrainTimeoutSeconds: 60, nodeVolumeDetachTimeoutSeconds: 30, nodeDeletionTimeoutSeconds: 10 },
          readinessGates: [{ conditionType: 'example.com/Ready' }],
        },
      },
      controlPlaneConfig: config,
      rollout: { after: '2026-12-01T00:00:00Z', strategy: { type: 'InPlace', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 }, inPlace: { onFailure: 'Replace' } } },
      remediation: { maxRetry: 3, retryPeriodSeconds: 60, minHealthyPeriodSeconds: 600 },
      machineNaming: { template: '{{ .cluster.name }}-cp-{{ .random }}' },
    },
    status: {
      conditions: [v1beta2Condition],
      initialization: { controlPlaneInitialized: true },
      selector: 's',
      replicas: 3,
      readyReplicas: 2,
      availableReplicas: 2,
      upToDateReplicas: 1,
      version: 'v1.33.0',
      versions: [{ version: 'v1.33.0', replicas: 2 }, { version: 'v1.34.1', replicas: 1 }],
      observedGeneration: 4,
      lastRemediation: { machine: 'cp-abc', time: '2026-12-01T00:00:00Z', retryCount: 1 },
      bootstrapped: true,
      deprecated: { v1beta1: { conditions: [v1beta1Condition], updatedReplicas: 1, unavailableReplicas: 1, failureReason: 'R', failureMessage: 'M' } },
    },
  };
}

/** v1alpha3's fields that v1beta1 keeps once (ready, and initialized beside initialization) come back filled in from each other. */
function withDerived(obj: v1alpha3.TalosControlPlane): v1alpha3.TalosControlPlane {
  const status = obj.status;
  if (!status) return obj;
  const initialized = status.initialization?.controlPlaneInitialized ?? status.initialized;
  const derived = { ...status };
  if (typeof status.readyReplicas === 'number') derived.ready = status.readyReplicas > 0;
  if (initialized !== undefined) Object.assign(derived, { initialized, initialization: { controlPlaneInitialized: initialized } });
  return { ...obj, status: derived };
}

const conversionData = (obj: { metadata: { annotations?: Record<string, string> } }) => annotationJson(obj, CONTROLPLANE_CONVERSION_DATA_ANNOTATION);

describe('TalosControlPlane v1alpha3 → v1beta1', () => {
  it('puts every field at its v1beta1 place; only the template version travels in the annotation', () => {
    const converted = toV1beta1(fullV1alpha3());
    expect(converted.spec).toEqual({
      replicas: 3,
      version: 'v1.34.1',
      machineTemplate: { spec: { infrastructureRef: { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: 'SimMachineTemplate', name: 'cp-infra' } } },
      controlPlaneConfig: config,
      rollout: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } },
    });
    expect(converted.status).toEqual({
      conditions: [v1beta2Condition],
      initialization: { controlPlaneInitialized: true },
      selector: 'cluster.x-k8s.io/cluster-name=c,cluster.x-k8s.io/control-plane=',
      replicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      upToDateReplicas: 3,
      version: 'v1.34.1',
      versions: [{ version: 'v1.34.1', replicas: 3 }],
      observedGeneration: 2,
      bootstrapped: true,
      deprecated: { v1beta1: { conditions: [v1beta1Condition], updatedReplicas: 3, unavailableReplicas: 0, failureReason: 'R', failureMessage: 'M' } },
    });
    expect(converted.metadata.annotations?.['example.com/note']).toBe('kept');
    expect(conversionData(converted)).toEqual({
      apiVersion: 'controlplane.cluster.x-k8s.io/v1alpha3',
      spec: { infrastructureTemplate: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1alpha1' } },
    });
  });

  it('gives the v1alpha3 template its own apiVersion back, but not once the group changed in v1beta1', () => {
    const hub = toV1beta1(fullV1alpha3());
    expect(toV1alpha3(hub).spec.infrastructureTemplate.apiVersion).toBe('infrastructure.cluster.x-k8s.io/v1alpha1');
    hub.spec.machineTemplate.spec.infrastructureRef.apiGroup = 'infrastructure.example.com';
    expect(toV1alpha3(hub).spec.infrastructureTemplate.apiVersion).toBe('infrastructure.example.com');
  });

  it('keeps a template namespace (v1beta1 has none) in the annotation', () => {
    const obj = fullV1alpha3();
    obj.spec.infrastructureTemplate.namespace = 'elsewhere';
    expect(toV1alpha3(toV1beta1(obj))).toEqual(obj);
  });

  it('reads the InPlace annotation as the v1beta1 strategy type, and writes it back as the annotation', () => {
    const obj = fullV1alpha3();
    obj.metadata.annotations = { [ROLLOUT_STRATEGY_ANNOTATION]: 'InPlace' };
    const hub = toV1beta1(obj);
    expect(hub.spec.rollout?.strategy?.type).toBe('InPlace');
    expect(hub.metadata.annotations?.[ROLLOUT_STRATEGY_ANNOTATION]).toBeUndefined();
    expect(toV1alpha3(hub)).toEqual(obj);
  });

  it('leaves the InPlace annotation alone beside OnDelete (it means nothing there)', () => {
    const obj = fullV1alpha3();
    obj.metadata.annotations = { [ROLLOUT_STRATEGY_ANNOTATION]: 'InPlace' };
    obj.spec.rolloutStrategy = { type: 'OnDelete' };
    const hub = toV1beta1(obj);
    expect(hub.spec.rollout?.strategy?.type).toBe('OnDelete');
    expect(hub.metadata.annotations?.[ROLLOUT_STRATEGY_ANNOTATION]).toBe('InPlace');
    expect(toV1alpha3(hub)).toEqual(obj);
  });

  it('reads the in-place-on-failure annotation as strategy.inPlace.onFailure, and writes it back as the annotation', () => {
    for (const value of ['Replace', 'Stop']) {
      const obj = fullV1alpha3();
      obj.metadata.annotations = { [ROLLOUT_STRATEGY_ANNOTATION]: 'InPlace', [IN_PLACE_ON_FAILURE_ANNOTATION]: value, 'example.com/note': 'kept' };
      const hub = toV1beta1(obj);
      expect(hub.spec.rollout?.strategy).toEqual({ type: 'InPlace', rollingUpdate: { maxSurge: 1 }, inPlace: { onFailure: value } });
      expect(hub.metadata.annotations).toEqual({ 'example.com/note': 'kept', [CONTROLPLANE_CONVERSION_DATA_ANNOTATION]: expect.any(String) });
      expect(toV1alpha3(hub)).toEqual(obj);
    }
  });

  it('leaves an in-place-on-failure annotation that is neither Stop nor Replace alone; alone without a strategy it round-trips too', () => {
    const obj = fullV1alpha3();
    obj.metadata.annotations = { [IN_PLACE_ON_FAILURE_ANNOTATION]: 'replace' };
    const hub = toV1beta1(obj);
    expect(hub.spec.rollout?.strategy?.inPlace).toBeUndefined();
    expect(hub.metadata.annotations?.[IN_PLACE_ON_FAILURE_ANNOTATION]).toBe('replace');
    expect(toV1alpha3(hub)).toEqual(obj);
    const bare = { ...fullV1alpha3(), metadata: { name: 'cp', namespace: 'ns', annotations: { [IN_PLACE_ON_FAILURE_ANNOTATION]: 'Replace' } } };
    delete bare.spec.rolloutStrategy;
    expect(toV1beta1(bare).spec.rollout).toEqual({ strategy: { inPlace: { onFailure: 'Replace' } } });
    expect(toV1alpha3(toV1beta1(bare))).toEqual(bare);
  });

  it('round-trips the full object, and an object holding any one field, there and back', () => {
    const full = fullV1alpha3();
    expect(toV1alpha3(toV1beta1(full))).toEqual(full);
    for (const path of leafPaths(full).filter((p) => p[0] === 'spec' || p[0] === 'status')) {
      const original = onlyPath(full, path);
      expect([path.join('.'), toV1alpha3(toV1beta1(original))]).toEqual([path.join('.'), withDerived(original)]);
    }
  });

  it('derives ready from readyReplicas, and initialized and initialization.controlPlaneInitialized from each other', () => {
    const obj = fullV1alpha3();
    obj.status = { readyReplicas: 0, initialized: true };
    expect(toV1alpha3(toV1beta1(obj)).status).toEqual({ readyReplicas: 0, ready: false, initialized: true, initialization: { controlPlaneInitialized: true } });
  });
});

describe('TalosControlPlane v1beta1 → v1alpha3', () => {
  it('gives CACPPT readers their fields: the template, the strategy, ready, initialized and the v1beta1 conditions', () => {
    const converted = toV1alpha3(fullV1beta1());
    expect(converted.spec.infrastructureTemplate).toEqual({ apiVersion: 'infrastructure.cluster.x-k8s.io', kind: 'SimMachineTemplate', name: 'cp-infra' });
    expect(converted.spec.rolloutStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
    expect(converted.metadata.annotations?.[ROLLOUT_STRATEGY_ANNOTATION]).toBe('InPlace');
    expect(converted.metadata.annotations?.[IN_PLACE_ON_FAILURE_ANNOTATION]).toBe('Replace');
    expect(converted.status).toMatchObject({
      ready: true,
      initialized: true,
      initialization: { controlPlaneInitialized: true },
      readyReplicas: 2,
      updatedReplicas: 1,
      unavailableReplicas: 1,
      conditions: [v1beta1Condition],
      v1beta2: { conditions: [v1beta2Condition] },
    });
  });

  it('keeps what v1alpha3 cannot hold (remediation, naming, rollout.after, machine metadata, deletion, lastRemediation) through a round trip', () => {
    const full = fullV1beta1();
    const there = toV1alpha3(full);
    expect(conversionData(there)).toMatchObject({
      spec: { remediation: full.spec.remediation, machineNaming: full.spec.machineNaming, rollout: { after: full.spec.rollout?.after } },
      status: { lastRemediation: full.status?.lastRemediation },
    });
    expect(toV1beta1(there)).toEqual(full);
    for (const path of leafPaths(full).filter((p) => p[0] === 'spec' || p[0] === 'status')) {
      const original = onlyPath(full, path);
      expect([path.join('.'), toV1beta1(toV1alpha3(original))]).toEqual([path.join('.'), original]);
    }
  });

  it('says no ready when no replica count is known', () => {
    const hub = fullV1beta1();
    hub.status = { replicas: 0 };
    expect(toV1alpha3(hub).status).toEqual({ replicas: 0 });
  });
});
