import {
  encodeConfig,
  generateMachineConfig,
  renderMachineConfigDocuments,
  resolveHostname,
  type ConfigDocument,
  type GenerateInput,
  type SecretsBundle,
} from '../../../src/talos/config';
import { at, b64, generateInput, quickBundle } from './helpers';

let bundle: SecretsBundle;
beforeAll(async () => {
  bundle = await quickBundle();
});

const input = (version: string, machineType: GenerateInput['machineType'], extra: Partial<GenerateInput> = {}): GenerateInput =>
  generateInput(bundle, version, machineType, { kubernetesVersion: 'v1.30.2', ...extra });

const kinds = (docs: ConfigDocument[]) => docs.map((d) => (d.kind as string | undefined) ?? `v1alpha1/${d.version as string}`);

describe('single-document contracts (1.3 – 1.11)', () => {
  it('writes the v1alpha1 control-plane document with the contract features', () => {
    const docs = generateMachineConfig(input('v1.7', 'controlplane'));
    expect(kinds(docs)).toEqual(['v1alpha1/v1alpha1']);
    const doc = docs[0];
    expect(Object.keys(docs[0]!)).toEqual(['version', 'debug', 'persist', 'machine', 'cluster']);
    expect(at(doc, 'machine.type')).toBe('controlplane');
    expect(at(doc, 'machine.token')).toBe(bundle.trustdInfo.token);
    expect(at(doc, 'machine.ca')).toEqual({ crt: b64(bundle.certs.os!.crt), key: b64(bundle.certs.os!.key) });
    expect(at(doc, 'machine.kubelet')).toEqual({
      image: 'ghcr.io/siderolabs/kubelet:v1.30.2',
      defaultRuntimeSeccompProfileEnabled: true,
      disableManifestsDirectory: true,
    });
    expect(at(doc, 'machine.features')).toEqual({
      rbac: true,
      stableHostname: true,
      apidCheckExtKeyUsage: true,
      diskQuotaSupport: true,
      kubePrism: { enabled: true, port: 7445 },
      hostDNS: { enabled: true },
    });
    expect(at(doc, 'cluster.apiServer.certSANs')).toEqual(['10.0.0.1']);
    expect(at(doc, 'cluster.etcd')).toEqual({ ca: { crt: b64(bundle.certs.etcd!.crt), key: b64(bundle.certs.etcd!.key) } });
    expect(at(doc, 'cluster.serviceAccount')).toEqual({ key: b64(bundle.certs.k8sServiceAccount!.key) });
    expect(at(doc, 'cluster.secretboxEncryptionSecret')).toBe(bundle.secrets.secretboxEncryptionSecret);
  });

  it('gives workers the CA certificates without keys and no control-plane sections', () => {
    const doc = generateMachineConfig(input('v1.8', 'worker'))[0];
    expect(at(doc, 'machine.ca')).toEqual({ crt: b64(bundle.certs.os!.crt), key: '' });
    expect(at(doc, 'cluster.ca')).toEqual({ crt: b64(bundle.certs.k8s!.crt), key: '' });
    expect(at(doc, 'cluster.clusterName')).toBe('demo');
    for (const key of ['etcd', 'apiServer', 'aggregatorCA', 'serviceAccount', 'secretboxEncryptionSecret']) expect(at(doc, `cluster.${key}`)).toBeUndefined();
    expect(at(doc, 'machine.nodeLabels')).toBeUndefined();
  });

  it('differs between init and controlplane only in machine.type', () => {
    const init = generateMachineConfig(input('v1.10', 'init'));
    const cp = generateMachineConfig(input('v1.10', 'controlplane'));
    expect(at(init[0], 'machine.type')).toBe('init');
    (at(init[0], 'machine') as Record<string, unknown>).type = 'controlplane';
    expect(init).toEqual(cp);
  });

  it('takes the API server SAN from an IPv6 endpoint without brackets', () => {
    const doc = generateMachineConfig(input('v1.11', 'controlplane', { endpoint: 'https://[fd00::1]:6443' }))[0];
    expect(at(doc, 'cluster.controlPlane.endpoint')).toBe('https://[fd00::1]:6443');
    expect(at(doc, 'cluster.apiServer.certSANs')).toEqual(['fd00::1']);
  });

  it('writes a static hostname to machine.network.hostname', () => {
    const docs = generateMachineConfig(input('v1.11', 'worker', { hostname: 'node-1' }));
    expect(at(docs[0], 'machine.network')).toEqual({ hostname: 'node-1' });
    expect(kinds(docs)).toEqual(['v1alpha1/v1alpha1']);
  });
});

