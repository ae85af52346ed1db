// The TalosControlPlane and TalosControlPlaneTemplate CRDs. TalosControlPlane serves CACPPT's
// v1alpha3 shape (seed manifests, the v1beta1 contract) and stores v1beta1, KCP v1beta2's shape
// (the v1beta2 contract), converted by the webhook (./conversion.ts). The defaults a schema can
// hold and the validation CACPPT lacked (replicas, maxSurge, version skew) are schema and CEL, so
// they hold without the webhook server. The one default that depends on the object itself (the
// `v` prefix) is applied where it is read, by ./spec.ts. The template, for ClusterClass, is v1beta1 only.
import { talosConfigSpecSchema } from '../bootstrap/crds';
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
  rootSchema,
  string,
  stringMap,
  v1beta1Conditions,
  type PrinterColumn,
  type ValidationRule,
} from '../crd';
import {
  CONTROLPLANE_GROUP,
  DEFAULT_MAX_SURGE,
  DEFAULT_REPLICAS,
  IN_PLACE_ON_FAILURE_VALUES,
  IN_PLACE_STOP,
  ROLLING_UPDATE,
  ROLLOUT_STRATEGY_TYPES,
  TALOS_CONTROL_PLANE_KIND,
  TALOS_CONTROL_PLANE_TEMPLATE_KIND,
  V1ALPHA3_ROLLOUT_STRATEGY_TYPES,
} from './group';
import { V1BETA1 } from './resources';

/** Cluster API v1beta2 reads v1beta1; the older contracts read CACPPT's v1alpha3. */
export const CONTROLPLANE_CONTRACT_LABELS = contractLabels({
  v1alpha3: ['v1alpha3'],
  v1alpha4: ['v1alpha3'],
  v1beta1: ['v1alpha3'],
  v1beta2: ['v1beta1'],
});

/** A template is only read by ClusterClass, which needs the v1beta2 contract. */
const TEMPLATE_CONTRACT_LABELS = contractLabels({ v1beta2: ['v1beta1'] });

export const REPLICAS_ODD_MESSAGE =
  'must be an odd number (1, 3, 5, ...): every control-plane Machine runs an etcd member, and an even count ' +
  'adds a member without tolerating one more failure (zero would remove etcd)';
export const ONE_OR_ZERO_MESSAGE = 'must be 0 or 1 (a control plane is rolled one Machine at a time; percentages are not supported)';
export const SURGE_AND_UNAVAILABLE_ZERO_MESSAGE =
  'maxSurge and maxUnavailable cannot both be 0: a rolling update could neither add a Machine first nor remove one first';
export const WORKER_CONFIG_MESSAGE = 'a control-plane Machine cannot boot a worker configuration: use controlplane, or leave generateType out';

/** Kubernetes version as CACPPT's CRD accepts it, except that the `v` is optional (CACPPT's webhook adds it). */
export const KUBERNETES_VERSION_PATTERN = '^v?(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)([-0-9a-zA-Z_\\.+]*)?$';

// Major and minor of a version the pattern above accepted. Plain regex and split rather than
// the CEL semver library, which needs Kubernetes 1.33 in the management cluster.
const majorOf = (v: string) => `int(${v}.find('[0-9]+'))`;
const minorOf = (v: string) => `int(${v}.find('[0-9]+[.][0-9]+').split('.')[1])`;

export const VERSION_DOWNGRADE_RULE: ValidationRule = {
  rule: `${majorOf('self')} > ${majorOf('oldSelf')} || (${majorOf('self')} == ${majorOf('oldSelf')} && ${minorOf('self')} >= ${minorOf('oldSelf')})`,
  messageExpression:
    "'cannot go down from ' + oldSelf + ' to ' + self + ': Kubernetes does not support downgrading a minor version " +
    "(a patch release of the same minor is fine)'",
};

export const VERSION_SKIP_RULE: ValidationRule = {
  rule: `${majorOf('self')} == ${majorOf('oldSelf')} ? ${minorOf('self')} <= ${minorOf('oldSelf')} + 1 : ${majorOf('self')} < ${majorOf('oldSelf')}`,
  messageExpression:
    "'cannot go from ' + oldSelf + ' to ' + self + ': upgrade one Kubernetes minor version at a time " +
    "(Kubernetes supports no larger skew between control-plane components)'",
};

