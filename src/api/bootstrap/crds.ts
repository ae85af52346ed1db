// The TalosConfig and TalosConfigTemplate CRDs. v1alpha3 keeps CABPT's shape
// (what the seed manifests and CACPPT use); v1beta1 is stored and speaks the
// Cluster API v1beta2 contract. Validation that a schema can say lives here as
// enums and CEL rules; the rest is in the validating webhook.
import {
  boolean,
  contractLabels,
  conversionViaWebhook,
  type CrdVersion,
  type CustomResourceDefinition,
  int64,
  type JSONSchemaProps,
  metav1Conditions,
  object,
  type PrinterColumn,
  rootSchema,
  string,
  stringMap,
  v1beta1Conditions,
} from '../crd';
import { BOOTSTRAP_GROUP, GENERATE_TYPES, HOSTNAME_SOURCES, TALOS_CONFIG_KIND, TALOS_CONFIG_TEMPLATE_KIND } from './group';

/** Cluster API reads these to pick the version that speaks its contract (v1beta2 → our v1beta1). */
export const BOOTSTRAP_CONTRACT_LABELS = contractLabels({
  v1alpha3: ['v1alpha3'],
  v1alpha4: ['v1alpha3'],
  v1beta1: ['v1alpha3'],
  v1beta2: ['v1beta1'],
});

export const TALOS_CONFIG_SPEC_IMMUTABLE_MESSAGE =
  'spec is immutable: a TalosConfig cannot change after creation; delete it and create a new one';

/** A host name or IP address, optionally with :port; no scheme, path, user info or blanks. */
const ENDPOINT_RULE = "self.matches('^[A-Za-z0-9._%\\\\[\\\\]:-]+$')";

/** The TalosConfig spec, the same in both versions; also embedded by TalosControlPlane. */
export function talosConfigSpecSchema(): JSONSchemaProps {
  return {
    type: 'object',
    description: 'TalosConfigSpec is the desired Talos machine configuration of one Machine.',
    required: ['generateType'],
    properties: {
      talosVersion: string(
        'Talos version to generate the machine configuration for, e.g. v1.11 (the patch version may be omitted). ' +
          'Defaults to the newest supported version; setting it explicitly avoids surprises when the provider is upgraded.',
      ),
      generateType: string(
        'Machine configuration type to generate: controlplane, worker, init (deprecated: the first control plane), ' +
          'join (the old name of worker), or none (the configuration is given in data).',
        { enum: GENERATE_TYPES },
      ),
      data: string('The machine configuration, used only when generateType is none.'),
      configPatches: {
        type: 'array',
        description: 'RFC 6902 JSON patches applied to the generated machine configuration.',
        items: {
          type: 'object',
          required: ['op', 'path'],
          properties: {
            op: string('Patch operation: add, remove, replace, move, copy or test.'),
            path: string('JSON pointer to the target location.'),
            value: { description: 'The value to add, replace or test; any JSON.', 'x-kubernetes-preserve-unknown-fields': true },
          },
        },
      },
      strategicPatches: {
        type: 'array',
        description: 'Talos strategic merge patches, each a YAML document (or several) applied in order after configPatches.',
        items: { type: 'string' },
      },
      hostname: object(
        {
          source: string(
            'Source of the hostname: MachineName (the Machine\'s name), InfrastructureName (the name of the Machine\'s ' +
              'infrastructure object), or empty (Talos chooses).',
            { enum: HOSTNAME_SOURCES },
          ),
        },
        { description: 'Sets the hostname in the machine configuration.' },
      ),
      talosconfig: object(
        {
          endpoints: {
            type: 'array',
            description:
              'Endpoints written into the cluster\'s <cluster>-talosconfig Secret (host names or IP addresses, optionally ' +
              'with :port), e.g. a load balancer or DNS name. Empty means the addresses of the control-plane Machines.',
            maxItems: 16,
            'x-kubernetes-list-type': 'atomic',
            items: {
              type: 'string',
              minLength: 1,
              maxLength: 262,
              'x-kubernetes-validations': [
                {
                  rule: ENDPOINT_RULE,
                  message: 'each endpoint must be a host name or IP address, optionally with :port (no scheme, path or spaces)',
                },
              ],
            },
          },
        },
        { description: 'How the cluster\'s talosconfig Secret is written (read from control-plane configs).' },
      ),
    },
  };
}

function statusV1alpha3(): JSONSchemaProps {
  return object(
    {
      ready: boolean('The bootstrap data Secret exists and can be consumed.'),
      dataSecretName: string('Name of the Secret that holds the bootstrap data.'),
      talosConfig: string('Deprecated: use the <cluster>-talosconfig Secret. Never written; kept for round trips.'),
      failureReason: string('Deprecated: set on non-retryable errors.'),
      failureMessage: string('Deprecated: set on non-retryable errors.'),
      observedGeneration: int64('The latest generation observed by the controller.'),
      conditions: v1beta1Conditions('Cluster API v1beta1-style conditions.'),
      v1beta2Status: object(
        { conditions: metav1Conditions('Conditions of the TalosConfig: Ready, DataSecretAvailable, ClientConfigAvailable, Paused.') },
        { description: 'The status fields of the Cluster API v1beta2 contract.' },
      ),
    },
    { description: 'TalosConfigStatus is the observed state of a TalosConfig.' },
  );
}

