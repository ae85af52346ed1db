// Machine configuration generation, per Talos version contract, from the inputs the bootstrap
// provider has (cluster name, endpoint, Kubernetes version, networking, secrets bundle) — the
// same documents Talos's generate.Input.Config produces for them.
//
// Up to contract 1.13 the configuration is one v1alpha1 document (plus HostnameConfig from
// 1.12); from 1.14 the v1alpha1 document shrinks to machine identity and the rest moves into
// typed documents (discovery, resolver, volumes, Kube*).

import type { TalosContract } from '../contract';
import { canonicalDocument } from '../schema/documents';
import type { SecretsBundle } from '../secrets/bundle';
import type { YamlMap } from '../yaml/values';
import * as k8s from './kubernetes-defaults';
import { InputError, parseEndpoint, parsePrefix, type ParsedEndpoint } from '../net';

/** One configuration document as plain data (the legacy one has `version: v1alpha1`, no kind). */
export type ConfigDocument = YamlMap;

export type MachineType = 'init' | 'controlplane' | 'worker';

export const MACHINE_TYPES: readonly MachineType[] = ['init', 'controlplane', 'worker'];

export interface GenerateInput {
  clusterName: string;
  /** Control-plane endpoint URL, e.g. https://10.0.0.1:6443 or https://[fd00::1]:6443. */
  endpoint: string;
  /** Kubernetes version, with or without a leading "v". */
  kubernetesVersion: string;
  contract: TalosContract;
  bundle: SecretsBundle;
  machineType: MachineType;
  /** Cluster DNS domain (default cluster.local). */
  dnsDomain?: string;
  /** Pod CIDRs, several for dual-stack (default 10.244.0.0/16). */
  podCIDRs?: string[];
  /** Service CIDRs, several for dual-stack (default 10.96.0.0/12). */
  serviceCIDRs?: string[];
  /**
   * Static hostname (e.g. from the Machine's or the infrastructure machine's name): written to
   * `machine.network.hostname` before contract 1.12 and as a HostnameConfig document
   * (`auto: off`) from 1.12 on — never both.
   */
  hostname?: string;
}

interface Resolved {
  input: GenerateInput;
  isControlPlane: boolean;
  kubernetesVersion: string;
  endpoint: ParsedEndpoint;
  dnsDomain: string;
  podCIDRs: string[];
  serviceCIDRs: string[];
}

const b64 = (pem: string): string => Buffer.from(pem, 'utf8').toString('base64');

function checkDnsName(name: string, what: string): void {
  const label = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
  if (name.length > 253 || !name.split('.').every((part) => label.test(part))) {
    throw new InputError(`invalid ${what} "${name}": not a valid DNS name`);
  }
}

function cidrs(values: string[] | undefined, fallback: string, what: string, canonical: boolean): string[] {
  const list = values && values.length > 0 ? values : [fallback];
  // Up to 1.13 Talos stores the subnets as the strings given; from 1.14 as parsed prefixes.
  return list.map((value) => {
    const parsed = parsePrefix(value, what);
    return canonical ? parsed.canonical : value;
  });
}

function resolve(input: GenerateInput): Resolved {
  if (!input.clusterName) throw new InputError('cluster name is required');
  const kubernetesVersion = input.kubernetesVersion.trim().replace(/^v/, '');
  if (!/^\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$/.test(kubernetesVersion)) {
    throw new InputError(`invalid Kubernetes version "${input.kubernetesVersion}": expected e.g. 1.32.3`);
  }
  const dnsDomain = input.dnsDomain || k8s.DEFAULT_DNS_DOMAIN;
  checkDnsName(dnsDomain, 'DNS domain');
  if (input.hostname !== undefined) checkDnsName(input.hostname, 'hostname');
  if (!input.bundle.certs.os) throw new InputError('the secrets bundle has no OS (Talos API) CA');
  const canonical = input.contract.features.multidocKubernetesConfigSupported;
  return {
    input,
    isControlPlane: input.machineType !== 'worker',
    kubernetesVersion,
    endpoint: parseEndpoint(input.endpoint),
    dnsDomain,
    podCIDRs: cidrs(input.podCIDRs, k8s.DEFAULT_POD_CIDR, 'pod CIDR', canonical),
    serviceCIDRs: cidrs(input.serviceCIDRs, k8s.DEFAULT_SERVICE_CIDR, 'service CIDR', canonical),
  };
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new InputError(`the secrets bundle has no ${what}`);
  return value;
}