const int32 = (description: string, extra: JSONSchemaProps = {}): JSONSchemaProps => ({ type: 'integer', format: 'int32', description, ...extra });

/** An int-or-string that must be 0 or 1 (string() reads both forms alike). */
function zeroOrOne(description: string, extra: JSONSchemaProps = {}): JSONSchemaProps {
  return {
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    'x-kubernetes-int-or-string': true,
    description,
    'x-kubernetes-validations': [{ rule: "string(self) == '0' || string(self) == '1'", message: ONE_OR_ZERO_MESSAGE }],
    ...extra,
  };
}

function objectReference(description: string): JSONSchemaProps {
  return object(
    {
      apiVersion: string('API version of the referent.'),
      kind: string('Kind of the referent.'),
      name: string('Name of the referent.'),
      namespace: string('Namespace of the referent; empty means the TalosControlPlane\'s namespace.'),
      uid: string('UID of the referent.'),
      resourceVersion: string('Specific resourceVersion to which this reference is made, if any.'),
      fieldPath: string('If referring to a piece of an object instead of an entire object, the path to it.'),
    },
    { description, required: ['apiVersion', 'kind', 'name'], 'x-kubernetes-map-type': 'atomic' },
  );
}

/** The TalosConfig spec of a control-plane Machine: generateType may be left out, and is never a worker type. */
function controlPlaneTalosConfigSpec(description: string): JSONSchemaProps {
  const { required: _generateTypeRequired, ...base } = talosConfigSpecSchema();
  const generateType = base.properties!.generateType!;
  return {
    ...base,
    description,
    properties: {
      ...base.properties,
      generateType: {
        ...generateType,
        description: `${generateType.description} Empty means controlplane (init for the init config).`,
        'x-kubernetes-validations': [{ rule: "self != 'worker' && self != 'join'", message: WORKER_CONFIG_MESSAGE }],
      },
    },
  };
}

function rolloutStrategy(types: readonly string[], typeDescription: string, more: Record<string, JSONSchemaProps> = {}): JSONSchemaProps {
  return object(
    {
      type: string(typeDescription, {
        enum: types,
        default: ROLLING_UPDATE,
      }),
      rollingUpdate: object(
        {
          maxSurge: zeroOrOne(
            'How many Machines above replicas a rolling update may create: 1 (default) creates the replacement before ' +
              'removing an outdated Machine; 0 removes first (for infrastructure with no room for one more Machine).',
            { default: DEFAULT_MAX_SURGE },
          ),
          maxUnavailable: zeroOrOne(
            'How many Machines below replicas a rolling update may leave: 0 (the default when maxSurge is 1) never removes ' +
              'an outdated Machine before its replacement is ready; 1 (the default when maxSurge is 0) lets the rollout ' +
              'remove first. Honoured by the order of each step, since a control plane is rolled one Machine at a time.',
          ),
        },
        {
          description: 'Rolling update parameters, used when type is RollingUpdate.',
          'x-kubernetes-validations': [
            {
              rule: "!has(self.maxSurge) || !has(self.maxUnavailable) || string(self.maxSurge) != '0' || string(self.maxUnavailable) != '0'",
              message: SURGE_AND_UNAVAILABLE_ZERO_MESSAGE,
            },
          ],
        },
      ),
      ...more,
    },
    {
      description: 'How outdated Machines are replaced.',
      default: { type: ROLLING_UPDATE, rollingUpdate: { maxSurge: DEFAULT_MAX_SURGE } },
    },
  );
}

/** v1beta1's strategy.inPlace (v1alpha3: the annotation IN_PLACE_ON_FAILURE_ANNOTATION). */
const inPlaceSchema = () =>
  object(
    {
      onFailure: string(
        'What a failed step of a node\'s in-place upgrade does (the Talos API refused it: an image pull, the installer, ' +
          'the config apply): Stop (default) holds the rollout at that step, names it in RollingOut and tries it again ' +
          'until it succeeds; Replace marks the Machine and replaces it through the rolling update instead. A node that ' +
          'does not come back is not a failed step: the rollout waits for it (a MachineHealthCheck remediates it).',
        { enum: IN_PLACE_ON_FAILURE_VALUES, default: IN_PLACE_STOP },
      ),
    },
    { description: 'In-place upgrade parameters, used when type is InPlace.' },
  );

