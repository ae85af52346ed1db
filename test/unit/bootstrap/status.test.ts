import type { TalosConfig } from '../../../src/api/bootstrap/v1beta1/types';
import {
  markClientConfig, markDataSecretAvailable, markGenerationFailed, markWaiting, Reasons, setReadySummary, STALLED,
} from '../../../src/bootstrap/status';

function config(generation = 1): TalosConfig {
  return {
    apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1', kind: 'TalosConfig',
    metadata: { name: 'w', namespace: 'default', generation },
    spec: { generateType: 'worker', talosVersion: 'v1.13' },
  };
}

const stalled = (c: TalosConfig) => c.status?.conditions?.find((x) => x.type === STALLED);
const legacyStalled = (c: TalosConfig) => c.status?.deprecated?.v1beta1?.conditions?.find((x) => x.type === STALLED);

describe('Stalled, what kstatus reads as Failed', () => {
  afterEach(() => jest.useRealTimers());

  test.each([Reasons.invalidConfig, Reasons.invalidSecretsBundle, Reasons.secretConflict, Reasons.ownerHasAnotherConfig])(
    'a %s data secret failure stalls the config, in both condition lists', (reason) => {
      const c = config();
      markGenerationFailed(c, 'configPatches[0]: bad path', reason);
      setReadySummary(c);
      expect(stalled(c)).toMatchObject({
        status: 'True', reason, message: 'Data secret generation failed: configPatches[0]: bad path', observedGeneration: 1,
      });
      expect(legacyStalled(c)).toMatchObject({ status: 'True', reason, message: 'Data secret generation failed: configPatches[0]: bad path' });
      expect(c.status?.conditions?.find((x) => x.type === 'Ready')?.status).toBe('False');
    },
  );

  test('a terminal talosconfig failure stalls it too', () => {
    const c = config();
    markDataSecretAvailable(c);
    markClientConfig(c, 'Secret w-talosconfig belongs to someone else', Reasons.secretConflict);
    setReadySummary(c);
    expect(stalled(c)).toMatchObject({ status: 'True', reason: Reasons.secretConflict });
  });

  test('an internal error (retried) and waiting for the Cluster do not stall it', () => {
    const failed = config();
    markGenerationFailed(failed, 'apiserver timeout', Reasons.internalError);
    setReadySummary(failed);
    const waiting = config();
    markWaiting(waiting, 'Waiting for the cluster infrastructure to be ready');
    setReadySummary(waiting);
    for (const c of [failed, waiting]) {
      expect(stalled(c)).toBeUndefined();
      expect(legacyStalled(c)).toBeUndefined();
    }
  });

  test('once the config renders, Stalled goes from both lists', () => {
    const c = config();
    markGenerationFailed(c, 'bad patch', Reasons.invalidConfig);
    setReadySummary(c);
    c.metadata.generation = 2;
    markDataSecretAvailable(c);
    setReadySummary(c);
    expect(stalled(c)).toBeUndefined();
    expect(legacyStalled(c)).toBeUndefined();
    expect(c.status?.conditions?.find((x) => x.type === 'Ready')?.status).toBe('True');
  });

  test('a failure recorded for an earlier generation does not stall the new one', () => {
    const c = config();
    markGenerationFailed(c, 'bad patch', Reasons.invalidConfig);
    setReadySummary(c);
    c.metadata.generation = 2;
    setReadySummary(c);
    expect(stalled(c)).toBeUndefined();
    expect(legacyStalled(c)).toBeUndefined();
  });

  test('a pass that finds the same failure changes nothing (no transition, no write)', () => {
    jest.useFakeTimers({ now: new Date('2025-01-01T00:00:00Z') });
    const c = config();
    markGenerationFailed(c, 'bad patch', Reasons.invalidConfig);
    setReadySummary(c);
    const first = structuredClone(c.status);
    jest.setSystemTime(new Date('2025-01-01T00:05:00Z'));
    markGenerationFailed(c, 'bad patch', Reasons.invalidConfig);
    setReadySummary(c);
    expect(c.status).toEqual(first);
    expect(stalled(c)?.lastTransitionTime).toBe('2025-01-01T00:00:00Z');
  });
});

describe('Ready in the v1beta1 list (what the v1alpha3 view shows kstatus)', () => {
  const legacyReady = (c: TalosConfig) => c.status?.deprecated?.v1beta1?.conditions?.find((x) => x.type === 'Ready');

  test('before anything is reported (no owner yet) it is Unknown, as in the metav1 list, not absent', () => {
    const c = config();
    setReadySummary(c);
    expect(c.status?.conditions?.find((x) => x.type === 'Ready')).toMatchObject({ status: 'Unknown', reason: 'NotReported' });
    expect(legacyReady(c)).toMatchObject({ status: 'Unknown', reason: 'NotReported' });
  });

  test('once DataSecretAvailable is reported it summarises that, with CABPT reasons', () => {
    const c = config();
    setReadySummary(c);
    markWaiting(c, 'Waiting for the cluster infrastructure to be ready');
    setReadySummary(c);
    expect(legacyReady(c)).toMatchObject({ status: 'False', reason: 'WaitingForClusterInfrastructure', severity: 'Info' });
    markDataSecretAvailable(c);
    setReadySummary(c);
    expect(legacyReady(c)?.status).toBe('True');
  });
});
