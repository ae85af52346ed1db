// The rewrites that point CAPI's shipped webhook wiring (Service references, for a
// kustomize install) at a manager on 127.0.0.1, and the manager's command line.
import { DEFAULT_FEATURE_GATES, managerArgs, webhookConfigurationsFor, withConversionWebhooks } from '../../world/capi-core';

const target = { url: 'https://127.0.0.1:12345', caBundle: 'Q0E=' };
const service = (path: string) => ({ service: { name: 'webhook-service', namespace: 'system', path } });

const crd = (name: string) => ({
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name },
  spec: { group: 'cluster.x-k8s.io', names: { kind: 'Cluster' }, scope: 'Namespaced', versions: [{ name: 'v1beta2' }] },
});
const conversionPatch = (name: string) => ({
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name },
  spec: { conversion: { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1'], clientConfig: service('/convert') } } },
});

describe('withConversionWebhooks', () => {
  test('a CRD a patch names converts through the URL, keeping the rest of its spec and the patch\'s review versions', () => {
    const [patched] = withConversionWebhooks([crd('clusters.cluster.x-k8s.io')], [conversionPatch('clusters.cluster.x-k8s.io')], target);
    expect(patched?.spec).toEqual({
      ...crd('clusters.cluster.x-k8s.io').spec,
      conversion: {
        strategy: 'Webhook',
        webhook: { conversionReviewVersions: ['v1'], clientConfig: { url: 'https://127.0.0.1:12345/convert', caBundle: 'Q0E=' } },
      },
    });
  });

  test('a CRD no patch names, and patches that are not conversion patches, leave CRDs as they are', () => {
    const other = crd('machines.cluster.x-k8s.io');
    const labelPatch = { kind: 'CustomResourceDefinition', metadata: { name: 'machines.cluster.x-k8s.io' }, spec: { names: { shortNames: ['ma'] } } };
    expect(withConversionWebhooks([other], [conversionPatch('clusters.cluster.x-k8s.io'), labelPatch], target)).toEqual([other]);
  });

  test('a patch whose Service has no path is refused rather than pointed at the server root', () => {
    const patch = conversionPatch('clusters.cluster.x-k8s.io');
    patch.spec.conversion.webhook.clientConfig = { service: { name: 'webhook-service', namespace: 'system' } } as ReturnType<typeof service>;
    expect(() => withConversionWebhooks([crd('clusters.cluster.x-k8s.io')], [patch], target)).toThrow(/without service.path/);
  });
});

describe('webhookConfigurationsFor', () => {
  const mutating = {
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'mutating-webhook-configuration' },
    webhooks: [
      { name: 'default.cluster.cluster.x-k8s.io', clientConfig: service('/mutate-cluster-x-k8s-io-v1beta2-cluster'), failurePolicy: 'Fail', sideEffects: 'None' },
      { name: 'default.machine.cluster.x-k8s.io', clientConfig: service('/mutate-cluster-x-k8s-io-v1beta2-machine'), failurePolicy: 'Fail', sideEffects: 'None' },
    ],
  };
  const validating = {
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'validating-webhook-configuration' },
    webhooks: [{ name: 'validation.cluster.cluster.x-k8s.io', clientConfig: service('/validate-cluster-x-k8s-io-v1beta2-cluster'), matchPolicy: 'Equivalent' }],
  };

  test('each webhook is called at the URL plus its Service path, everything else kept, names as an install prefixes them', () => {
    const [rewrittenMutating, rewrittenValidating] = webhookConfigurationsFor([mutating, validating], target);
    expect(rewrittenMutating).toEqual({
      ...mutating,
      metadata: { name: 'capi-mutating-webhook-configuration' },
      webhooks: [
        { ...mutating.webhooks[0], clientConfig: { url: 'https://127.0.0.1:12345/mutate-cluster-x-k8s-io-v1beta2-cluster', caBundle: 'Q0E=' } },
        { ...mutating.webhooks[1], clientConfig: { url: 'https://127.0.0.1:12345/mutate-cluster-x-k8s-io-v1beta2-machine', caBundle: 'Q0E=' } },
      ],
    });
    expect(rewrittenValidating?.metadata.name).toBe('capi-validating-webhook-configuration');
    expect(rewrittenValidating?.webhooks[0]).toEqual({
      ...validating.webhooks[0], clientConfig: { url: 'https://127.0.0.1:12345/validate-cluster-x-k8s-io-v1beta2-cluster', caBundle: 'Q0E=' },
    });
  });

  test('documents that are not webhook configurations are dropped', () => {
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'webhook-service' } };
    expect(webhookConfigurationsFor([service, validating], target).map((config) => config.kind)).toEqual(['ValidatingWebhookConfiguration']);
  });
});

describe('managerArgs', () => {
  const base = { kubeconfig: '/bed/kubeconfig', certDir: '/bed/certs', ports: { webhook: 1001, health: 1002, metrics: 1003 } };

  test('kubeconfig, webhook port and certificates, loopback probe and plain-HTTP metrics addresses, no leader election, default gates', () => {
    expect(managerArgs(base)).toEqual([
      '--kubeconfig=/bed/kubeconfig',
      '--webhook-port=1001',
      '--webhook-cert-dir=/bed/certs',
      '--health-addr=127.0.0.1:1002',
      '--diagnostics-address=127.0.0.1:1003',
      '--insecure-diagnostics=true',
      '--leader-elect=false',
      `--feature-gates=${DEFAULT_FEATURE_GATES}`,
    ]);
    expect(DEFAULT_FEATURE_GATES).toBe('ClusterTopology=true,MachinePool=true');
  });

  test('feature gates replace the default and extra arguments come last', () => {
    const args = managerArgs({ ...base, featureGates: 'MachinePool=false', extraArgs: ['--cluster-concurrency=5'] });
    expect(args.filter((arg) => arg.startsWith('--feature-gates'))).toEqual(['--feature-gates=MachinePool=false']);
    expect(args.at(-1)).toBe('--cluster-concurrency=5');
  });
});