const V1ALPHA3_STRATEGY_TYPE = 'RollingUpdate (default) replaces outdated Machines one at a time; OnDelete replaces one only when you delete it.';
const V1BETA1_STRATEGY_TYPE =
  V1ALPHA3_STRATEGY_TYPE + ' InPlace upgrades Kubernetes and Talos on the running Machines through the Talos API where ' +
  'the change allows it, and replaces them for any other change.';

const replicasSchema = () =>
  int32('Number of control-plane Machines: odd, because each runs an etcd member. Defaults to 1.', {
    default: DEFAULT_REPLICAS,
    'x-kubernetes-validations': [{ rule: 'self % 2 == 1', message: REPLICAS_ODD_MESSAGE }],
  });

const versionSchema = () =>
  string(
    'Kubernetes version of the control-plane Machines, e.g. v1.30.2 (the v may be left out). An upgrade moves at most ' +
      'one minor version; a minor version never goes down.',
    { minLength: 2, maxLength: 256, pattern: KUBERNETES_VERSION_PATTERN, 'x-kubernetes-validations': [VERSION_DOWNGRADE_RULE, VERSION_SKIP_RULE] },
  );

const controlPlaneConfigSchema = () =>
  object(
    {
      init: controlPlaneTalosConfigSpec('Deprecated: the TalosConfig spec of the first control-plane Machine, when set.'),
      controlplane: controlPlaneTalosConfigSpec('The TalosConfig spec of each control-plane Machine.'),
    },
    { description: 'The Talos machine configuration of the control-plane Machines.', required: ['controlplane'] },
  );

function specV1alpha3(): JSONSchemaProps {
  return object(
    {
      replicas: replicasSchema(),
      version: versionSchema(),
      infrastructureTemplate: objectReference('The infrastructure machine template cloned for each control-plane Machine.'),
      controlPlaneConfig: controlPlaneConfigSchema(),
      rolloutStrategy: rolloutStrategy(V1ALPHA3_ROLLOUT_STRATEGY_TYPES, V1ALPHA3_STRATEGY_TYPE),
    },
    { description: 'TalosControlPlaneSpec is the desired state of the control plane.', required: ['version', 'infrastructureTemplate', 'controlPlaneConfig'] },
  );
}

const seconds = (description: string) => int32(description, { minimum: 0 });

function deletionSchema(): JSONSchemaProps {
  return object(
    {
      nodeDrainTimeoutSeconds: seconds('How long Cluster API drains the Node; 0 or unset waits as long as it takes.'),
      nodeVolumeDetachTimeoutSeconds: seconds('How long Cluster API waits for volumes to detach; 0 or unset waits as long as it takes.'),
      nodeDeletionTimeoutSeconds: seconds('How long Cluster API tries to delete the Node once the Machine is gone (default 10 s).'),
    },
    { description: 'Timeouts of the stages of deleting a control-plane Machine; changed in place on existing Machines.' },
  );
}

const templateMetadataSchema = (what: string) =>
  object(
    {
      labels: stringMap(`Labels of every ${what}.`),
      annotations: stringMap(`Annotations of every ${what}.`),
    },
    { description: `Metadata of every ${what}; changes reach existing ones in place, without a rollout.` },
  );

function rolloutSchema(): JSONSchemaProps {
  return object(
    {
      after: string('Machines created before this time (RFC 3339) are rolled out, once it has passed.', { format: 'date-time' }),
      strategy: rolloutStrategy(ROLLOUT_STRATEGY_TYPES, V1BETA1_STRATEGY_TYPE, { inPlace: inPlaceSchema() }),
    },
    { description: 'When and how outdated Machines are replaced.' },
  );
}

function remediationSchema(): JSONSchemaProps {
  return object(
    {
      maxRetry: int32('How many times a Machine and its replacements are remediated in a row; unset means no limit.', { minimum: 0 }),
      retryPeriodSeconds: seconds('The least time between remediating a Machine and remediating its replacement (default 0).'),
      minHealthyPeriodSeconds: seconds('How long a replacement must stay healthy for its remediation chain to start over (default 3600).'),
    },
    { description: 'How unhealthy control-plane Machines marked by a MachineHealthCheck are replaced.' },
  );
}

