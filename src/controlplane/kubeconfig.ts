// `<cluster>-kubeconfig`, as the control-plane contract asks: type cluster.x-k8s.io/secret, the
// cluster-name label, key `value`, controlled by the TalosControlPlane. Its content is the admin
// kubeconfig a control-plane node issues through the Talos Kubeconfig RPC: the node holds the
// Kubernetes CA and the cluster endpoint of its own config, so what Cluster API gets is exactly
// what the node's apiserver trusts, and the operator never handles the Kubernetes CA key.
// Created once; its client certificate is renewed at half life (the pass requeues itself for that
// time, so nothing relies on a resync), and a Secret this control plane does not control is never
// written.
import { parse } from 'yaml';
import type { KubeClient } from '../kube/client/client';
import { isNotFound } from '../kube/client/api-error';
import { SecretKind } from '../kube/client/resource';
import { V1BETA1 } from '../api/controlplane/resources';
import { createIfAbsent } from '../cluster/create-if-absent';
import { requireWritable } from '../cluster/ownership';
import { clusterSecretNames, fromBase64, kubeconfigSecret } from '../cluster/secrets';
import { parseCertificate } from '../talos/config/secrets/certificates';
import { isObject } from '../util/json';
import type { ControlPlane } from './control-plane';

export interface CertificateValidity {
  notBefore: number;
  notAfter: number;
}

/** The validity of the first user's client certificate in a kubeconfig; undefined if it has none. */
export function clientCertificateValidity(kubeconfigYaml: string): CertificateValidity | undefined {
  let document: unknown;
  try {
    document = parse(kubeconfigYaml);
  } catch {
    return undefined;
  }
  const users = isObject(document) && Array.isArray(document.users) ? document.users : [];
  const user = isObject(users[0]) && isObject(users[0].user) ? users[0].user : {};
  const data = user['client-certificate-data'];
  if (typeof data !== 'string') return undefined;
  try {
    const certificate = parseCertificate(Buffer.from(data, 'base64').toString('utf8'));
    return { notBefore: Date.parse(certificate.validFrom), notAfter: Date.parse(certificate.validTo) };
  } catch {
    return undefined;
  }
}

/** When a certificate is renewed: half-way through its life. */
export function renewalTime(validity: CertificateValidity): number {
  return validity.notBefore + (validity.notAfter - validity.notBefore) / 2;
}

export type KubeconfigOutcome = 'created' | 'renewed' | 'unchanged';

export interface KubeconfigResult {
  outcome: KubeconfigOutcome;
  /** The kubeconfig the Secret holds after this pass. */
  kubeconfig: string;
  /** When the client certificate is due for renewal (undefined: nothing to renew, e.g. a token). */
  renewAt?: number;
}

/**
 * Creates the Secret if absent, else renews its client certificate once past half life. `issue`
 * asks a control-plane node for a fresh kubeconfig.
 */
export async function reconcileKubeconfig(
  client: KubeClient, view: ControlPlane, issue: () => Promise<string>, now: number, signal?: AbortSignal,
): Promise<KubeconfigResult> {
  const name = clusterSecretNames(view.clusterName).kubeconfig;
  const { created, secret } = await createIfAbsent(
    client, view.namespace, name,
    async () => kubeconfigSecret(view.cluster, view.tcp, V1BETA1.talosControlPlane, await issue()),
    { signal },
  );
  const kubeconfig = fromBase64(secret.data?.value);
  const validity = clientCertificateValidity(kubeconfig);
  if (created) return { outcome: 'created', kubeconfig, renewAt: validity && renewalTime(validity) };
  if (!validity || now < renewalTime(validity)) return { outcome: 'unchanged', kubeconfig, renewAt: validity && renewalTime(validity) };

  requireWritable(secret, { object: view.tcp, kind: V1BETA1.talosControlPlane });
  const renewed = await issue();
  const replacement = kubeconfigSecret(view.cluster, view.tcp, V1BETA1.talosControlPlane, renewed);
  try {
    await client.patch(SecretKind, view.namespace, name, {
      metadata: { resourceVersion: secret.metadata.resourceVersion }, data: replacement.data,
    }, 'merge', { signal });
  } catch (error) {
    if (isNotFound(error)) return { outcome: 'unchanged', kubeconfig };
    throw error;
  }
  const renewedValidity = clientCertificateValidity(renewed);
  return { outcome: 'renewed', kubeconfig: renewed, renewAt: renewedValidity && renewalTime(renewedValidity) };
}
