// The demo's cluster is what examples/ declares, read as `kubectl apply -f examples/` reads it: every
// YAML file of the folder in name order, every document of each. `planOf` checks the objects point
// at one another and says what the demo waits for: how many control-plane and worker Machines.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeClient } from '../src/kube/client/client';
import { RestMapper } from '../src/kube/client/rest-mapper';
import type { KubeObject } from '../src/kube/meta/object';
import { yamlFilesIn } from '../test/testbed/testbed';

export const EXAMPLES_DIR = resolve(__dirname, '..', 'examples');

export function readExamples(dir = EXAMPLES_DIR): KubeObject[] {
  return yamlFilesIn(dir).flatMap((file) =>
    parseAllDocuments(readFileSync(file, 'utf8'))
      .map((doc) => doc.toJS() as KubeObject | null)
      .filter((obj): obj is KubeObject => obj !== null));
}

export interface ExamplesPlan {
  cluster: string;
  controlPlane: string;
  controlPlaneReplicas: number;
  workerReplicas: number;
  /** Kubernetes version of every Machine. */
  version: string;
}

interface Ref { kind?: string; name?: string }
type Spec = Record<string, unknown> | undefined;

const specOf = (obj: KubeObject | undefined): Spec => (obj as { spec?: Spec } | undefined)?.spec;

/** The examples' shape the demo relies on; throws naming the first thing that does not hold. */
export function planOf(objects: KubeObject[]): ExamplesPlan {
  const find = (kind: string | undefined, name: string | undefined) => objects.find((o) => o.kind === kind && o.metadata?.name === name);
  const expectRef = (owner: KubeObject, field: string, ref: Ref | undefined) => {
    if (!find(ref?.kind, ref?.name)) throw new Error(`${owner.kind} ${owner.metadata.name}: ${field} ${ref?.kind ?? '?'} ${ref?.name ?? '?'} is not in the examples`);
  };
  const clusters = objects.filter((o) => o.kind === 'Cluster');
  if (clusters.length !== 1) throw new Error(`the examples declare ${clusters.length} Clusters, the demo needs one`);
  const cluster = clusters[0]!;
  const clusterSpec = specOf(cluster) as { infrastructureRef?: Ref; controlPlaneRef?: Ref } | undefined;
  expectRef(cluster, 'infrastructureRef', clusterSpec?.infrastructureRef);
  expectRef(cluster, 'controlPlaneRef', clusterSpec?.controlPlaneRef);
  const controlPlane = find(clusterSpec?.controlPlaneRef?.kind, clusterSpec?.controlPlaneRef?.name)!;
  if (controlPlane.kind !== 'TalosControlPlane') throw new Error(`the Cluster's control plane is a ${controlPlane.kind}, not a TalosControlPlane`);
  const cpSpec = specOf(controlPlane) as { replicas?: number; version?: string; infrastructureTemplate?: Ref };
  expectRef(controlPlane, 'infrastructureTemplate', cpSpec.infrastructureTemplate);

  let workerReplicas = 0;
  for (const deployment of objects.filter((o) => o.kind === 'MachineDeployment')) {
    const spec = specOf(deployment) as { clusterName?: string; replicas?: number; template?: { spec?: { clusterName?: string; version?: string; bootstrap?: { configRef?: Ref }; infrastructureRef?: Ref } } };
    const template = spec.template?.spec;
    for (const [field, name] of [['clusterName', spec.clusterName], ['template clusterName', template?.clusterName]] as const) {
      if (name !== cluster.metadata.name) throw new Error(`MachineDeployment ${deployment.metadata.name}: ${field} ${name} is not the Cluster ${cluster.metadata.name}`);
    }
    if (template?.version !== cpSpec.version) throw new Error(`MachineDeployment ${deployment.metadata.name}: version ${template?.version} differs from the control plane's ${cpSpec.version}`);
    expectRef(deployment, 'bootstrap configRef', template?.bootstrap?.configRef);
    expectRef(deployment, 'infrastructureRef', template?.infrastructureRef);
    workerReplicas += spec.replicas ?? 1;
  }
  return {
    cluster: cluster.metadata.name!,
    controlPlane: controlPlane.metadata.name!,
    controlPlaneReplicas: cpSpec.replicas ?? 1,
    workerReplicas,
    version: cpSpec.version ?? '',
  };
}

/** Server-side apply of each object into `namespace`, in order (`kubectl apply --server-side -n NAMESPACE -f examples/`). */
export async function applyExamples(client: KubeClient, objects: KubeObject[], namespace: string): Promise<KubeObject[]> {
  const mapper = new RestMapper(client);
  const applied: KubeObject[] = [];
  for (const obj of objects) {
    const kind = await mapper.kindForApiVersion(obj.apiVersion!, obj.kind!);
    const body = { ...obj, metadata: { ...obj.metadata, namespace } };
    applied.push(await client.patch(kind, namespace, obj.metadata.name!, body, 'apply', { fieldManager: 'talos-capi-demo', force: true }));
  }
  return applied;
}