export const MACHINE_NAMING_MESSAGE = 'must contain {{ .random }} so that every Machine gets its own name';

function machineNamingSchema(): JSONSchemaProps {
  return object(
    {
      template: string(
        'Name of new control-plane Machines, with {{ .cluster.name }}, {{ .talosControlPlane.name }} and {{ .random }} ' +
          '(required) filled in, e.g. "{{ .cluster.name }}-cp-{{ .random }}". Default: "<TalosControlPlane name>-<random>".',
        { minLength: 1, maxLength: 256, 'x-kubernetes-validations': [{ rule: "self.contains('{{ .random }}')", message: MACHINE_NAMING_MESSAGE }] },
      ),
    },
    { description: 'How new control-plane Machines are named.' },
  );
}

function infrastructureRefSchema(): JSONSchemaProps {
  return object(
    {
      apiGroup: string('API group of the template; its version is the one the group\'s Cluster API contract label names.', { minLength: 1, maxLength: 253 }),
      kind: string('Kind of the template.', { minLength: 1, maxLength: 63 }),
      name: string('Name of the template, in the TalosControlPlane\'s namespace.', { minLength: 1, maxLength: 253 }),
    },
    { description: 'The infrastructure machine template cloned for each control-plane Machine.', required: ['apiGroup', 'kind', 'name'] },
  );
}

function readinessGatesSchema(): JSONSchemaProps {
  return {
    type: 'array',
    description: 'Extra conditions of the control-plane Machines that must be True for them to be Ready.',
    maxItems: 32,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['conditionType'],
    items: object(
      {
        conditionType: string('A condition type of the Machine.', { minLength: 1, maxLength: 316 }),
        polarity: string('Positive (default): True is good; Negative: False is good.', { enum: ['Positive', 'Negative'] }),
      },
      { required: ['conditionType'] },
    ),
  };
}

function specV1beta1(): JSONSchemaProps {
  return object(
    {
      replicas: replicasSchema(),
      version: versionSchema(),
      machineTemplate: object(
        {
          metadata: templateMetadataSchema('control-plane Machine (and its infrastructure machine and TalosConfig)'),
          spec: object(
            { infrastructureRef: infrastructureRefSchema(), deletion: deletionSchema(), readinessGates: readinessGatesSchema() },
            { required: ['infrastructureRef'] },
          ),
        },
        { description: 'What every control-plane Machine is made from.', required: ['spec'] },
      ),
      controlPlaneConfig: controlPlaneConfigSchema(),
      rollout: { ...rolloutSchema(), default: {} },
      remediation: remediationSchema(),
      machineNaming: machineNamingSchema(),
    },
    { description: 'TalosControlPlaneSpec is the desired state of the control plane.', required: ['version', 'machineTemplate', 'controlPlaneConfig'] },
  );
}

const count = (description: string) => int32(description);

/** The status fields both versions keep at the same place. */
function sharedStatusFields(): Record<string, JSONSchemaProps> {
  return {
    selector: string('Label selector of the control-plane Machines in string form (for the scale subresource).'),
    replicas: count('Control-plane Machines that exist.'),
    version: string('Lowest Kubernetes version among the control-plane Machines.'),
    readyReplicas: count('Control-plane Machines that are ready.'),
    availableReplicas: count('Control-plane Machines that are available (v1beta2 contract).'),
    upToDateReplicas: count('Control-plane Machines whose spec is up to date (v1beta2 contract).'),
    versions: {
      type: 'array',
      description: 'How many Machines run each Kubernetes version, oldest first (v1beta2 contract).',
      maxItems: 100,
      'x-kubernetes-list-type': 'atomic',
      items: object(
        { version: string('A Kubernetes version.', { minLength: 1, maxLength: 256 }), replicas: count('Machines running it.') },
        { required: ['version'] },
      ),
    },
    initialization: object(
      { controlPlaneInitialized: boolean('True once the control plane answers (v1beta2 contract).') },
      { description: 'Initialization observations (v1beta2 contract).', minProperties: 1 },
    ),
    bootstrapped: boolean('True once etcd has been bootstrapped.'),
    observedGeneration: int64('The latest generation observed by the controller.'),
  };
}

