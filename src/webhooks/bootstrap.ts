// The bootstrap provider's webhooks: conversion for both kinds, and the
// TalosConfigTemplate update check that CEL cannot express (it depends on the
// request's dryRun flag). Everything else is CRD schema and CEL (src/api).
import { convertTalosConfig, convertTalosConfigTemplate } from '../api/bootstrap/conversion';
import { BOOTSTRAP_GROUP, TALOS_CONFIG_KIND, TALOS_CONFIG_TEMPLATE_KIND } from '../api/bootstrap/group';
import { templateUpdateProblem } from '../api/bootstrap/validation';
import type { ValidatingWebhook } from './admission';
import type { ConversionRegistry } from './conversion';

export function registerBootstrapConversions(registry: ConversionRegistry): ConversionRegistry {
  return registry
    .register(BOOTSTRAP_GROUP, TALOS_CONFIG_KIND, convertTalosConfig)
    .register(BOOTSTRAP_GROUP, TALOS_CONFIG_TEMPLATE_KIND, convertTalosConfigTemplate);
}

export const TALOS_CONFIG_TEMPLATE_WEBHOOK: ValidatingWebhook = {
  name: 'vtalosconfigtemplate.bootstrap.cluster.x-k8s.io',
  path: '/validate-bootstrap-cluster-x-k8s-io-v1beta1-talosconfigtemplate',
  // Both versions, so requests arrive as sent and need no conversion round trip first.
  rules: [{ apiGroups: [BOOTSTRAP_GROUP], apiVersions: ['v1alpha3', 'v1beta1'], operations: ['UPDATE'], resources: ['talosconfigtemplates'] }],
  validate: (request) => {
    if (request.operation !== 'UPDATE') return { allowed: true };
    const problem = templateUpdateProblem(request.oldObject, request.object, request.dryRun);
    if (!problem) return { allowed: true };
    const subject = request.name ? `TalosConfigTemplate "${request.name}"` : 'TalosConfigTemplate';
    return { allowed: false, code: 422, reason: 'Invalid', message: `${subject}: ${problem.message}` };
  },
};

export function bootstrapValidatingWebhooks(): ValidatingWebhook[] {
  return [TALOS_CONFIG_TEMPLATE_WEBHOOK];
}
