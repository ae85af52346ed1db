import { markPaused, updateStatus, versionsOf } from '../../../src/controlplane/status';
import { REMEDIATION_IN_PROGRESS_ANNOTATION } from '../../../src/controlplane/remediation';
import { machine, tcp, view } from './fixtures';

const conditionsOf = (v: ReturnType<typeof view>) =>
  Object.fromEntries((v.tcp.status?.conditions ?? []).map((c) => [c.type, { status: c.status, reason: c.reason, message: c.message }]));

describe('updateStatus', () => {
  it('counts replicas, Ready and Available Machines, versions and the selector', () => {
    const v = view(tcp({ bootstrapped: true, initialized: true }), [
      machine('cp-a', { node: true, ready: 'True', available: 'True' }),
      machine('cp-b', { node: true, ready: 'True', available: 'False' }),
      machine('cp-c', { ready: 'False', version: 'v1.33.5' }),
    ]);
    updateStatus(v, { kubeconfigWritten: true });
    expect(v.tcp.status).toMatchObject({
      selector: 'cluster.x-k8s.io/cluster-name=c,cluster.x-k8s.io/control-plane=',
      replicas: 3, readyReplicas: 2, availableReplicas: 1, upToDateReplicas: 2,
      versions: [{ version: 'v1.33.5', replicas: 1 }, { version: 'v1.34.1', replicas: 2 }], version: 'v1.33.5',
      initialization: { controlPlaneInitialized: true },
      deprecated: { v1beta1: { updatedReplicas: 2, unavailableReplicas: 1 } },
    });
    expect(conditionsOf(v)).toMatchObject({
      Available: { status: 'True' }, Paused: { status: 'False' }, ScalingUp: { status: 'False' }, ScalingDown: { status: 'False' },
      RollingOut: { status: 'True', reason: 'RollingOut', message: 'Rolling out 1 outdated Machine\n* Machine cp-c: Kubernetes version v1.33.5, v1.34.1 wanted' },
    });
    expect(v.tcp.status?.deprecated?.v1beta1?.conditions?.map((c) => [c.type, c.status])).toEqual([['Ready', 'True'], ['Available', 'True'], ['MachinesBootstrapped', 'True'], ['Reconciling', 'True']]);
    expect(conditionsOf(v).Reconciling).toMatchObject({ status: 'True', reason: 'Progressing' });
  });

  it('sums up the Machines in Initialized, MachinesReady and MachinesUpToDate, naming each Machine that holds them back', () => {
    const v = view(tcp({ bootstrapped: true, initialized: true }), [
      machine('cp-a', { node: true, ready: 'True' }), machine('cp-b', { ready: 'False', version: 'v1.33.5' }),
    ]);
    updateStatus(v, { kubeconfigWritten: true });
    expect(conditionsOf(v)).toMatchObject({
      Initialized: { status: 'True', reason: 'Initialized' },
      MachinesReady: { status: 'False', reason: 'NotReady', message: '* Machine cp-b: not Ready (its Node is not Ready)' },
      MachinesUpToDate: { status: 'False', reason: 'NotUpToDate', message: '* Machine cp-b: Kubernetes version v1.33.5, v1.34.1 wanted' },
    });

    const none = view(tcp(), []);
    updateStatus(none, { kubeconfigWritten: false });
    expect(conditionsOf(none)).toMatchObject({
      Initialized: { status: 'False', reason: 'NotInitialized' }, MachinesReady: { status: 'Unknown' }, MachinesUpToDate: { status: 'Unknown' },
    });
  });

  it('says Reconciling (kstatus: InProgress) until the Machines are what the spec asks and all Ready, and drops it then', () => {
    const legacy = (v: ReturnType<typeof view>) => {
      const inLegacy = v.tcp.status?.deprecated?.v1beta1?.conditions?.find((c) => c.type === 'Reconciling');
      // Both lists say the same (kstatus reads status.conditions of whichever version it is given).
      expect(conditionsOf(v).Reconciling?.message).toBe(inLegacy?.message);
      return inLegacy;
    };
    const ready = (name: string) => machine(name, { node: true, ready: 'True', available: 'True' });

    const scaling = view(tcp({ bootstrapped: true, initialized: true }), [ready('cp-a')]);
    updateStatus(scaling, { kubeconfigWritten: true, waiting: 'Waiting for the new Machine to be provisioned' });
    expect(scaling.tcp.status?.deprecated?.v1beta1?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(legacy(scaling)).toMatchObject({ status: 'True', reason: 'Progressing', message: 'Scaling from 1 to 3 replicas: Waiting for the new Machine to be provisioned' });

    const joining = view(tcp({ bootstrapped: true, initialized: true }), [ready('cp-a'), ready('cp-b'), machine('cp-c', { ready: 'False' })]);
    updateStatus(joining, { kubeconfigWritten: true });
    expect(legacy(joining)).toMatchObject({ status: 'True', message: '2 of 3 replicas Ready' });

    const done = view(tcp({ bootstrapped: true, initialized: true }), [ready('cp-a'), ready('cp-b'), ready('cp-c')]);
    done.tcp.status!.conditions = joining.tcp.status!.conditions;
    done.tcp.status!.deprecated = joining.tcp.status!.deprecated;
    updateStatus(done, { kubeconfigWritten: true });
    expect(legacy(done)).toBeUndefined();
  });

  it('a Machine that cannot be adopted keeps Reconciling True with the reason, even when all else is done', () => {
    const ready = (name: string) => machine(name, { node: true, ready: 'True', available: 'True' });
    const refused = view(tcp({ bootstrapped: true, initialized: true }), [ready('cp-a'), ready('cp-b'), ready('cp-c')]);
    const why = 'Machine old is not adopted: its version v1.31.0 is more than one minor version away from the control plane\'s v1.34.1';
    updateStatus(refused, { kubeconfigWritten: true, adoptionRefused: why });
    expect(conditionsOf(refused).Reconciling).toEqual({ status: 'True', reason: 'Progressing', message: why });
  });

  it('is initialized once etcd is bootstrapped and the kubeconfig written, and says what Available waits for', () => {
    const notYet = view(tcp(), [machine('cp-a')]);
    updateStatus(notYet, { kubeconfigWritten: false, waiting: 'Waiting for Machine cp-a to report an address to bootstrap etcd on' });
    expect(notYet.tcp.status).toMatchObject({ initialization: { controlPlaneInitialized: false }, readyReplicas: 0 });
    expect(conditionsOf(notYet)).toMatchObject({
      Available: { status: 'False', reason: 'NotAvailable', message: 'Waiting for Machine cp-a to report an address to bootstrap etcd on' },
      ScalingUp: { status: 'True', reason: 'ScalingUp', message: 'Scaling up from 1 to 3 replicas: Waiting for Machine cp-a to report an address to bootstrap etcd on' },
    });
    expect(notYet.tcp.status?.deprecated?.v1beta1?.conditions?.find((c) => c.type === 'MachinesBootstrapped')).toMatchObject({ status: 'False', reason: 'WaitingForTalosBoot' });

    const noKubeconfig = view(tcp({ bootstrapped: true }), [machine('cp-a')]);
    updateStatus(noKubeconfig, { kubeconfigWritten: false });
    expect(conditionsOf(noKubeconfig).Available?.message).toBe('Waiting for the c-kubeconfig Secret to be written');

    const noReadyMachine = view(tcp({ bootstrapped: true }), [machine('cp-a', { ready: 'False' })]);
    updateStatus(noReadyMachine, { kubeconfigWritten: true });
    expect(noReadyMachine.tcp.status?.initialization?.controlPlaneInitialized).toBe(true);
    expect(conditionsOf(noReadyMachine).Available).toEqual({ status: 'False', reason: 'NotAvailable', message: 'Waiting for a control-plane Machine to be Ready (its Node Ready)' });
  });

  it('never takes initialized back', () => {
    const v = view(tcp({ initialized: true }), []);
    updateStatus(v, { kubeconfigWritten: false });
    expect(v.tcp.status?.initialization?.controlPlaneInitialized).toBe(true);
  });

  it('reports a failure in the waiting conditions, and too many replicas', () => {
    const failed = view(tcp(), [machine('cp-a', { address: '127.0.0.8' })]);
    updateStatus(failed, { kubeconfigWritten: false, failure: 'Bootstrap: UNAVAILABLE' });
    expect(conditionsOf(failed).Available?.message).toBe('Bootstrap: UNAVAILABLE');


    const many = view(tcp({ replicas: 1, bootstrapped: true }), [machine('a'), machine('b'), machine('c')]);
    updateStatus(many, { kubeconfigWritten: true });
    expect(conditionsOf(many).ScalingDown).toEqual({ status: 'True', reason: 'ScalingDown', message: 'Scaling down from 3 to 1 replicas' });
    expect(conditionsOf(many).RollingOut).toEqual({ status: 'False', reason: 'NotRollingOut', message: '' });
  });
});

describe('a paused control plane', () => {
  it('says Paused=True at the generation it saw and changes nothing else', () => {
    const v = view(tcp({ bootstrapped: true, initialized: true }), [machine('cp-a', { node: true, ready: 'True' })]);
    updateStatus(v, { kubeconfigWritten: true });
    const before = structuredClone(v.tcp.status!);
    v.tcp.metadata.generation = 3;
    v.tcp.spec.replicas = 5;
    markPaused(v);
    expect(conditionsOf(v).Paused).toEqual({ status: 'True', reason: 'Paused', message: 'The Cluster or the TalosControlPlane is paused' });
    expect(v.tcp.status!.conditions!.find((c) => c.type === 'Paused')?.observedGeneration).toBe(3);
    const others = (status: typeof before) => ({ ...status, conditions: status.conditions?.filter((c) => c.type !== 'Paused') });
    expect(others(v.tcp.status!)).toEqual(others(before));
  });
});

describe('CertificatesAvailable', () => {
  it('is True once the bundle was found whole, False saying what is missing, Unknown before it was read', () => {
    const found = view(tcp(), []);
    updateStatus(found, { kubeconfigWritten: false, certificates: { available: true } });
    expect(conditionsOf(found).CertificatesAvailable).toEqual({ status: 'True', reason: 'Available', message: '' });

    const missing = view(tcp(), []);
    const message = 'Secret ns/c-talos does not exist yet (the bootstrap provider writes the secrets bundle when it renders the first Machine\'s config)';
    updateStatus(missing, { kubeconfigWritten: false, certificates: { available: false, reason: 'SecretNotFound', message } });
    expect(conditionsOf(missing).CertificatesAvailable).toEqual({ status: 'False', reason: 'SecretNotFound', message });

    const unread = view(tcp(), []);
    updateStatus(unread, { kubeconfigWritten: false });
    expect(conditionsOf(unread).CertificatesAvailable).toMatchObject({ status: 'Unknown', reason: 'NotChecked' });
  });

  it('stays as it was after a pass that did not read the bundle', () => {
    const v = view(tcp(), []);
    updateStatus(v, { kubeconfigWritten: false, certificates: { available: true } });
    updateStatus(v, { kubeconfigWritten: false });
    expect(conditionsOf(v).CertificatesAvailable).toMatchObject({ status: 'True', reason: 'Available' });
  });
});

describe('the Remediating condition', () => {
  const inProgress = () => {
    const base = tcp({ bootstrapped: true });
    return { ...base, metadata: { ...base.metadata, annotations: { [REMEDIATION_IN_PROGRESS_ANNOTATION]: '{"machine":"cp-a","timestamp":"2026-01-01T00:00:00Z","retryCount":1}' } } };
  };

  it('False NotRemediating when nothing is remediated', () => {
    const v = view(tcp({ bootstrapped: true }), [machine('cp-a', { node: true })]);
    updateStatus(v, { kubeconfigWritten: true });
    expect(conditionsOf(v).Remediating).toEqual({ status: 'False', reason: 'NotRemediating', message: '' });
  });

  it('True RemediationInProgress while the control plane carries the annotation, with what the step says if it said', () => {
    const v = view(inProgress(), [machine('cp-b', { node: true })]);
    updateStatus(v, { kubeconfigWritten: true });
    expect(conditionsOf(v).Remediating).toEqual({ status: 'True', reason: 'RemediationInProgress', message: 'Remediating Machine cp-a' });
    const said = view(inProgress(), [machine('cp-b', { node: true })]);
    updateStatus(said, { kubeconfigWritten: true, remediation: { reason: 'RemediationInProgress', message: 'Machine cp-a was remediated (retry 1): waiting for its replacement to join' } });
    expect(conditionsOf(said).Remediating).toMatchObject({ status: 'True', message: 'Machine cp-a was remediated (retry 1): waiting for its replacement to join' });
  });

  it('False with the guard\'s reason and message while a remediation is blocked', () => {
    const v = view(tcp({ bootstrapped: true }), [machine('cp-a', { node: true, markedForRemediation: true })]);
    updateStatus(v, { kubeconfigWritten: true, remediation: { reason: 'CannotBeRemediated', message: 'Machine cp-a cannot be remediated: the control plane has only this replica (its etcd member is the only one)' } });
    expect(conditionsOf(v).Remediating).toEqual({ status: 'False', reason: 'CannotBeRemediated', message: 'Machine cp-a cannot be remediated: the control plane has only this replica (its etcd member is the only one)' });
  });
});

describe('versionsOf', () => {
  it('orders versions oldest first by number, not by text', () => {
    expect(versionsOf([machine('a', { version: 'v1.10.0' }), machine('b', { version: 'v1.9.3' }), machine('c', { version: 'v1.10.0' })]))
      .toEqual([{ version: 'v1.9.3', replicas: 1 }, { version: 'v1.10.0', replicas: 2 }]);
  });

  it('reports etcd and Talos service health from the nodes’ streams, naming each problem', () => {
    const running = (healthy = true) => ({ state: 'RUNNING', healthy, healthUnknown: false, message: '' });
    const well = new Map(['apid', 'containerd', 'cri', 'etcd', 'kubelet', 'machined', 'trustd'].map((id) => [id, running()]));
    const sick = new Map([...well, ['etcd', running(false)]]);
    const v = view(tcp({ bootstrapped: true }), [machine('cp-a'), machine('cp-b'), machine('cp-c')]);
    updateStatus(v, {
      kubeconfigWritten: true,
      nodeServices: new Map([
        ['cp-a', { reachable: true as const, services: well }],
        ['cp-b', { reachable: true as const, services: sick }],
        ['cp-c', { reachable: false as const, error: 'connect ECONNREFUSED' }],
      ]),
    });
    expect(conditionsOf(v).EtcdClusterHealthy).toEqual({
      status: 'False', reason: 'NotHealthy',
      message: '* Machine cp-b: etcd running, not healthy\n* Machine cp-c: Talos API not answering (connect ECONNREFUSED)',
    });
    expect(conditionsOf(v).ControlPlaneComponentsHealthy?.message).toBe('* Machine cp-b: etcd not running healthy\n* Machine cp-c: Talos API not answering (connect ECONNREFUSED)');

    const healthy = view(tcp({ bootstrapped: true }), [machine('cp-a')]);
    updateStatus(healthy, { kubeconfigWritten: true, nodeServices: new Map([['cp-a', { reachable: true as const, services: well }]]) });
    expect(conditionsOf(healthy).EtcdClusterHealthy).toEqual({ status: 'True', reason: 'Healthy', message: '' });
    const notYet = view(tcp({ bootstrapped: true }), [machine('cp-a')]);
    updateStatus(notYet, { kubeconfigWritten: true, nodeServices: new Map([['cp-a', undefined]]) });
    expect(conditionsOf(notYet).EtcdClusterHealthy).toEqual({ status: 'Unknown', reason: 'HealthUnknown', message: 'Waiting to hear from cp-a' });
  });
});