const V1BETA2_CONDITIONS =
  'Conditions of the control plane: Available, Initialized, EtcdClusterHealthy, ControlPlaneComponentsHealthy, MachinesReady, ' +
  'MachinesUpToDate, RollingOut, ScalingUp, ScalingDown, Remediating, Deleting, Paused.';

function statusV1alpha3(): JSONSchemaProps {
  return object(
    {
      ...sharedStatusFields(),
      updatedReplicas: count('v1beta1 contract: Machines whose spec is up to date.'),
      unavailableReplicas: count('v1beta1 contract: replicas that are not ready.'),
      initialized: boolean('v1beta1 contract: true once the control plane answers.'),
      ready: boolean('True while at least one control-plane Machine is ready.'),
      failureReason: string('Deprecated: a terminal problem, for machines to interpret.'),
      failureMessage: string('Deprecated: a terminal problem, for humans.'),
      conditions: v1beta1Conditions('Cluster API v1beta1-style conditions.'),
      v1beta2: object(
        { conditions: metav1Conditions(V1BETA2_CONDITIONS) },
        { description: 'Status fields of the Cluster API v1beta2 contract that v1alpha3 cannot keep at their v1beta2 place.' },
      ),
    },
    { description: 'TalosControlPlaneStatus is the observed state of the control plane.' },
  );
}

function statusV1beta1(): JSONSchemaProps {
  return object(
    {
      ...sharedStatusFields(),
      conditions: metav1Conditions(V1BETA2_CONDITIONS),
      lastRemediation: object(
        {
          machine: string('The Machine remediated.', { minLength: 1, maxLength: 253 }),
          time: string('When its remediation started.', { format: 'date-time' }),
          retryCount: int32('How many remediations in a row its chain has had before it.', { minimum: 0 }),
        },
        { description: 'The last remediation this control plane made.', required: ['machine', 'time', 'retryCount'] },
      ),
      deprecated: object(
        {
          v1beta1: object(
            {
              conditions: v1beta1Conditions('Deprecated: Cluster API v1beta1-style conditions, removed with the v1beta1 contract.'),
              updatedReplicas: count('v1beta1 contract: Machines whose spec is up to date.'),
              unavailableReplicas: count('v1beta1 contract: replicas that are not ready.'),
              failureReason: string('Deprecated: a terminal problem, for machines to interpret.'),
              failureMessage: string('Deprecated: a terminal problem, for humans.'),
            },
            { description: 'Status fields of the Cluster API v1beta1 contract.' },
          ),
        },
        { description: 'Status fields that are deprecated and will be removed.' },
      ),
    },
    { description: 'TalosControlPlaneStatus is the observed state of the control plane.' },
  );
}

