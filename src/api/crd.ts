// CustomResourceDefinition shapes and schema pieces shared by every group.
// Our CRD YAML in crds/ is generated from these (npm run gen:crds), so a
// schema fragment such as the TalosConfig spec is written once and reused.

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'boolean' | 'number';
  description?: string;
  format?: string;
  enum?: readonly (string | number | boolean)[];
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps;
  required?: string[];
  items?: JSONSchemaProps;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  default?: unknown;
  anyOf?: JSONSchemaProps[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: ValidationRule[];
}

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  deprecated?: boolean;
  deprecationWarning?: string;
  schema: { openAPIV3Schema: JSONSchemaProps };
  subresources?: {
    status?: Record<string, never>;
    scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
  };
  additionalPrinterColumns?: PrinterColumn[];
}

export interface WebhookClientConfig {
  service?: { namespace: string; name: string; path?: string; port?: number };
  url?: string;
  caBundle?: string;
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    group: string;
    names: { kind: string; listKind: string; plural: string; singular: string; categories?: string[]; shortNames?: string[] };
    scope: 'Namespaced' | 'Cluster';
    versions: CrdVersion[];
    conversion?: {
      strategy: 'None' | 'Webhook';
      webhook?: { conversionReviewVersions: string[]; clientConfig: WebhookClientConfig };
    };
  };
}

/** Where the webhook server is reachable inside the management cluster (deploy/ creates this Service). */
export const WEBHOOK_SERVICE = { namespace: 'talos-capi-system', name: 'talos-capi-webhook-service', port: 443 } as const;
export const CONVERSION_PATH = '/convert';

export function conversionViaWebhook(): NonNullable<CustomResourceDefinition['spec']['conversion']> {
  return {
    strategy: 'Webhook',
    webhook: { conversionReviewVersions: ['v1'], clientConfig: { service: { ...WEBHOOK_SERVICE, path: CONVERSION_PATH } } },
  };
}

export const string = (description?: string, extra: JSONSchemaProps = {}): JSONSchemaProps => ({
  type: 'string',
  ...(description ? { description } : {}),
  ...extra,
});

export const boolean = (description: string): JSONSchemaProps => ({ type: 'boolean', description });

export const int64 = (description: string): JSONSchemaProps => ({ type: 'integer', format: 'int64', description });

export function object(properties: Record<string, JSONSchemaProps>, extra: JSONSchemaProps = {}): JSONSchemaProps {
  return { type: 'object', properties, ...extra };
}

export function stringMap(description: string): JSONSchemaProps {
  return { type: 'object', description, additionalProperties: { type: 'string' } };
}

/** The root schema of a kind: apiVersion, kind, metadata plus the given properties. */
export function rootSchema(description: string, properties: Record<string, JSONSchemaProps>, required: string[] = []): JSONSchemaProps {
  return {
    type: 'object',
    description,
    properties: {
      apiVersion: string('APIVersion defines the versioned schema of this representation of an object.'),
      kind: string('Kind is a string value representing the REST resource this object represents.'),
      metadata: { type: 'object' },
      ...properties,
    },
    ...(required.length ? { required } : {}),
  };
}

/** metav1.Condition as Cluster API v1beta2 objects carry it (list keyed by type). */
export function metav1Conditions(description: string): JSONSchemaProps {
  return {
    type: 'array',
    description,
    maxItems: 32,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
    items: {
      type: 'object',
      required: ['lastTransitionTime', 'message', 'reason', 'status', 'type'],
      properties: {
        type: string('Type of condition in CamelCase or in foo.example.com/CamelCase.', {
          maxLength: 316,
          pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
        }),
        status: string('Status of the condition, one of True, False, Unknown.', { enum: ['True', 'False', 'Unknown'] }),
        observedGeneration: { ...int64('The metadata.generation the condition was set based upon.'), minimum: 0 },
        lastTransitionTime: string('Last time the condition transitioned from one status to another.', { format: 'date-time' }),
        reason: string('Programmatic identifier of the reason for the last transition, in CamelCase.', {
          minLength: 1,
          maxLength: 1024,
          pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
        }),
        message: string('Human readable message about the transition; may be empty.', { maxLength: 32768 }),
      },
    },
  };
}

/** Cluster API v1beta1-style conditions (with severity), as the v1beta1 contract defines them. */
export function v1beta1Conditions(description: string): JSONSchemaProps {
  return {
    type: 'array',
    description,
    items: {
      type: 'object',
      required: ['lastTransitionTime', 'status', 'type'],
      properties: {
        type: string('Type of condition in CamelCase or in foo.example.com/CamelCase.', { minLength: 1, maxLength: 256 }),
        status: string('Status of the condition, one of True, False, Unknown.'),
        severity: string('Classification of the reason; set only when status is False.', { maxLength: 32 }),
        lastTransitionTime: string('Last time the condition transitioned from one status to another.', { format: 'date-time' }),
        reason: string('Reason for the last transition, in CamelCase.', { minLength: 1, maxLength: 256 }),
        message: string('Human readable message about the transition.', { minLength: 1, maxLength: 10240 }),
      },
    },
  };
}

/** The contract label naming which of our versions speaks a Cluster API contract version. */
export function contractLabels(byContract: Record<string, string[]>): Record<string, string> {
  return Object.fromEntries(Object.entries(byContract).map(([contract, versions]) => [`cluster.x-k8s.io/${contract}`, versions.join('_')]));
}
