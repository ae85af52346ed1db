import { reviewAdmission, validatingWebhookConfiguration } from '../../../src/webhooks/admission';
import { TALOS_CONFIG_TEMPLATE_WEBHOOK } from '../../../src/webhooks/bootstrap';
import { ConversionRegistry } from '../../../src/webhooks/conversion';
import { webhookRoutesFor } from '../../../src/controllers';
import { PROVIDERS } from '../../../src/operator-flags';
import { routeWebhookRequest } from '../../../src/webhooks/server';
import { fullV1alpha3, fullV1beta1 } from './bootstrap-fixtures';

const routes = webhookRoutesFor(PROVIDERS);

function conversionReview(desiredAPIVersion: string, objects: unknown[]) {
  return { apiVersion: 'apiextensions.k8s.io/v1', kind: 'ConversionReview', request: { uid: 'u-1', desiredAPIVersion, objects } };
}

function templateUpdate(oldVersion: string, newVersion: string, dryRun = false, annotations?: Record<string, string>) {
  const template = (talosVersion: string, extra?: Record<string, string>) => ({
    apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1', kind: 'TalosConfigTemplate',
    metadata: { name: 'workers', namespace: 'default', annotations: extra },
    spec: { template: { spec: { generateType: 'worker', talosVersion } } },
  });
  return {
    apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
    request: {
      uid: 'a-1', operation: 'UPDATE', name: 'workers', namespace: 'default', dryRun,
      kind: { group: 'bootstrap.cluster.x-k8s.io', version: 'v1beta1', kind: 'TalosConfigTemplate' },
      oldObject: template(oldVersion), object: template(newVersion, annotations),
    },
  };
}

describe('ConversionRegistry.review', () => {
  it('converts every object to the desired version and echoes the uid', () => {
    const review = routes.conversions.review(conversionReview('bootstrap.cluster.x-k8s.io/v1beta1', [fullV1alpha3(), fullV1beta1()]));
    expect(review.response.uid).toBe('u-1');
    expect(review.response.result).toEqual({ status: 'Success' });
    expect(review.response.convertedObjects.map((o) => (o as { apiVersion: string }).apiVersion)).toEqual([
      'bootstrap.cluster.x-k8s.io/v1beta1',
      'bootstrap.cluster.x-k8s.io/v1beta1',
    ]);
  });

  it.each([
    ['an unregistered kind', [{ apiVersion: 'bootstrap.cluster.x-k8s.io/v1alpha3', kind: 'KubeadmConfig', metadata: {} }], 'no converter registered for KubeadmConfig.bootstrap.cluster.x-k8s.io'],
    ['a different group', [{ ...fullV1alpha3(), apiVersion: 'other.example.com/v1' }], 'cannot convert TalosConfig from group other.example.com to group bootstrap.cluster.x-k8s.io'],
    ['an object without metadata', [{ apiVersion: 'bootstrap.cluster.x-k8s.io/v1alpha3', kind: 'TalosConfig' }], 'object to convert has no apiVersion, kind or metadata'],
  ])('fails the review for %s with a readable message', (_name, objects, message) => {
    const review = routes.conversions.review(conversionReview('bootstrap.cluster.x-k8s.io/v1beta1', objects));
    expect(review.response).toEqual({ uid: 'u-1', convertedObjects: [], result: { status: 'Failure', message } });
  });

  it('fails a malformed review instead of throwing', () => {
    expect(routes.conversions.review({ request: { uid: 'x' } }).response.result).toEqual({
      status: 'Failure',
      message: 'malformed ConversionReview: request.desiredAPIVersion and request.objects are required',
    });
  });

  it('refuses to register a kind twice', () => {
    const registry = new ConversionRegistry().register('g', 'K', (o) => o);
    expect(() => registry.register('g', 'K', (o) => o)).toThrow('a converter for K.g is already registered');
  });
});

describe('TalosConfigTemplate validating webhook', () => {
  it('denies a spec change with 422 and a message naming the field and what to do', () => {
    expect(reviewAdmission(templateUpdate('v1.11', 'v1.12'), TALOS_CONFIG_TEMPLATE_WEBHOOK.validate).response).toEqual({
      uid: 'a-1',
      allowed: false,
      status: {
        code: 422,
        reason: 'Invalid',
        message:
          'TalosConfigTemplate "workers": spec.template.spec is immutable: create a new TalosConfigTemplate and point the MachineDeployment, MachinePool or ClusterClass at it',
      },
    });
  });

  it('allows the same change in a topology dry-run and an unchanged spec always', () => {
    const dryRun = templateUpdate('v1.11', 'v1.12', true, { 'topology.cluster.x-k8s.io/dry-run': '' });
    expect(reviewAdmission(dryRun, TALOS_CONFIG_TEMPLATE_WEBHOOK.validate).response).toEqual({ uid: 'a-1', allowed: true });
    expect(reviewAdmission(templateUpdate('v1.11', 'v1.11'), TALOS_CONFIG_TEMPLATE_WEBHOOK.validate).response.allowed).toBe(true);
  });

  it('denies a malformed review with 400 and a throwing validator with 500', () => {
    expect(reviewAdmission({}, TALOS_CONFIG_TEMPLATE_WEBHOOK.validate).response.status?.code).toBe(400);
    const boom = () => {
      throw new Error('boom');
    };
    expect(reviewAdmission(templateUpdate('a', 'b'), boom).response.status).toEqual({ code: 500, reason: 'InternalError', message: 'validation failed: boom' });
  });

  it('is registered for UPDATE of both served versions, failing closed', () => {
    const configuration = validatingWebhookConfiguration([TALOS_CONFIG_TEMPLATE_WEBHOOK], (path) => ({ url: `https://127.0.0.1:1${path}` }));
    expect(configuration.webhooks).toEqual([
      expect.objectContaining({
        name: 'vtalosconfigtemplate.bootstrap.cluster.x-k8s.io',
        clientConfig: { url: 'https://127.0.0.1:1/validate-bootstrap-cluster-x-k8s-io-v1beta1-talosconfigtemplate' },
        failurePolicy: 'Fail',
        sideEffects: 'None',
        rules: [expect.objectContaining({ apiVersions: ['v1alpha3', 'v1beta1'], operations: ['UPDATE'], resources: ['talosconfigtemplates'] })],
      }),
    ]);
  });
});

describe('routeWebhookRequest', () => {
  it('answers /healthz', () => {
    expect(routeWebhookRequest(routes, 'GET', '/healthz', undefined)).toEqual({ status: 200, body: 'ok' });
  });

  it('routes /convert and validator paths to their reviews', () => {
    const convert = routeWebhookRequest(routes, 'POST', '/convert', JSON.stringify(conversionReview('bootstrap.cluster.x-k8s.io/v1alpha3', [fullV1beta1()])));
    expect(convert).toMatchObject({ status: 200, body: { kind: 'ConversionReview', response: { result: { status: 'Success' } } } });
    const validate = routeWebhookRequest(routes, 'POST', TALOS_CONFIG_TEMPLATE_WEBHOOK.path, JSON.stringify(templateUpdate('a', 'b')));
    expect(validate).toMatchObject({ status: 200, body: { kind: 'AdmissionReview', response: { allowed: false } } });
  });

  it.each([
    ['GET', '/convert', '{}', 405],
    ['POST', '/mutate-nothing', '{}', 404],
    ['POST', '/convert', 'not json', 400],
    ['POST', '/convert', undefined, 400],
  ])('answers %s %s with body %p with %i', (method, path, body, status) => {
    expect(routeWebhookRequest(routes, method, path, body).status).toBe(status);
  });
});