const SCALE = { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' };
const AGE: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since creation' };
const DESCRIPTION = 'TalosControlPlane is a Talos control plane: its Machines, their etcd, and the workload cluster\'s kubeconfig.';

function v1alpha3Version(): CrdVersion {
  return {
    name: 'v1alpha3',
    served: true,
    storage: false,
    schema: { openAPIV3Schema: rootSchema(DESCRIPTION, { spec: specV1alpha3(), status: statusV1alpha3() }, ['spec']) },
    subresources: { status: {}, scale: SCALE },
    additionalPrinterColumns: [
      { name: 'Ready', type: 'boolean', jsonPath: '.status.ready', description: 'At least one control-plane Machine is ready' },
      { name: 'Initialized', type: 'boolean', jsonPath: '.status.initialized', description: 'The control plane has answered' },
      { name: 'Replicas', type: 'integer', jsonPath: '.status.replicas', description: 'Control-plane Machines that exist' },
      { name: 'Ready Replicas', type: 'integer', jsonPath: '.status.readyReplicas', description: 'Control-plane Machines that are ready' },
      { name: 'Unavailable Replicas', type: 'integer', jsonPath: '.status.unavailableReplicas', description: 'Control-plane Machines that are not ready' },
    ],
  };
}

function v1beta1Version(): CrdVersion {
  const condition = (type: string) => `.status.conditions[?(@.type=="${type}")].status`;
  return {
    name: 'v1beta1',
    served: true,
    storage: true,
    schema: { openAPIV3Schema: rootSchema(DESCRIPTION, { spec: specV1beta1(), status: statusV1beta1() }, ['spec']) },
    subresources: { status: {}, scale: SCALE },
    additionalPrinterColumns: [
      { name: 'Cluster', type: 'string', jsonPath: ".metadata.labels['cluster\\.x-k8s\\.io/cluster-name']", description: 'Cluster' },
      { name: 'Available', type: 'string', jsonPath: condition('Available'), description: 'The control plane is available' },
      { name: 'Initialized', type: 'boolean', jsonPath: '.status.initialization.controlPlaneInitialized', description: 'The control plane has answered' },
      { name: 'Desired', type: 'integer', jsonPath: '.spec.replicas', description: 'Control-plane Machines wanted' },
      { name: 'Current', type: 'integer', jsonPath: '.status.replicas', description: 'Control-plane Machines that exist' },
      { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas', description: 'Control-plane Machines that are ready' },
      { name: 'Available', type: 'integer', jsonPath: '.status.availableReplicas', description: 'Control-plane Machines that are available', priority: 1 },
      { name: 'Up-to-date', type: 'integer', jsonPath: '.status.upToDateReplicas', description: 'Control-plane Machines that are up to date' },
      { name: 'Version', type: 'string', jsonPath: '.spec.version', description: 'Kubernetes version' },
      AGE,
    ],
  };
}

export function talosControlPlaneCrd(): CustomResourceDefinition {
  const { plural } = V1BETA1.talosControlPlane;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${CONTROLPLANE_GROUP}`, labels: { ...CONTROLPLANE_CONTRACT_LABELS } },
    spec: {
      group: CONTROLPLANE_GROUP,
      names: {
        kind: TALOS_CONTROL_PLANE_KIND,
        listKind: `${TALOS_CONTROL_PLANE_KIND}List`,
        plural,
        singular: TALOS_CONTROL_PLANE_KIND.toLowerCase(),
        shortNames: ['tcp'],
        categories: ['cluster-api'],
      },
      scope: 'Namespaced',
      versions: [v1alpha3Version(), v1beta1Version()],
      conversion: conversionViaWebhook(),
    },
  };
}

/** The template's spec: what a ClusterClass fixes; the topology gives replicas, version and the infrastructure. */
function templateResourceSpec(): JSONSchemaProps {
  const { properties } = specV1beta1();
  return object(
    {
      machineTemplate: object(
        { metadata: templateMetadataSchema('control-plane Machine'), spec: object({ deletion: deletionSchema() }) },
        { description: 'Metadata and deletion timeouts of the control-plane Machines (the ClusterClass names the infrastructure).' },
      ),
      controlPlaneConfig: properties!.controlPlaneConfig!,
      rollout: properties!.rollout!,
      remediation: properties!.remediation!,
      machineNaming: properties!.machineNaming!,
    },
    { required: ['controlPlaneConfig'] },
  );
}

export function talosControlPlaneTemplateCrd(): CustomResourceDefinition {
  const { plural } = V1BETA1.talosControlPlaneTemplate;
  const kind = TALOS_CONTROL_PLANE_TEMPLATE_KIND;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${CONTROLPLANE_GROUP}`, labels: { ...TEMPLATE_CONTRACT_LABELS } },
    spec: {
      group: CONTROLPLANE_GROUP,
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), categories: ['cluster-api'] },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1beta1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: rootSchema('TalosControlPlaneTemplate is the TalosControlPlane a ClusterClass stamps out for each topology Cluster.', {
              spec: object(
                {
                  template: object(
                    { metadata: templateMetadataSchema('TalosControlPlane made from this template'), spec: templateResourceSpec() },
                    { required: ['spec'] },
                  ),
                },
                { required: ['template'] },
              ),
            }, ['spec']),
          },
          additionalPrinterColumns: [
            { name: 'ClusterClass', type: 'string', jsonPath: '.metadata.ownerReferences[?(@.kind=="ClusterClass")].name', description: 'ClusterClass owning this template' },
            AGE,
          ],
        },
      ],
    },
  };
}