function machineSection(r: Resolved): YamlMap {
  const { contract, bundle, machineType } = r.input;
  const f = contract.features;
  const os = required(bundle.certs.os, 'OS CA');
  const features: YamlMap = {};
  if (!f.hideRBACAndKeyUsage) {
    features.rbac = true;
    if (f.apidExtKeyUsageCheckEnabled) features.apidCheckExtKeyUsage = true;
  }
  if (f.stableHostnameEnabled && !f.multidocNetworkConfigSupported) features.stableHostname = true;
  if (f.diskQuotaSupportEnabled) features.diskQuotaSupport = true;
  if (!f.multidocKubernetesConfigSupported && f.kubePrismEnabled) {
    features.kubePrism = { enabled: true, port: k8s.DEFAULT_KUBEPRISM_PORT };
  }
  if (f.hostDNSEnabled && !f.hostDNSMultidocConfig) {
    features.hostDNS = { enabled: true, ...(f.hostDNSForwardKubeDNSToHost ? { forwardKubeDNSToHost: true } : {}) };
  }

  const machine: YamlMap = {
    type: machineType,
    token: bundle.trustdInfo.token,
    ca: { crt: b64(os.crt), key: r.isControlPlane ? b64(os.key) : '' },
    certSANs: [],
    features,
  };
  if (!f.multidocKubernetesConfigSupported) {
    machine.kubelet = {
      image: `${k8s.KUBELET_IMAGE}:v${r.kubernetesVersion}`,
      ...(f.kubeletDefaultRuntimeSeccompProfileEnabled ? { defaultRuntimeSeccompProfileEnabled: true } : {}),
      ...(f.kubeletManifestsDirectoryDisabled ? { disableManifestsDirectory: true } : {}),
    };
  }
  if (!f.kubeSpanMultidocConfig) machine.network = {};
  if (r.input.hostname !== undefined && !f.multidocNetworkConfigSupported) {
    machine.network = { ...(machine.network as YamlMap | undefined), hostname: r.input.hostname };
  }
  if (!f.unattendedInstallConfig) {
    machine.install = { wipe: false, ...(f.grubUseUKICmdlineDefault ? { grubUseUKICmdline: true } : {}) };
  }
  if (r.isControlPlane && f.addExcludeFromExternalLoadBalancer && !f.multidocKubernetesConfigSupported) {
    machine.nodeLabels = { [k8s.EXCLUDE_FROM_EXTERNAL_LB_LABEL]: '' };
  }
  return machine;
}

function image(repository: string, r: Resolved): string {
  return `${repository}:v${r.kubernetesVersion}`;
}

