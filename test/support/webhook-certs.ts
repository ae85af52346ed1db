// Webhooks against the test bed, envtest style: a throw-away CA and serving
// certificate for 127.0.0.1/localhost, our webhook server started in-process,
// and the apiserver pointed at it by URL (CRD conversion clientConfig and a
// ValidatingWebhookConfiguration) instead of the in-cluster Service.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectCrds } from '../../src/api/generate-crds';
import { CONVERSION_PATH } from '../../src/api/crd';
import { TEMPLATE_SPEC_IMMUTABLE_MESSAGE } from '../../src/api/bootstrap/validation';
import { V1ALPHA3 } from '../../src/api/bootstrap/resources';
import { isNotFound } from '../../src/kube/client/api-error';
import { KubeClient } from '../../src/kube/client/client';
import type { ResourceKind } from '../../src/kube/client/resource';
import { VALIDATING_WEBHOOK_CONFIGURATION_NAME, validatingWebhookConfiguration } from '../../src/webhooks/admission';
import { CERT_FILE, KEY_FILE } from '../../src/webhooks/certs';
import { webhookRoutesFor } from '../../src/controllers';
import { PROVIDERS } from '../../src/operator-flags';
import { startWebhookServer, type WebhookServer } from '../../src/webhooks/server';
import { createCertificateAuthority, issueCertificate } from '../testbed/pki';

export interface WebhookCerts {
  caPem: string;
  certPem: string;
  keyPem: string;
}

const CrdKind: ResourceKind = {
  group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', namespaced: false,
};
const VwcKind: ResourceKind = {
  group: 'admissionregistration.k8s.io', version: 'v1', kind: 'ValidatingWebhookConfiguration',
  plural: 'validatingwebhookconfigurations', namespaced: false,
};

/** A CA and a serving certificate for 127.0.0.1, ::1 and localhost. */
export async function generateWebhookCerts(): Promise<WebhookCerts> {
  const ca = await createCertificateAuthority('talos-capi-webhook-test-ca');
  const leaf = await issueCertificate(ca, {
    commonName: 'talos-capi-webhook', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'], usage: 'server',
  });
  return { caPem: ca.certPem, certPem: leaf.certPem, keyPem: leaf.keyPem };
}

/** Writes tls.crt/tls.key as the webhook server expects them. */
export function writeWebhookCerts(dir: string, certs: Pick<WebhookCerts, 'certPem' | 'keyPem'>): void {
  writeFileSync(join(dir, CERT_FILE), certs.certPem);
  writeFileSync(join(dir, KEY_FILE), certs.keyPem, { mode: 0o600 });
}

export interface WebhookEndpoint {
  /** https://127.0.0.1:PORT, without a path. */
  url: string;
  /** The CA that signed the serving certificate: PEM, or already base64 as the API wants it. */
  caBundle: string;
}

