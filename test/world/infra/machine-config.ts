// Facts the provider reads from a Talos machine config (the node's bootstrap data): the
// Kubernetes CA its workload apiserver must use, the kubelet version it runs, the kube-proxy image
// its bootstrap manifests deploy, and whether it is a control-plane node. Pure; the config is YAML,
// one document before Talos 1.14, several since.
import { parseAllDocuments } from 'yaml';
import { DEFAULT_KUBERNETES_VERSION } from '../../../src/talos/config';
import { KUBE_PROXY_IMAGE } from '../../../src/talos/config/generate/kubernetes-defaults';

export interface PemPair {
  certPem: string;
  keyPem: string;
}

interface ConfigDocuments {
  /** The v1alpha1 document (no `kind`). */
  v1alpha1: {
    machine?: { type?: string; kubelet?: { image?: string } };
    cluster?: { ca?: { crt?: string; key?: string }; proxy?: { disabled?: boolean; image?: string } };
  };
  /** Talos ≥ 1.14 moves the Kubernetes CA and the kubelet into documents of their own. */
  byKind: Record<string, Record<string, unknown>>;
}

/** Kubelet version when the config names no kubelet image: what our engine would generate. */
export const DEFAULT_KUBELET_VERSION = `v${DEFAULT_KUBERNETES_VERSION}`;

function documents(configYaml: string): ConfigDocuments {
  const result: ConfigDocuments = { v1alpha1: {}, byKind: {} };
  for (const doc of parseAllDocuments(configYaml)) {
    const value = doc.toJS() as Record<string, unknown> | null;
    if (!value || typeof value !== 'object') continue;
    if (typeof value.kind === 'string') result.byKind[value.kind] = value;
    else if ('machine' in value || 'cluster' in value) result.v1alpha1 = value as ConfigDocuments['v1alpha1'];
  }
  return result;
}

const decodeBase64 = (value: string) => Buffer.from(value, 'base64').toString('utf8');

/** The cluster's Kubernetes CA with its key; only control-plane configs carry the key. */
export function kubernetesCaOf(configYaml: string): PemPair | undefined {
  const docs = documents(configYaml);
  const legacy = docs.v1alpha1.cluster?.ca;
  if (legacy?.crt && legacy.key) return { certPem: decodeBase64(legacy.crt), keyPem: decodeBase64(legacy.key) };
  const issuing = docs.byKind.KubeAPIServerCAConfig?.issuingCA as { cert?: string; key?: string } | undefined;
  if (issuing?.cert && issuing.key) return { certPem: issuing.cert, keyPem: issuing.key };
  return undefined;
}

/** The tag of the kubelet image (e.g. ghcr.io/siderolabs/kubelet:v1.34.1 → v1.34.1). */
export function kubeletVersionOf(configYaml: string): string {
  const docs = documents(configYaml);
  const image = docs.v1alpha1.machine?.kubelet?.image ?? (docs.byKind.KubeletConfig?.image as string | undefined) ?? '';
  const tag = /:([^:/@]+)(@.*)?$/.exec(image)?.[1];
  return tag ?? DEFAULT_KUBELET_VERSION;
}

/**
 * The kube-proxy image the bootstrap manifests of this config deploy (`cluster.proxy.image`, or the
 * 1.14 `KubeProxyConfig` document's `image`); undefined when kube-proxy is disabled
 * (`cluster.proxy.disabled: true`, `KubeProxyConfig` `enabled: false`). A config that names none
 * gets the default repository at its kubelet's version.
 */
export function kubeProxyImageOf(configYaml: string): string | undefined {
  const docs = documents(configYaml);
  const own = docs.byKind.KubeProxyConfig as { enabled?: boolean; image?: string } | undefined;
  const legacy = docs.v1alpha1.cluster?.proxy;
  if (own?.enabled === false || legacy?.disabled === true) return undefined;
  return own?.image ?? legacy?.image ?? `${KUBE_PROXY_IMAGE}:${kubeletVersionOf(configYaml)}`;
}

/** init is the old name of the first control-plane node. */
export function isControlPlaneConfig(configYaml: string): boolean {
  const type = documents(configYaml).v1alpha1.machine?.type;
  return type === 'controlplane' || type === 'init';
}
