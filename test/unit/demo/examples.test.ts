// examples/ (what `make demo` applies, what users copy) parses and declares what the demo waits
// for: one Cluster whose control plane is a TalosControlPlane of 3, and 2 workers of the same cluster.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { API_VERSION as CAPI_API_VERSION } from '../../../src/api/capi/v1beta2/types';
import type { CustomResourceDefinition } from '../../../src/api/crd';
import type { KubeObject } from '../../../src/kube/meta/object';
import { planOf, readExamples } from '../../../scripts/demo-examples';
import { simInfraCrds } from '../../world/infra/crds';
import { yamlFilesIn } from '../../testbed/testbed';

const CRD_DIR = resolve(__dirname, '..', '..', '..', 'crds');
const servedVersions = (crd: CustomResourceDefinition) =>
  crd.spec.versions.filter((v) => v.served).map((v) => `${crd.spec.group}/${v.name} ${crd.spec.names.kind}`);

const examples = readExamples();
type Tree = Record<string, unknown>;

/** The examples with one field of the first object of `kind` set (or deleted, with undefined). */
function withChange(kind: string, path: string[], value: unknown): KubeObject[] {
  const copies = structuredClone(examples);
  let node = copies.find((obj) => obj.kind === kind) as unknown as Tree;
  for (const key of path.slice(0, -1)) node = node[key] as Tree;
  if (value === undefined) delete node[path.at(-1)!];
  else node[path.at(-1)!] = value;
  return copies;
}

describe('examples/', () => {
  it('declares one cluster of 3 control-plane nodes and 2 workers, all on one Kubernetes version', () => {
    expect(planOf(examples)).toEqual({ cluster: 'demo', controlPlane: 'demo-control-plane', controlPlaneReplicas: 3, workerReplicas: 2, version: 'v1.34.1' });
  });

  it('holds the kinds users apply, each in a version its CRD serves, named, without a namespace (kubectl apply -n chooses it)', () => {
    const served = new Set([
      ...yamlFilesIn(CRD_DIR).flatMap((file) => servedVersions(parse(readFileSync(file, 'utf8')) as CustomResourceDefinition)),
      ...simInfraCrds().flatMap(servedVersions),
      ...['Cluster', 'MachineDeployment'].map((kind) => `${CAPI_API_VERSION} ${kind}`),
    ]);
    expect(examples.map((o) => o.kind).sort()).toEqual(
      ['Cluster', 'MachineDeployment', 'SimCluster', 'SimMachineTemplate', 'SimMachineTemplate', 'TalosConfigTemplate', 'TalosControlPlane']);
    for (const obj of examples) {
      expect(served).toContain(`${obj.apiVersion} ${obj.kind}`);
      expect(obj.metadata.name).toMatch(/^[a-z0-9-]+$/);
      expect(obj.metadata.namespace).toBeUndefined();
    }
  });

  it('names the install disk in every Talos config, as bare metal needs', () => {
    const patchesOf = (obj: KubeObject) => {
      const spec = (obj as unknown as { spec: { controlPlaneConfig?: { controlplane: Tree }; template?: { spec: Tree } } }).spec;
      return (spec.controlPlaneConfig?.controlplane ?? spec.template?.spec)?.configPatches;
    };
    const configs = examples.filter((o) => o.kind === 'TalosControlPlane' || o.kind === 'TalosConfigTemplate');
    expect(configs).toHaveLength(2);
    for (const config of configs) expect(patchesOf(config)).toContainEqual({ op: 'replace', path: '/machine/install/disk', value: '/dev/vda' });
  });
});

describe('planOf', () => {
  it('refuses a MachineDeployment of another cluster', () => {
    expect(() => planOf(withChange('MachineDeployment', ['spec', 'clusterName'], 'other')))
      .toThrow('MachineDeployment demo-workers: clusterName other is not the Cluster demo');
  });

  it('refuses workers on another Kubernetes version than the control plane', () => {
    expect(() => planOf(withChange('MachineDeployment', ['spec', 'template', 'spec', 'version'], 'v1.33.0')))
      .toThrow("version v1.33.0 differs from the control plane's v1.34.1");
  });

  it('refuses a reference to an object the examples do not hold', () => {
    expect(() => planOf(withChange('TalosControlPlane', ['spec', 'infrastructureTemplate', 'name'], 'missing')))
      .toThrow('TalosControlPlane demo-control-plane: infrastructureTemplate SimMachineTemplate missing is not in the examples');
    expect(() => planOf(withChange('Cluster', ['spec', 'controlPlaneRef'], undefined)))
      .toThrow('Cluster demo: controlPlaneRef ? ? is not in the examples');
  });

  it('needs exactly one Cluster', () => {
    expect(() => planOf(examples.filter((o) => o.kind !== 'Cluster'))).toThrow('the examples declare 0 Clusters, the demo needs one');
  });

  it('counts the workers of every MachineDeployment (1 when replicas is left out)', () => {
    const [second] = withChange('MachineDeployment', ['spec', 'replicas'], undefined).filter((o) => o.kind === 'MachineDeployment');
    second!.metadata.name = 'demo-more-workers';
    expect(planOf([...examples, second!]).workerReplicas).toBe(3);
  });
});

describe('readExamples', () => {
  it('reads every .yaml/.yml file of a folder in name order, every document, skipping empty ones and other files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'examples-'));
    try {
      writeFileSync(join(dir, 'b.yml'), 'kind: B\nmetadata: {name: b}\n');
      writeFileSync(join(dir, 'a.yaml'), '# only a comment\n---\nkind: A1\nmetadata: {name: a1}\n---\nkind: A2\nmetadata: {name: a2}\n');
      writeFileSync(join(dir, 'README.md'), 'kind: NotYaml\n');
      expect(readExamples(dir).map((o) => o.kind)).toEqual(['A1', 'A2', 'B']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
