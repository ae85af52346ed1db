// The simulated infrastructure provider's CRDs carry what Cluster API reads from them: names as
// contract.CalculateCRDName, the v1beta2 contract label, namespaced kinds with List kinds, a
// status subresource on the reconciled kinds, and v1beta2 contract shapes in status.
import { simInfraCrds, SIM_INFRA_CONTRACT_LABELS } from '../../world/infra/crds';
import type { JSONSchemaProps } from '../../../src/api/crd';

const crds = simInfraCrds();
const byKind = Object.fromEntries(crds.map((c) => [c.spec.names.kind, c]));
const schemaOf = (kind: string) => byKind[kind]!.spec.versions[0]!.schema.openAPIV3Schema;
const at = (schema: JSONSchemaProps, ...path: string[]) => path.reduce<JSONSchemaProps | undefined>((s, p) => (p === '[]' ? s?.items : s?.properties?.[p]), schema);

test('four kinds in infrastructure.cluster.x-k8s.io, named plural.group, namespaced, v1alpha1 for the v1beta2 contract', () => {
  expect(crds.map((c) => c.metadata.name)).toEqual([
    'simclusters.infrastructure.cluster.x-k8s.io',
    'simmachines.infrastructure.cluster.x-k8s.io',
    'simclustertemplates.infrastructure.cluster.x-k8s.io',
    'simmachinetemplates.infrastructure.cluster.x-k8s.io',
  ]);
  expect(SIM_INFRA_CONTRACT_LABELS).toEqual({ 'cluster.x-k8s.io/v1beta2': 'v1alpha1' });
  for (const crd of crds) {
    expect(crd.metadata.labels).toEqual(SIM_INFRA_CONTRACT_LABELS);
    expect(crd.spec.scope).toBe('Namespaced');
    expect(crd.spec.names.listKind).toBe(`${crd.spec.names.kind}List`);
    expect(crd.spec.versions.map((v) => [v.name, v.served, v.storage])).toEqual([['v1alpha1', true, true]]);
  }
});

test('SimCluster and SimMachine have a status subresource; templates do not', () => {
  const withStatus = crds.filter((c) => c.spec.versions[0]!.subresources?.status).map((c) => c.spec.names.kind);
  expect(withStatus).toEqual(['SimCluster', 'SimMachine']);
});

test('v1beta2 contract shapes: provisioned, failure domains as a list keyed by name, addresses, conditions', () => {
  const cluster = schemaOf('SimCluster');
  expect(at(cluster, 'status', 'initialization', 'provisioned')?.type).toBe('boolean');
  const domains = at(cluster, 'status', 'failureDomains')!;
  expect(domains).toMatchObject({ type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] });
  expect(Object.keys(domains.items!.properties!)).toEqual(['name', 'controlPlane', 'attributes']);
  expect(at(cluster, 'spec', 'failureDomains')?.items).toEqual(domains.items);
  expect(Object.keys(at(cluster, 'spec', 'controlPlaneEndpoint')!.properties!)).toEqual(['host', 'port']);
  expect(at(cluster, 'status', 'conditions')?.['x-kubernetes-list-map-keys']).toEqual(['type']);

  const machine = schemaOf('SimMachine');
  expect(Object.keys(at(machine, 'spec')!.properties!)).toEqual(['providerID', 'failureDomain', 'bootDelayMs', 'talosMode']);
  expect(at(machine, 'spec', 'talosMode')?.enum).toEqual(['metal', 'container', 'cloud']);
  expect(at(machine, 'status', 'initialization', 'provisioned')?.type).toBe('boolean');
  expect(at(machine, 'status', 'addresses', '[]', 'type')?.enum).toEqual(['Hostname', 'ExternalIP', 'InternalIP', 'ExternalDNS', 'InternalDNS']);
  for (const field of ['nodeId', 'nodeState', 'bootError', 'conditions']) expect(at(machine, 'status', field)).toBeDefined();
});

test('templates embed the object\'s spec under spec.template.spec', () => {
  expect(at(schemaOf('SimMachineTemplate'), 'spec', 'template', 'spec')).toEqual(at(schemaOf('SimMachine'), 'spec'));
  expect(at(schemaOf('SimClusterTemplate'), 'spec', 'template', 'spec')).toEqual(at(schemaOf('SimCluster'), 'spec'));
  expect(at(schemaOf('SimMachineTemplate'), 'spec')?.required).toEqual(['template']);
});
