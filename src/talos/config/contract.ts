// Talos version contracts: generation follows the Talos minor version a machine will run, and
// every behaviour that changed between minors is a named feature gate, as in Talos's own
// machinery (config/contract.go). A gate "since 1.N" is on for contract 1.N and newer.

/** Oldest contract we generate for. */
export const OLDEST_CONTRACT_MINOR = 3;
/** Newest contract of the Talos machinery release our output is checked against (v1.14.x). */
export const NEWEST_CONTRACT_MINOR = 14;

export interface TalosContract {
  readonly major: 1;
  readonly minor: number;
  /** 'v1.N' */
  readonly name: string;
  /** Feature gates of this contract. */
  readonly features: ContractFeatures;
}

/** Gates by the first minor they apply to. Names follow Talos's VersionContract methods. */
const GATES = {
  podSecurityAdmissionEnabled: 1,
  stableHostnameEnabled: 2,
  kubeletDefaultRuntimeSeccompProfileEnabled: 2,
  kubernetesAllowSchedulingOnControlPlanes: 2,
  kubernetesDiscoveryBackendDisabled: 2,
  apidExtKeyUsageCheckEnabled: 3,
  apiServerAuditPolicySupported: 3,
  kubeletManifestsDirectoryDisabled: 3,
  secretboxEncryptionSupported: 3,
  diskQuotaSupportEnabled: 5,
  kubePrismEnabled: 6,
  hostDNSEnabled: 7,
  useRSAServiceAccountKey: 7,
  clusterNameForWorkers: 8,
  hostDNSForwardKubeDNSToHost: 8,
  addExcludeFromExternalLoadBalancer: 8,
  secureBootEnrollEnforcementSupported: 8,
  volumeConfigEncryptionSupported: 11,
  /** HostnameConfig document instead of machine.network.hostname / features.stableHostname. */
  multidocNetworkConfigSupported: 12,
  hideDisablePSP: 12,
  hideRBACAndKeyUsage: 12,
  grubUseUKICmdlineDefault: 12,
  kubeSpanMultidocConfig: 13,
  hostDNSMultidocConfig: 14,
  discoveryServiceMultidocConfig: 14,
  discoveryIdentityMultidocConfig: 14,
  unattendedInstallConfig: 14,
  /** The Kubernetes parts of the config move into their own documents. */
  multidocKubernetesConfigSupported: 14,
  filesystemTrimEnabledByDefault: 14,
  workloadIsolationEnabledByDefault: 14,
  multidocSysctlConfigSupported: 14,
  multidocKernelModuleConfigSupported: 14,
} as const;

export type ContractFeatures = { readonly [gate in keyof typeof GATES]: boolean } & {
  /** Only contract 1.2 mirrors k8s.gcr.io to registry.k8s.io. */
  readonly kubernetesAlternateImageRegistries: boolean;
  /** Up to 1.11 the API server certificate SANs include the endpoint host. */
  readonly populateClusterSANsFromEndpoint: boolean;
};

export class ContractError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContractError';
  }
}

function featuresFor(minor: number): ContractFeatures {
  const gates = Object.fromEntries(Object.entries(GATES).map(([gate, since]) => [gate, minor >= since]));
  return {
    ...(gates as { [gate in keyof typeof GATES]: boolean }),
    kubernetesAlternateImageRegistries: minor === 2,
    populateClusterSANsFromEndpoint: minor <= 11,
  };
}

function contract(minor: number): TalosContract {
  return Object.freeze({ major: 1, minor, name: `v1.${minor}`, features: Object.freeze(featuresFor(minor)) });
}

/** The newest contract; what an empty Talos version means. */
export const CURRENT_CONTRACT = contract(NEWEST_CONTRACT_MINOR);

/**
 * Parses a Talos version ('v1.13', 'v1.13.2', '1.13', 'v1.14.0-rc.1') into its contract.
 * Minors newer than the newest we know behave like the newest (Talos's library does the same).
 */
export function parseContract(version: string): TalosContract {
  const match = /^v?(\d+)\.(\d+)($|\.)/.exec(version.trim());
  if (!match) throw new ContractError(`invalid Talos version "${version}": expected vMAJOR.MINOR, e.g. v1.13`);
  const major = Number(match[1]);
  const minor = Number(match[2]);
  if (major !== 1) throw new ContractError(`unsupported Talos version "${version}": only Talos 1.x is supported`);
  if (minor < OLDEST_CONTRACT_MINOR) {
    throw new ContractError(`unsupported Talos version "${version}": the oldest supported version is v1.${OLDEST_CONTRACT_MINOR}`);
  }
  return contract(Math.min(minor, NEWEST_CONTRACT_MINOR));
}

/** All contracts we generate for, oldest first. */
export function supportedContracts(): TalosContract[] {
  const list: TalosContract[] = [];
  for (let minor = OLDEST_CONTRACT_MINOR; minor <= NEWEST_CONTRACT_MINOR; minor++) list.push(contract(minor));
  return list;
}
