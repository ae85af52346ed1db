// AdmissionReview (admission.k8s.io/v1) handling for validating webhooks, and
// the ValidatingWebhookConfiguration that points the apiserver at them.
import type { WebhookClientConfig } from '../api/crd';
import { isObject } from '../util/json';

export const ADMISSION_REVIEW_API_VERSION = 'admission.k8s.io/v1';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** The parts of an AdmissionRequest our validators look at. */
export interface AdmissionRequest {
  uid: string;
  operation: Operation;
  kind: { group: string; version: string; kind: string };
  namespace?: string;
  name?: string;
  object?: unknown;
  oldObject?: unknown;
  dryRun: boolean;
}

/** A validator's answer: allow, or deny with an HTTP code and a message naming the field and what is allowed. */
export type AdmissionVerdict = { allowed: true; warnings?: string[] } | { allowed: false; code: number; reason: string; message: string };

export type Validator = (request: AdmissionRequest) => AdmissionVerdict;

export interface ValidatingWebhook {
  /** Fully qualified webhook name (unique within the configuration). */
  name: string;
  path: string;
  rules: { apiGroups: string[]; apiVersions: string[]; operations: Operation[]; resources: string[] }[];
  validate: Validator;
}

export interface AdmissionReviewResponse {
  apiVersion: typeof ADMISSION_REVIEW_API_VERSION;
  kind: 'AdmissionReview';
  response: {
    uid: string;
    allowed: boolean;
    status?: { code: number; reason: string; message: string };
    warnings?: string[];
  };
}

function parseRequest(body: unknown): AdmissionRequest | string {
  const request = isObject(body) && isObject(body.request) ? body.request : undefined;
  if (!request) return 'malformed AdmissionReview: no request';
  const { uid, operation, kind } = request;
  if (typeof uid !== 'string' || typeof operation !== 'string' || !isObject(kind)) {
    return 'malformed AdmissionReview: request.uid, request.operation and request.kind are required';
  }
  return {
    uid,
    operation: operation as Operation,
    kind: { group: String(kind.group ?? ''), version: String(kind.version ?? ''), kind: String(kind.kind ?? '') },
    namespace: typeof request.namespace === 'string' ? request.namespace : undefined,
    name: typeof request.name === 'string' ? request.name : undefined,
    object: request.object ?? undefined,
    oldObject: request.oldObject ?? undefined,
    dryRun: request.dryRun === true,
  };
}

/** Runs `validate` on a review; a malformed review is denied with 400, a throwing validator with 500. */
export function reviewAdmission(body: unknown, validate: Validator): AdmissionReviewResponse {
  const parsed = parseRequest(body);
  const uid = typeof parsed === 'string' ? '' : parsed.uid;
  const respond = (response: Omit<AdmissionReviewResponse['response'], 'uid'>): AdmissionReviewResponse => ({
    apiVersion: ADMISSION_REVIEW_API_VERSION,
    kind: 'AdmissionReview',
    response: { uid, ...response },
  });
  if (typeof parsed === 'string') return respond({ allowed: false, status: { code: 400, reason: 'BadRequest', message: parsed } });
  let verdict: AdmissionVerdict;
  try {
    verdict = validate(parsed);
  } catch (error) {
    const message = `validation failed: ${error instanceof Error ? error.message : String(error)}`;
    return respond({ allowed: false, status: { code: 500, reason: 'InternalError', message } });
  }
  if (verdict.allowed) return respond({ allowed: true, ...(verdict.warnings?.length ? { warnings: verdict.warnings } : {}) });
  return respond({ allowed: false, status: { code: verdict.code, reason: verdict.reason, message: verdict.message } });
}

export const VALIDATING_WEBHOOK_CONFIGURATION_NAME = 'talos-capi-validating-webhook-configuration';

/** The ValidatingWebhookConfiguration for `webhooks`; `clientConfigFor` says how the apiserver reaches a path. */
export function validatingWebhookConfiguration(
  webhooks: readonly ValidatingWebhook[],
  clientConfigFor: (path: string) => WebhookClientConfig,
): Record<string, unknown> {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: VALIDATING_WEBHOOK_CONFIGURATION_NAME },
    webhooks: webhooks.map((webhook) => ({
      name: webhook.name,
      admissionReviewVersions: ['v1'],
      clientConfig: clientConfigFor(webhook.path),
      failurePolicy: 'Fail',
      matchPolicy: 'Equivalent',
      sideEffects: 'None',
      timeoutSeconds: 10,
      rules: webhook.rules.map((rule) => ({ ...rule, scope: 'Namespaced' })),
    })),
  };
}