describe('contracts 1.12 and 1.13', () => {
  it('adds HostnameConfig, drops the RBAC/key-usage features, keeps machine.network only in 1.12', () => {
    const v12 = generateMachineConfig(input('v1.12', 'controlplane'));
    const v13 = generateMachineConfig(input('v1.13', 'controlplane'));
    expect(kinds(v12)).toEqual(['v1alpha1/v1alpha1', 'HostnameConfig']);
    expect(v12[1]).toEqual({ apiVersion: 'v1alpha1', kind: 'HostnameConfig', auto: 'stable' });
    expect(at(v12[0], 'machine.network')).toEqual({});
    expect(at(v13[0], 'machine.network')).toBeUndefined();
    expect(at(v12[0], 'machine.features.rbac')).toBeUndefined();
    expect(at(v12[0], 'cluster.apiServer.certSANs')).toBeUndefined();
    expect(at(v12[0], 'machine.install')).toEqual({ wipe: false, grubUseUKICmdline: true });
  });

  it('puts a static hostname into HostnameConfig only (never both places)', () => {
    const docs = generateMachineConfig(input('v1.12', 'worker', { hostname: 'node-1' }));
    expect(docs[1]).toEqual({ apiVersion: 'v1alpha1', kind: 'HostnameConfig', auto: 'off', hostname: 'node-1' });
    expect(at(docs[0], 'machine.network')).toEqual({});
    expect(encodeConfig(docs)).toContain("auto: 'off'\nhostname: node-1\n");
  });
});

describe('contract 1.14 multi-document layout', () => {
  it('splits the control-plane configuration into typed documents in Talos order', () => {
    const docs = generateMachineConfig(input('v1.14', 'controlplane'));
    expect(kinds(docs)).toEqual([
      'v1alpha1/v1alpha1', 'DiscoveryServiceConfig', 'DiscoveryIdentityConfig', 'ResolverConfig', 'VolumeConfig',
      'FilesystemTrimConfig', 'SecurityProfileConfig', 'HostnameConfig', 'KubeClusterConfig', 'KubeNodeConfig',
      'KubeletConfig', 'KubeNetworkConfig', 'KubeAPIServerCAConfig', 'KubePrismConfig', 'KubeAggregatorCAConfig',
      'KubeAdmissionControlConfig', 'KubeAuditPolicyConfig', 'KubeAuthenticationConfig', 'KubeAuthorizerConfig',
      'KubeAuthorizerConfig', 'KubeEtcdEncryptionConfig', 'KubeServiceAccountConfig', 'KubeAPIServerConfig',
      'KubeControllerManagerConfig', 'KubeSchedulerConfig', 'KubeProxyConfig', 'KubeFlannelCNIConfig', 'KubeCoreDNSConfig',
    ]);
    expect(at(docs[0], 'machine')).toEqual({
      type: 'controlplane',
      token: bundle.trustdInfo.token,
      ca: { crt: b64(bundle.certs.os!.crt), key: b64(bundle.certs.os!.key) },
      certSANs: [],
      features: { diskQuotaSupport: true },
    });
    expect(Object.keys(at(docs[0], 'cluster') ?? {})).toEqual(['token', 'etcd']);
    expect(docs.find((d) => d.kind === 'KubeAPIServerCAConfig')).toMatchObject({ issuingCA: { cert: bundle.certs.k8s!.crt } });
  });

  it('gives workers node documents only, trusting the Kubernetes CA', () => {
    const docs = generateMachineConfig(input('v1.14', 'worker'));
    expect(kinds(docs).slice(-6)).toEqual([
      'KubeClusterConfig', 'KubeNodeConfig', 'KubeletConfig', 'KubeNetworkConfig', 'KubeAPIServerCAConfig', 'KubePrismConfig',
    ]);
    expect(docs.find((d) => d.kind === 'KubeNodeConfig')).toEqual({ apiVersion: 'v1alpha1', kind: 'KubeNodeConfig', nodeIP: {} });
    expect(docs.find((d) => d.kind === 'KubeAPIServerCAConfig')).toMatchObject({ acceptedCAs: [bundle.certs.k8s!.crt] });
  });

  it('writes dual-stack subnets, IPv6 in Go netip form', () => {
    const docs = generateMachineConfig(
      input('v1.14', 'controlplane', { podCIDRs: ['10.244.0.0/16', 'FD00:10:244:0::/56'], serviceCIDRs: ['10.96.0.0/12', 'fd00:10:96::/112'], dnsDomain: 'corp.example' }),
    );
    expect(docs.find((d) => d.kind === 'KubeNetworkConfig')).toEqual({
      apiVersion: 'v1alpha1',
      kind: 'KubeNetworkConfig',
      dnsDomain: 'corp.example',
      podSubnets: ['10.244.0.0/16', 'fd00:10:244::/56'],
      serviceSubnets: ['10.96.0.0/12', 'fd00:10:96::/112'],
    });
  });
});