/** The v1alpha1 `cluster` section up to contract 1.13 (Kubernetes settings live here). */
function legacyKubernetesCluster(r: Resolved, cluster: YamlMap): void {
  const { bundle, contract } = r.input;
  const f = contract.features;
  const k8sCA = required(bundle.certs.k8s, 'Kubernetes CA');
  cluster.controlPlane = { endpoint: r.endpoint.url };
  cluster.network = { dnsDomain: r.dnsDomain, podSubnets: r.podCIDRs, serviceSubnets: r.serviceCIDRs };
  cluster.discovery = {
    enabled: true,
    registries: { kubernetes: f.kubernetesDiscoveryBackendDisabled ? { disabled: true } : {}, service: {} },
  };
  if (!r.isControlPlane) {
    cluster.ca = { crt: b64(k8sCA.crt), key: '' };
    if (f.clusterNameForWorkers) cluster.clusterName = r.input.clusterName;
    return;
  }
  const aggregator = required(bundle.certs.k8sAggregator, 'aggregator CA');
  const serviceAccount = required(bundle.certs.k8sServiceAccount, 'service-account key');
  cluster.clusterName = r.input.clusterName;
  if (f.secretboxEncryptionSupported) cluster.secretboxEncryptionSecret = bundle.secrets.secretboxEncryptionSecret ?? '';
  else cluster.aescbcEncryptionSecret = bundle.secrets.aescbcEncryptionSecret ?? '';
  cluster.ca = { crt: b64(k8sCA.crt), key: b64(k8sCA.key) };
  cluster.aggregatorCA = { crt: b64(aggregator.crt), key: b64(aggregator.key) };
  cluster.serviceAccount = { key: b64(serviceAccount.key) };
  cluster.apiServer = {
    image: image(k8s.KUBE_APISERVER_IMAGE, r),
    certSANs: f.populateClusterSANsFromEndpoint ? [r.endpoint.hostname] : [],
    ...(f.hideDisablePSP ? {} : { disablePodSecurityPolicy: true }),
    admissionControl: [{ name: 'PodSecurity', configuration: k8s.podSecurityConfiguration() }],
    ...(f.apiServerAuditPolicySupported ? { auditPolicy: k8s.auditPolicy() } : {}),
  };
  cluster.controllerManager = { image: image(k8s.KUBE_CONTROLLER_MANAGER_IMAGE, r) };
  cluster.proxy = { image: image(k8s.KUBE_PROXY_IMAGE, r) };
  cluster.scheduler = { image: image(k8s.KUBE_SCHEDULER_IMAGE, r) };
}

function v1alpha1Document(r: Resolved): ConfigDocument {
  const { bundle, contract } = r.input;
  const f = contract.features;
  const cluster: YamlMap = { token: bundle.secrets.bootstrapToken };
  if (!f.discoveryIdentityMultidocConfig) {
    cluster.id = bundle.cluster.id;
    cluster.secret = bundle.cluster.secret;
  }
  if (!f.multidocKubernetesConfigSupported) legacyKubernetesCluster(r, cluster);
  if (r.isControlPlane) {
    const etcd = required(bundle.certs.etcd, 'etcd CA');
    cluster.etcd = { ca: { crt: b64(etcd.crt), key: b64(etcd.key) } };
  }
  return { version: 'v1alpha1', debug: false, persist: true, machine: machineSection(r), cluster };
}

const doc = (kind: string, body: YamlMap): ConfigDocument => ({ apiVersion: 'v1alpha1', kind, ...body });

/** Kubernetes documents every 1.14+ machine gets. */
function kubernetesNodeDocuments(r: Resolved): ConfigDocument[] {
  const { bundle } = r.input;
  const k8sCA = required(bundle.certs.k8s, 'Kubernetes CA');
  const node: YamlMap = { nodeIP: {} };
  if (r.isControlPlane) {
    node.labels = { [k8s.CONTROL_PLANE_ROLE_LABEL]: '', [k8s.EXCLUDE_FROM_EXTERNAL_LB_LABEL]: '' };
    node.taints = { [k8s.CONTROL_PLANE_ROLE_LABEL]: 'NoSchedule' };
  }
  return [
    doc('KubeClusterConfig', { clusterName: r.input.clusterName, endpoint: r.endpoint.url }),
    doc('KubeNodeConfig', node),
    doc('KubeletConfig', {
      image: image(k8s.KUBELET_IMAGE, r),
      config: {},
      defaultRuntimeSeccompProfileEnabled: true,
    }),
    doc('KubeNetworkConfig', { dnsDomain: r.dnsDomain, podSubnets: r.podCIDRs, serviceSubnets: r.serviceCIDRs }),
    doc(
      'KubeAPIServerCAConfig',
      r.isControlPlane ? { issuingCA: { cert: k8sCA.crt, key: k8sCA.key } } : { acceptedCAs: [k8sCA.crt] },
    ),
    doc('KubePrismConfig', { port: k8s.DEFAULT_KUBEPRISM_PORT }),
  ];
}

