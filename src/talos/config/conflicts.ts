// Settings that exist twice from contract 1.12/1.14 on — once as a deprecated v1alpha1 field,
// once as a typed document — may only be given once; Talos refuses configs that set both when
// it validates them on the node. CABPT shipped such configs (hostname in both places); we
// refuse them when rendering, with a message that says where the setting belongs now.

import { identifyDocument, LEGACY_KIND } from './schema/documents';
import { isYamlMap, type YamlMap, type YamlValue } from './yaml/values';

/** Document kind → v1alpha1 paths it takes over (a path counts when set and not empty). */
const SUPERSEDED_FIELDS: Readonly<Record<string, readonly string[]>> = {
  HostnameConfig: ['machine.network.hostname', 'machine.features.stableHostname'],
  KubeSpanConfig: ['machine.network.kubespan'],
  ResolverConfig: [
    'machine.network.nameservers',
    'machine.network.searchDomains',
    'machine.network.disableSearchDomain',
    'machine.features.hostDNS',
  ],
  DiscoveryServiceConfig: ['cluster.discovery'],
  DiscoveryIdentityConfig: ['cluster.id', 'cluster.secret'],
  KubeClusterConfig: ['cluster.clusterName', 'cluster.controlPlane.endpoint'],
  KubeNodeConfig: [
    'cluster.allowSchedulingOnControlPlanes',
    'cluster.allowSchedulingOnMasters',
    'machine.kubelet.skipNodeRegistration',
    'machine.kubelet.registerWithFQDN',
    'machine.kubelet.nodeIP',
    'machine.nodeLabels',
    'machine.nodeAnnotations',
    'machine.nodeTaints',
  ],
  KubeletConfig: ['machine.kubelet'],
  KubeNetworkConfig: ['cluster.network'],
  KubeAPIServerCAConfig: ['cluster.ca'],
  KubeAggregatorCAConfig: ['cluster.aggregatorCA'],
  KubeServiceAccountConfig: ['cluster.serviceAccount'],
  KubeEtcdEncryptionConfig: ['cluster.secretboxEncryptionSecret', 'cluster.aescbcEncryptionSecret'],
  KubeAPIServerConfig: ['cluster.apiServer', 'cluster.controlPlane.localAPIServerPort'],
  KubeAdmissionControlConfig: ['cluster.apiServer.admissionControl'],
  KubeAuditPolicyConfig: ['cluster.apiServer.auditPolicy'],
  KubeControllerManagerConfig: ['cluster.controllerManager', 'machine.controlPlane.controllerManager'],
  KubeSchedulerConfig: ['cluster.scheduler', 'machine.controlPlane.scheduler'],
  KubeProxyConfig: ['cluster.proxy'],
  KubeCoreDNSConfig: ['cluster.coreDNS'],
  KubePrismConfig: ['machine.features.kubePrism'],
};

function valueAt(doc: YamlMap, path: string): YamlValue | undefined {
  let node: YamlValue | undefined = doc;
  for (const key of path.split('.')) node = isYamlMap(node) ? node[key] : undefined;
  return node;
}

function isSet(value: YamlValue | undefined): boolean {
  return value !== undefined && value !== null && value !== '' && value !== false && value !== 0;
}

export class ConflictError extends Error {
  constructor(
    readonly path: string,
    readonly kind: string,
  ) {
    super(`${path} is set in the v1alpha1 document, but the ${kind} document configures it: set it there (strategic patch) instead`);
    this.name = 'ConflictError';
  }
}

/** Throws ConflictError for the first setting given both in v1alpha1 and in its own document. */
export function checkV1Alpha1Conflicts(documents: readonly YamlMap[]): void {
  const legacy = documents.find((doc) => identifyDocument(doc).kind === LEGACY_KIND);
  if (!legacy) return;
  for (const doc of documents) {
    const kind = identifyDocument(doc).kind;
    for (const path of SUPERSEDED_FIELDS[kind] ?? []) {
      if (isSet(valueAt(legacy, path))) throw new ConflictError(path, kind);
    }
  }
}