function base64Bundle(caBundle: string): string {
  return caBundle.includes('-----BEGIN') ? Buffer.from(caBundle).toString('base64') : caBundle;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${timeoutMs} ms${lastError ? `: ${lastError}` : ''}`);
    await sleep(200);
  }
}

function webhookCrdNames(): string[] {
  return projectCrds().filter((crd) => crd.spec.conversion?.strategy === 'Webhook').map((crd) => crd.metadata.name);
}

const PROBE = { namespace: 'default', name: 'talos-capi-webhook-probe' };

/** A v1alpha3 object of each kind whose CRD converts, written (dry run) to see conversion work for it. */
const CONVERSION_PROBES = [
  { plural: 'bootstrap.cluster.x-k8s.io/v1alpha3/talosconfigs', body: { kind: 'TalosConfig', spec: { generateType: 'worker' } } },
  { plural: 'bootstrap.cluster.x-k8s.io/v1alpha3/talosconfigtemplates', body: { kind: 'TalosConfigTemplate', spec: { template: { spec: { generateType: 'worker' } } } } },
  {
    plural: 'controlplane.cluster.x-k8s.io/v1alpha3/taloscontrolplanes',
    body: {
      kind: 'TalosControlPlane',
      spec: {
        version: 'v1.34.1', controlPlaneConfig: { controlplane: { generateType: 'controlplane' } },
        infrastructureTemplate: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1alpha1', kind: 'SimMachineTemplate', name: 'probe' },
      },
    },
  },
];

/**
 * Conversion works once a v1alpha3 object of every converting kind can be written (it is converted
 * to the v1beta1 storage version): the apiserver takes each CRD's new webhook address on its own.
 */
async function conversionAnswers(client: KubeClient): Promise<boolean> {
  for (const { plural, body } of CONVERSION_PROBES) {
    const [group, version, resource] = plural.split('/');
    await client.request('POST', `/apis/${group}/${version}/namespaces/${PROBE.namespace}/${resource}`, {
      body: { apiVersion: `${group}/${version}`, metadata: { ...PROBE }, ...body }, query: { dryRun: 'All' },
    });
  }
  return true;
}

/** Validation works once a dry-run change of a template's spec is refused with our message. */
async function validationAnswers(client: KubeClient): Promise<boolean> {
  const kind = V1ALPHA3.talosConfigTemplate;
  try {
    await client.patch(kind, PROBE.namespace, PROBE.name, { spec: { template: { spec: { talosVersion: 'v1.99' } } } }, 'merge', {});
  } catch (error) {
    return error instanceof Error && error.message.includes(TEMPLATE_SPEC_IMMUTABLE_MESSAGE);
  }
  // The change went through: the webhook is not called yet. Put the probe back for the next try.
  await client.patch(kind, PROBE.namespace, PROBE.name, { spec: { template: { spec: { talosVersion: null } } } }, 'merge', {});
  return false;
}

/**
 * Points our CRDs' conversion and a ValidatingWebhookConfiguration at `url` (envtest style), then
 * waits until the apiserver really calls both. Idempotent: calling it again re-points everything.
 */
export async function registerWebhooks(kubeconfig: string, endpoint: WebhookEndpoint): Promise<void> {
  const client = KubeClient.load(kubeconfig, { qps: 100, burst: 100 });
  const caBundle = base64Bundle(endpoint.caBundle);
  for (const name of webhookCrdNames()) {
    const clientConfig = { url: `${endpoint.url}${CONVERSION_PATH}`, caBundle, service: null };
    await client.patch(CrdKind, '', name, { spec: { conversion: { strategy: 'Webhook', webhook: { clientConfig } } } }, 'merge');
  }
  await until('conversion webhook', () => conversionAnswers(client));

  const configuration = validatingWebhookConfiguration(webhookRoutesFor(PROVIDERS).validators, (path) => ({ url: `${endpoint.url}${path}`, caBundle }));
  await client.delete(VwcKind, '', VALIDATING_WEBHOOK_CONFIGURATION_NAME).catch((error: unknown) => {
    if (!isNotFound(error)) throw error;
  });
  await client.create(VwcKind, configuration as { metadata: { name: string } });

  const template = V1ALPHA3.talosConfigTemplate;
  await client.delete(template, PROBE.namespace, PROBE.name).catch(() => undefined);
  await client.create(template, {
    apiVersion: 'bootstrap.cluster.x-k8s.io/v1alpha3', kind: 'TalosConfigTemplate',
    metadata: { ...PROBE }, spec: { template: { spec: { generateType: 'worker' } } },
  });
  try {
    await until('validating webhook', () => validationAnswers(client));
  } finally {
    await client.delete(template, PROBE.namespace, PROBE.name).catch(() => undefined);
  }
}

/** Removes the ValidatingWebhookConfiguration and points the CRDs back at the in-cluster Service (as crds/ has it). */
export async function unregisterWebhooks(kubeconfig: string): Promise<void> {
  const client = KubeClient.load(kubeconfig);
  await client.delete(VwcKind, '', VALIDATING_WEBHOOK_CONFIGURATION_NAME).catch((error: unknown) => {
    if (!isNotFound(error)) throw error;
  });
  for (const crd of projectCrds()) {
    const conversion = crd.spec.conversion;
    if (conversion?.strategy !== 'Webhook' || !conversion.webhook) continue;
    const clientConfig = { ...conversion.webhook.clientConfig, url: null, caBundle: null };
    await client.patch(CrdKind, '', crd.metadata.name, { spec: { conversion: { webhook: { clientConfig } } } }, 'merge');
  }
}

export interface RunningWebhooks {
  server: WebhookServer;
  certs: WebhookCerts;
  certDir: string;
  /** Unregisters, stops the server and removes the certificate directory. */
  stop(): Promise<void>;
}

/** Starts our webhook server on 127.0.0.1 with fresh certificates and registers it with the test bed. */
export async function startRegisteredWebhooks(kubeconfig: string, options: { certReloadIntervalMs?: number } = {}): Promise<RunningWebhooks> {
  const certs = await generateWebhookCerts();
  const certDir = mkdtempSync(join(tmpdir(), 'talos-capi-webhook-certs-'));
  writeWebhookCerts(certDir, certs);
  const server = await startWebhookServer({
    ...webhookRoutesFor(PROVIDERS), host: '127.0.0.1', port: 0, certDir, certReloadIntervalMs: options.certReloadIntervalMs,
  });
  try {
    await registerWebhooks(kubeconfig, { url: server.url, caBundle: certs.caPem });
  } catch (error) {
    await server.close();
    throw error;
  }
  return {
    server, certs, certDir,
    stop: async () => {
      await unregisterWebhooks(kubeconfig);
      await server.close();
      rmSync(certDir, { recursive: true, force: true });
    },
  };
}

/**
 * Set by a jest globalSetup that registered one webhook server for the whole run; test files then
 * use it instead of registering their own (two registrations in parallel workers would fight).
 */
export const SHARED_WEBHOOK_URL_ENV = 'TALOS_CAPI_WEBHOOK_URL';

/** The run's shared webhooks if a globalSetup registered them, else this file's own (stopped by the returned function). */
export async function ensureWebhooks(kubeconfig: string): Promise<() => Promise<void>> {
  if (process.env[SHARED_WEBHOOK_URL_ENV]) return async () => undefined;
  const running = await startRegisteredWebhooks(kubeconfig);
  return running.stop;
}