/** Kubernetes control-plane documents of 1.14+. */
function kubernetesControlPlaneDocuments(r: Resolved): ConfigDocument[] {
  const { bundle } = r.input;
  const aggregator = required(bundle.certs.k8sAggregator, 'aggregator CA');
  const serviceAccount = required(bundle.certs.k8sServiceAccount, 'service-account key');
  return [
    doc('KubeAggregatorCAConfig', { issuingCA: { cert: aggregator.crt, key: aggregator.key } }),
    doc('KubeAdmissionControlConfig', { name: 'PodSecurity', configuration: k8s.podSecurityConfiguration() }),
    doc('KubeAuditPolicyConfig', { configuration: k8s.auditPolicy() }),
    doc('KubeAuthenticationConfig', { configuration: k8s.authenticationConfiguration() }),
    doc('KubeAuthorizerConfig', { name: 'node', type: 'Node' }),
    doc('KubeAuthorizerConfig', { name: 'rbac', type: 'RBAC' }),
    doc('KubeEtcdEncryptionConfig', {
      config: k8s.etcdEncryptionConfiguration(bundle.secrets.secretboxEncryptionSecret, bundle.secrets.aescbcEncryptionSecret),
    }),
    doc('KubeServiceAccountConfig', { issuer: { privateKey: serviceAccount.key, issuerURL: r.endpoint.url } }),
    doc('KubeAPIServerConfig', { image: image(k8s.KUBE_APISERVER_IMAGE, r) }),
    doc('KubeControllerManagerConfig', { image: image(k8s.KUBE_CONTROLLER_MANAGER_IMAGE, r) }),
    doc('KubeSchedulerConfig', { image: image(k8s.KUBE_SCHEDULER_IMAGE, r), config: {} }),
    doc('KubeProxyConfig', { image: image(k8s.KUBE_PROXY_IMAGE, r), config: {} }),
    doc('KubeFlannelCNIConfig', { backendType: 'vxlan', backendPort: 4789 }),
    doc('KubeCoreDNSConfig', { enabled: true }),
  ];
}

/** The HostnameConfig document Talos generates from 1.12 (stable hostname or a static one). */
export function hostnameDocument(hostname: string | undefined): ConfigDocument {
  return doc('HostnameConfig', hostname === undefined ? { auto: 'stable' } : { auto: 'off', hostname });
}

/** Documents after the v1alpha1 one, in Talos's order. */
function extraDocuments(r: Resolved): ConfigDocument[] {
  const { bundle } = r.input;
  const f = r.input.contract.features;
  const docs: ConfigDocument[] = [];
  if (f.discoveryServiceMultidocConfig) {
    docs.push(doc('DiscoveryServiceConfig', { name: 'default', endpoint: k8s.DEFAULT_DISCOVERY_ENDPOINT }));
  }
  if (f.discoveryIdentityMultidocConfig) {
    docs.push(doc('DiscoveryIdentityConfig', { clusterID: bundle.cluster.id, clusterSecret: bundle.cluster.secret }));
  }
  if (f.hostDNSMultidocConfig) {
    docs.push(doc('ResolverConfig', { hostDNS: { enabled: true, forwardKubeDNSToHost: true } }));
  }
  if (f.filesystemTrimEnabledByDefault) {
    docs.push(doc('VolumeConfig', { name: 'EPHEMERAL', mount: { secure: true } }));
    docs.push(doc('FilesystemTrimConfig', { interval: '168h0m0s' }));
  }
  if (f.workloadIsolationEnabledByDefault) docs.push(doc('SecurityProfileConfig', { workloadIsolation: true }));
  if (f.multidocNetworkConfigSupported) docs.push(hostnameDocument(r.input.hostname));
  if (f.multidocKubernetesConfigSupported) {
    docs.push(...kubernetesNodeDocuments(r));
    if (r.isControlPlane) docs.push(...kubernetesControlPlaneDocuments(r));
  }
  return docs;
}

/**
 * Generates the configuration documents of one machine, in Talos's document and key order.
 * Throws InputError for unusable input.
 */
export function generateMachineConfig(input: GenerateInput): ConfigDocument[] {
  const r = resolve(input);
  return [v1alpha1Document(r), ...extraDocuments(r)].map(canonicalDocument);
}