function statusV1beta1(): JSONSchemaProps {
  return object(
    {
      initialization: object(
        {
          dataSecretCreated: boolean(
            'True when the Machine\'s bootstrap data Secret has been created. Part of the Cluster API contract.',
          ),
        },
        { description: 'Initialization observations (Cluster API contract).', minProperties: 1 },
      ),
      dataSecretName: string('Name of the Secret that holds the bootstrap data.', { minLength: 1, maxLength: 253 }),
      observedGeneration: int64('The latest generation observed by the controller.'),
      conditions: metav1Conditions('Conditions of the TalosConfig: Ready, DataSecretAvailable, ClientConfigAvailable, Paused.'),
      deprecated: object(
        {
          v1beta1: object(
            {
              conditions: v1beta1Conditions('Deprecated: Cluster API v1beta1-style conditions, removed with the v1beta1 contract.'),
              failureReason: string('Deprecated: set on non-retryable errors.'),
              failureMessage: string('Deprecated: set on non-retryable errors.'),
            },
            { description: 'Status fields of the Cluster API v1beta1 contract.' },
          ),
        },
        { description: 'Status fields that are deprecated and will be removed.' },
      ),
    },
    { description: 'TalosConfigStatus is the observed state of a TalosConfig.' },
  );
}

function immutableSpec(): JSONSchemaProps {
  return {
    ...talosConfigSpecSchema(),
    'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: TALOS_CONFIG_SPEC_IMMUTABLE_MESSAGE }],
  };
}

const AGE: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since creation' };
const CLUSTER_LABEL_COLUMN: PrinterColumn = {
  name: 'Cluster',
  type: 'string',
  jsonPath: ".metadata.labels['cluster\\.x-k8s\\.io/cluster-name']",
  description: 'Cluster',
};

function version(name: string, storage: boolean, schema: JSONSchemaProps, columns: PrinterColumn[]): CrdVersion {
  return {
    name,
    served: true,
    storage,
    schema: { openAPIV3Schema: schema },
    subresources: { status: {} },
    additionalPrinterColumns: columns,
  };
}

function crd(kind: string, plural: string, versions: CrdVersion[]): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${BOOTSTRAP_GROUP}`, labels: { ...BOOTSTRAP_CONTRACT_LABELS } },
    spec: {
      group: BOOTSTRAP_GROUP,
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), categories: ['cluster-api'] },
      scope: 'Namespaced',
      versions,
      conversion: conversionViaWebhook(),
    },
  };
}

export function talosConfigCrd(): CustomResourceDefinition {
  const description = 'TalosConfig is the Talos machine configuration of one Machine (or MachinePool).';
  const secretColumn: PrinterColumn = { name: 'Bootstrap secret', type: 'string', jsonPath: '.status.dataSecretName', description: 'Bootstrap secret name' };
  return crd(TALOS_CONFIG_KIND, 'talosconfigs', [
    version('v1alpha3', false, rootSchema(description, { spec: immutableSpec(), status: statusV1alpha3() }, ['spec']), [
      CLUSTER_LABEL_COLUMN,
      { name: 'Ready', type: 'boolean', jsonPath: '.status.ready', description: 'Bootstrap secret is created' },
      secretColumn,
      AGE,
    ]),
    version('v1beta1', true, rootSchema(description, { spec: immutableSpec(), status: statusV1beta1() }, ['spec']), [
      CLUSTER_LABEL_COLUMN,
      { name: 'Initialized', type: 'string', jsonPath: '.status.initialization.dataSecretCreated', description: 'Bootstrap secret is created' },
      secretColumn,
      AGE,
    ]),
  ]);
}

export function talosConfigTemplateCrd(): CustomResourceDefinition {
  const description = 'TalosConfigTemplate is the TalosConfig that MachineDeployments, MachineSets and ClusterClasses stamp out.';
  const columns: PrinterColumn[] = [
    { name: 'ClusterClass', type: 'string', jsonPath: '.metadata.ownerReferences[?(@.kind=="ClusterClass")].name', description: 'ClusterClass owning this template' },
    { name: 'Cluster', type: 'string', jsonPath: '.metadata.ownerReferences[?(@.kind=="Cluster")].name', description: 'Cluster owning this template' },
    AGE,
  ];
  const templateSpec = (template: JSONSchemaProps): JSONSchemaProps =>
    object({ template }, { description: 'TalosConfigTemplateSpec holds the template.', required: ['template'] });
  return crd(TALOS_CONFIG_TEMPLATE_KIND, 'talosconfigtemplates', [
    version(
      'v1alpha3',
      false,
      rootSchema(description, { spec: templateSpec(object({ spec: talosConfigSpecSchema() })) }),
      columns,
    ),
    version(
      'v1beta1',
      true,
      rootSchema(description, {
        spec: templateSpec(
          object(
            {
              metadata: object(
                {
                  labels: stringMap('Labels added to every TalosConfig made from this template.'),
                  annotations: stringMap('Annotations added to every TalosConfig made from this template.'),
                },
                { description: 'Metadata Cluster API copies onto each TalosConfig made from this template.' },
              ),
              spec: talosConfigSpecSchema(),
            },
            { required: ['spec'] },
          ),
        ),
      }),
      columns,
    ),
  ]);
}

export function bootstrapCrds(): CustomResourceDefinition[] {
  return [talosConfigCrd(), talosConfigTemplateCrd()];
}
