// CRDs of the simulated infrastructure provider, built with the same schema pieces as ours
// (src/api/crd.ts). One version, v1alpha1, speaking the Cluster API v1beta2 contract; no
// conversion. Typed specs; status is typed too so that the API server keeps what we write.
import type { KubeClient } from '../../../src/kube/client/client';
import { isAlreadyExists } from '../../../src/kube/client/api-error';
import type { ResourceKind } from '../../../src/kube/client/resource';
import {
  boolean,
  contractLabels,
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
} from '../../../src/api/crd';
import { MACHINE_ADDRESS_TYPES } from '../../../src/api/capi/v1beta2/types';
import { INFRA_GROUP, INFRA_VERSION, SimClusterKind, SimClusterTemplateKind, SimMachineKind, SimMachineTemplateKind, TALOS_MODES } from './api';

/** Cluster API picks v1alpha1 for the v1beta2 contract; we speak no older contract (no status.ready). */
export const SIM_INFRA_CONTRACT_LABELS = contractLabels({ v1beta2: [INFRA_VERSION] });

const NODE_STATES = ['booting', 'running', 'failed', 'stopped', 'rebooting', 'resetting', 'maintenance'] as const;

function apiEndpoint(description: string): JSONSchemaProps {
  return object(
    {
      host: string('Host name or IP address the API server serves on.', { maxLength: 512 }),
      port: { type: 'integer', format: 'int32', minimum: 0, description: 'Port the API server serves on.' },
    },
    { description },
  );
}

function failureDomains(description: string): JSONSchemaProps {
  return {
    type: 'array',
    description,
    maxItems: 100,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['name'],
    items: object(
      {
        name: string('Unique name of the failure domain.', { minLength: 1, maxLength: 256 }),
        controlPlane: boolean('The failure domain is suitable for control-plane machines.'),
        attributes: stringMap('Free-form attributes of the failure domain.'),
      },
      { required: ['name'] },
    ),
  };
}

function initialization(description: string): JSONSchemaProps {
  return object({ provisioned: boolean(description) }, { description: 'Initialization observations (Cluster API contract).', minProperties: 1 });
}

export function simClusterSpecSchema(): JSONSchemaProps {
  return object(
    {
      controlPlaneEndpoint: apiEndpoint('Endpoint of the workload cluster\'s API server; allocated on a loopback address when empty.'),
      failureDomains: failureDomains('Failure domains offered to the cluster\'s machines; copied to status.failureDomains.'),
    },
    { description: 'SimClusterSpec is the desired state of a simulated cluster\'s infrastructure.' },
  );
}

export function simMachineSpecSchema(): JSONSchemaProps {
  return object(
    {
      providerID: string('sim://<namespace>/<name>; set by the controller.', { minLength: 1, maxLength: 512 }),
      failureDomain: string('Failure domain the machine is placed in.', { minLength: 1, maxLength: 256 }),
      bootDelayMs: { ...int64('How long the simulated boot sequence stays in progress, in milliseconds.'), minimum: 0 },
      talosMode: string('Runtime mode the node validates its config for (default metal).', { enum: TALOS_MODES }),
    },
    { description: 'SimMachineSpec is the desired state of one simulated Talos node.' },
  );
}

function simClusterStatusSchema(): JSONSchemaProps {
  return object(
    {
      initialization: initialization('True once the control-plane endpoint is allocated. Part of the Cluster API contract.'),
      failureDomains: failureDomains('Failure domains of the cluster (Cluster API contract).'),
      workloadServer: string('URL of the workload cluster\'s API server once it runs.'),
      observedGeneration: int64('The latest generation observed by the controller.'),
      conditions: metav1Conditions('Conditions of the SimCluster: Ready, Paused.'),
    },
    { description: 'SimClusterStatus is the observed state of a SimCluster.' },
  );
}

function simMachineStatusSchema(): JSONSchemaProps {
  return object(
    {
      initialization: initialization('True once the simulated node runs. Part of the Cluster API contract.'),
      addresses: {
        type: 'array',
        description: 'Addresses of the node (Cluster API contract).',
        maxItems: 32,
        items: object(
          { type: string('Address type.', { enum: MACHINE_ADDRESS_TYPES }), address: string('The address.', { minLength: 1, maxLength: 256 }) },
          { required: ['type', 'address'] },
        ),
      },
      failureDomain: string('Failure domain the machine is placed in.', { minLength: 1, maxLength: 256 }),
      nodeId: string('ID of the node in the Talos simulator.'),
      nodeState: string('State of the simulated node.', { enum: NODE_STATES }),
      bootError: string('Talos\'s message when the node rejected its machine config.'),
      observedGeneration: int64('The latest generation observed by the controller.'),
      conditions: metav1Conditions('Conditions of the SimMachine: Ready, Paused.'),
    },
    { description: 'SimMachineStatus is the observed state of a SimMachine.' },
  );
}

