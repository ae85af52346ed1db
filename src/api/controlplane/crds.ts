// The TalosControlPlane CRD: CACPPT's v1alpha3 shape, labelled for the Cluster
// API v1beta2 control-plane contract. The defaults a schema can hold and the
// validation CACPPT lacked (replicas, maxSurge, version skew) are schema and
// CEL, so they hold without the webhook server. The two defaults that depend on
// the object itself (the `v` prefix, the template namespace) are applied where
// they are read, by ./spec.ts.
import { talosConfigSpecSchema } from '../bootstrap/crds';
import {
  boolean,
  contractLabels,
  type CustomResourceDefinition,
  int64,
  type JSONSchemaProps,
  metav1Conditions,
  object,
  rootSchema,
  string,
  v1beta1Conditions,
  type ValidationRule,
} from '../crd';
import { CONTROLPLANE_GROUP, DEFAULT_MAX_SURGE, DEFAULT_REPLICAS, ROLLING_UPDATE, ROLLOUT_STRATEGY_TYPES, TALOS_CONTROL_PLANE_KIND } from './group';
import { V1ALPHA3 } from './resources';
import { VERSION } from './v1alpha3/types';

/** v1alpha3 is the only version; Cluster API v1beta2 (and the older contracts) read it directly. */
export const CONTROLPLANE_CONTRACT_LABELS = contractLabels({
  v1alpha3: [VERSION],
  v1alpha4: [VERSION],
  v1beta1: [VERSION],
  v1beta2: [VERSION],
});

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

function rolloutStrategy(): JSONSchemaProps {
  return object(
    {
      type: string('RollingUpdate (default) replaces outdated Machines one at a time; OnDelete replaces one only when you delete it.', {
        enum: ROLLOUT_STRATEGY_TYPES,
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
    },
    {
      description: 'How outdated Machines are replaced.',
      default: { type: ROLLING_UPDATE, rollingUpdate: { maxSurge: DEFAULT_MAX_SURGE } },
    },
  );
}

function specSchema(): JSONSchemaProps {
  return object(
    {
      replicas: int32('Number of control-plane Machines: odd, because each runs an etcd member. Defaults to 1.', {
        default: DEFAULT_REPLICAS,
        'x-kubernetes-validations': [{ rule: 'self % 2 == 1', message: REPLICAS_ODD_MESSAGE }],
      }),
      version: string(
        'Kubernetes version of the control-plane Machines, e.g. v1.30.2 (the v may be left out). An upgrade moves at most ' +
          'one minor version; a minor version never goes down.',
        { minLength: 2, maxLength: 256, pattern: KUBERNETES_VERSION_PATTERN, 'x-kubernetes-validations': [VERSION_DOWNGRADE_RULE, VERSION_SKIP_RULE] },
      ),
      infrastructureTemplate: objectReference('The infrastructure machine template cloned for each control-plane Machine.'),
      controlPlaneConfig: object(
        {
          init: controlPlaneTalosConfigSpec('Deprecated: the TalosConfig spec of the first control-plane Machine, when set.'),
          controlplane: controlPlaneTalosConfigSpec('The TalosConfig spec of each control-plane Machine.'),
        },
        { description: 'The Talos machine configuration of the control-plane Machines.', required: ['controlplane'] },
      ),
      rolloutStrategy: rolloutStrategy(),
    },
    { description: 'TalosControlPlaneSpec is the desired state of the control plane.', required: ['version', 'infrastructureTemplate', 'controlPlaneConfig'] },
  );
}

function statusSchema(): JSONSchemaProps {
  const count = (description: string) => int32(description);
  return object(
    {
      selector: string('Label selector of the control-plane Machines in string form (for the scale subresource).'),
      replicas: count('Control-plane Machines that exist.'),
      version: string('Lowest Kubernetes version among the control-plane Machines.'),
      updatedReplicas: count('v1beta1 contract: Machines whose spec is up to date.'),
      readyReplicas: count('Control-plane Machines that are ready.'),
      unavailableReplicas: count('v1beta1 contract: replicas that are not ready.'),
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
      lastRemediation: object(
        {
          machine: string('The remediated Machine.', { minLength: 1, maxLength: 253 }),
          time: string('When its remediation started.', { format: 'date-time' }),
          retryCount: count('How many remediations of its retry chain came before it.'),
        },
        { description: 'The last MachineHealthCheck remediation of a control-plane Machine.', required: ['machine', 'time', 'retryCount'] },
      ),
      initialization: object(
        { controlPlaneInitialized: boolean('True once the control plane answers (v1beta2 contract).') },
        { description: 'Initialization observations (v1beta2 contract).', minProperties: 1 },
      ),
      initialized: boolean('v1beta1 contract: true once the control plane answers.'),
      ready: boolean('True while at least one control-plane Machine is ready.'),
      bootstrapped: boolean('True once etcd has been bootstrapped.'),
      failureReason: string('Deprecated: a terminal problem, for machines to interpret.'),
      failureMessage: string('Deprecated: a terminal problem, for humans.'),
      observedGeneration: int64('The latest generation observed by the controller.'),
      conditions: v1beta1Conditions('Cluster API v1beta1-style conditions.'),
      v1beta2: object(
        { conditions: metav1Conditions('Conditions of the control plane: Available, RollingOut, ScalingUp, ScalingDown, Paused, ...') },
        { description: 'Status fields of the Cluster API v1beta2 contract that v1alpha3 cannot keep at their v1beta2 place.' },
      ),
    },
    { description: 'TalosControlPlaneStatus is the observed state of the control plane.' },
  );
}

export function talosControlPlaneCrd(): CustomResourceDefinition {
  const { plural } = V1ALPHA3.talosControlPlane;
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
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: rootSchema(
              'TalosControlPlane is a Talos control plane: its Machines, their etcd, and the workload cluster\'s kubeconfig.',
              { spec: specSchema(), status: statusSchema() },
              ['spec'],
            ),
          },
          subresources: {
            status: {},
            scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
          },
          additionalPrinterColumns: [
            { name: 'Ready', type: 'boolean', jsonPath: '.status.ready', description: 'At least one control-plane Machine is ready' },
            { name: 'Initialized', type: 'boolean', jsonPath: '.status.initialized', description: 'The control plane has answered' },
            { name: 'Replicas', type: 'integer', jsonPath: '.status.replicas', description: 'Control-plane Machines that exist' },
            { name: 'Ready Replicas', type: 'integer', jsonPath: '.status.readyReplicas', description: 'Control-plane Machines that are ready' },
            { name: 'Unavailable Replicas', type: 'integer', jsonPath: '.status.unavailableReplicas', description: 'Control-plane Machines that are not ready' },
          ],
        },
      ],
    },
  };
}