describe('input checks', () => {
  it.each([
    [{ endpoint: '10.0.0.1:6443' }, /invalid endpoint "10.0.0.1:6443"/],
    [{ endpoint: 'https://fd00::1:6443' }, /invalid endpoint/],
    [{ endpoint: 'ftp://host:21' }, /invalid endpoint "ftp:\/\/host:21"/],
    [{ kubernetesVersion: 'latest' }, /invalid Kubernetes version "latest"/],
    [{ podCIDRs: ['10.244.0.0'] }, /invalid pod CIDR "10.244.0.0"/],
    [{ serviceCIDRs: ['10.96.0.0/33'] }, /invalid service CIDR/],
    [{ dnsDomain: 'bad_domain' }, /invalid DNS domain "bad_domain"/],
    [{ hostname: '-node' }, /invalid hostname "-node"/],
    [{ clusterName: '' }, /cluster name is required/],
  ] as Array<[Partial<GenerateInput>, RegExp]>)('refuses %j', (extra, message) => {
    expect(() => generateMachineConfig(input('v1.13', 'controlplane', extra))).toThrow(message);
  });

  it('refuses a render that sets the hostname both in v1alpha1 and HostnameConfig', () => {
    expect(() =>
      renderMachineConfigDocuments({
        ...input('v1.13', 'worker'),
        patches: { jsonPatches: [{ op: 'add', path: '/machine/network', value: { hostname: 'x' } }] },
      }),
    ).toThrow('machine.network.hostname is set in the v1alpha1 document, but the HostnameConfig document configures it');
  });
});

describe('resolveHostname (TalosConfig hostname.source)', () => {
  const names = { machineName: 'cp-abc12', infrastructureName: 'proxmox-vm-101' };

  it('picks the Machine name or the infrastructure name, or none', () => {
    expect(resolveHostname('MachineName', names)).toBe('cp-abc12');
    expect(resolveHostname('InfrastructureName', names)).toBe('proxmox-vm-101');
    expect(resolveHostname('', names)).toBeUndefined();
    expect(resolveHostname(undefined, names)).toBeUndefined();
  });

  it('refuses an unknown source or a missing name', () => {
    expect(() => resolveHostname('NodeName', names)).toThrow('unknown hostname source "NodeName": expected MachineName or InfrastructureName');
    expect(() => resolveHostname('InfrastructureName', { machineName: 'x' })).toThrow('the infrastructure reference name is not known');
  });
});