const AGE: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
const CLUSTER_COLUMN: PrinterColumn = { name: 'Cluster', type: 'string', jsonPath: ".metadata.labels['cluster\\.x-k8s\\.io/cluster-name']" };

function crd(kind: ResourceKind, schema: JSONSchemaProps, columns: PrinterColumn[], status: boolean): CustomResourceDefinition {
  const version: CrdVersion = {
    name: INFRA_VERSION,
    served: true,
    storage: true,
    schema: { openAPIV3Schema: schema },
    ...(status ? { subresources: { status: {} } } : {}),
    additionalPrinterColumns: [...columns, AGE],
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${kind.plural}.${INFRA_GROUP}`, labels: { ...SIM_INFRA_CONTRACT_LABELS } },
    spec: {
      group: INFRA_GROUP,
      names: { kind: kind.kind, listKind: `${kind.kind}List`, plural: kind.plural, singular: kind.kind.toLowerCase(), categories: ['cluster-api'] },
      scope: 'Namespaced',
      versions: [version],
    },
  };
}

function templateSchema(description: string, spec: JSONSchemaProps): JSONSchemaProps {
  const template = object(
    {
      metadata: object(
        { labels: stringMap('Labels for the objects made from this template.'), annotations: stringMap('Annotations for the objects made from this template.') },
        { description: 'Metadata Cluster API copies onto each object made from this template.' },
      ),
      spec,
    },
    { required: ['spec'] },
  );
  return rootSchema(description, { spec: object({ template }, { required: ['template'] }) }, ['spec']);
}

export function simInfraCrds(): CustomResourceDefinition[] {
  return [
    crd(
      SimClusterKind,
      rootSchema('SimCluster is the infrastructure of a simulated cluster: its control-plane endpoint and workload apiserver.', {
        spec: simClusterSpecSchema(),
        status: simClusterStatusSchema(),
      }),
      [
        CLUSTER_COLUMN,
        { name: 'Provisioned', type: 'boolean', jsonPath: '.status.initialization.provisioned' },
        { name: 'Endpoint', type: 'string', jsonPath: '.spec.controlPlaneEndpoint.host' },
      ],
      true,
    ),
    crd(
      SimMachineKind,
      rootSchema('SimMachine is one simulated Talos node booted from its Machine\'s bootstrap data.', {
        spec: simMachineSpecSchema(),
        status: simMachineStatusSchema(),
      }),
      [
        CLUSTER_COLUMN,
        { name: 'State', type: 'string', jsonPath: '.status.nodeState' },
        { name: 'ProviderID', type: 'string', jsonPath: '.spec.providerID' },
      ],
      true,
    ),
    crd(SimClusterTemplateKind, templateSchema('SimClusterTemplate stamps out SimClusters (ClusterClass).', simClusterSpecSchema()), [], false),
    crd(SimMachineTemplateKind, templateSchema('SimMachineTemplate stamps out SimMachines (MachineDeployments, control planes).', simMachineSpecSchema()), [], false),
  ];
}

const CrdKind: ResourceKind = { group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', namespaced: false };

interface CrdObject extends CustomResourceDefinition {
  status?: { conditions?: { type: string; status: string }[] };
}

/** Creates or replaces the CRDs, then waits until the API server serves them (Established). */
export async function installSimInfraCrds(client: KubeClient, timeoutMs = 60_000): Promise<void> {
  const crds = simInfraCrds();
  for (const definition of crds) {
    try {
      await client.create(CrdKind, { ...definition, metadata: { ...definition.metadata } });
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      const current = await client.get<CrdObject & { metadata: { resourceVersion?: string } }>(CrdKind, '', definition.metadata.name);
      await client.replace(CrdKind, { ...definition, metadata: { ...definition.metadata, resourceVersion: current.metadata.resourceVersion } });
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (const definition of crds) {
    for (;;) {
      const current = await client.get<CrdObject>(CrdKind, '', definition.metadata.name);
      if (current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${definition.metadata.name} not Established within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
