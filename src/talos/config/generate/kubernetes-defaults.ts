// Fixed pieces Talos puts into every generated control-plane configuration (same content for
// the v1alpha1 fields up to contract 1.13 and the Kube* documents from 1.14).

import type { YamlMap } from '../yaml/values';

export const KUBELET_IMAGE = 'ghcr.io/siderolabs/kubelet';
export const KUBE_APISERVER_IMAGE = 'registry.k8s.io/kube-apiserver';
export const KUBE_CONTROLLER_MANAGER_IMAGE = 'registry.k8s.io/kube-controller-manager';
export const KUBE_SCHEDULER_IMAGE = 'registry.k8s.io/kube-scheduler';
export const KUBE_PROXY_IMAGE = 'registry.k8s.io/kube-proxy';

export const DEFAULT_DNS_DOMAIN = 'cluster.local';
export const DEFAULT_POD_CIDR = '10.244.0.0/16';
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';
export const DEFAULT_KUBEPRISM_PORT = 7445;
export const DEFAULT_DISCOVERY_ENDPOINT = 'https://discovery.talos.dev/';
/** Kubernetes version Talos machinery v1.14 defaults to. */
export const DEFAULT_KUBERNETES_VERSION = '1.37.0';

export const EXCLUDE_FROM_EXTERNAL_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';
export const CONTROL_PLANE_ROLE_LABEL = 'node-role.kubernetes.io/control-plane';

/** Pod Security admission: enforce baseline, audit and warn restricted, kube-system exempt. */
export function podSecurityConfiguration(): YamlMap {
  return {
    apiVersion: 'pod-security.admission.config.k8s.io/v1alpha1',
    kind: 'PodSecurityConfiguration',
    defaults: {
      enforce: 'baseline',
      'enforce-version': 'latest',
      audit: 'restricted',
      'audit-version': 'latest',
      warn: 'restricted',
      'warn-version': 'latest',
    },
    exemptions: { usernames: [], runtimeClasses: [], namespaces: ['kube-system'] },
  };
}

/** API server audit policy: every request at Metadata level. */
export function auditPolicy(): YamlMap {
  return { apiVersion: 'audit.k8s.io/v1', kind: 'Policy', rules: [{ level: 'Metadata' }] };
}

/** Anonymous access only to the health endpoints, no JWT issuers. */
export function authenticationConfiguration(): YamlMap {
  return {
    anonymous: { enabled: true, conditions: [{ path: '/livez' }, { path: '/readyz' }, { path: '/healthz' }] },
    jwt: [],
  };
}

/**
 * etcd encryption at rest for Secrets with secretbox; an old AES-CBC bundle secret is carried
 * over as a secretbox key too, as Talos does.
 */
export function etcdEncryptionConfiguration(secretbox: string | undefined, aescbc: string | undefined): YamlMap {
  const providers: YamlMap[] = [];
  if (secretbox) providers.push({ secretbox: { keys: [{ name: 'key2', secret: secretbox }] } });
  if (aescbc) providers.push({ secretbox: { keys: [{ name: 'key1', secret: aescbc }] } });
  return { resources: [{ providers, resources: ['secrets'] }] };
}
