// Reading the committed deploy/ files back as objects, for the unit and integration tests.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { ProviderName } from '../../../src/operator-flags';
import type { ManifestObject } from '../../../scripts/deploy/manifests';
import { CLUSTERCTL_COMPONENTS } from '../../../scripts/gen-deploy';

export const DEPLOY_DIR = resolve(__dirname, '..', '..', '..', 'deploy');

/** Every document of a YAML stream; a syntax error or an empty document fails loudly. */
export function parseManifests(text: string, source: string): ManifestObject[] {
  return parseAllDocuments(text).map((doc, index) => {
    if (doc.errors.length) throw new Error(`${source} document ${index}: ${doc.errors[0]!.message}`);
    const object = doc.toJS() as ManifestObject | null;
    if (!object?.apiVersion || !object.kind) throw new Error(`${source} document ${index} is not a Kubernetes object`);
    return object;
  });
}

export function readManifests(relativePath: string): ManifestObject[] {
  return parseManifests(readFileSync(join(DEPLOY_DIR, relativePath), 'utf8'), relativePath);
}

/** The kustomize base in the order its kustomization lists the files. */
export function kustomizeObjects(): ManifestObject[] {
  const [kustomization] = readManifests('kustomize/kustomization.yaml') as unknown as { resources: string[] }[];
  return kustomization!.resources.flatMap((file) => readManifests(`kustomize/${file}`));
}

export function findObject(objects: readonly ManifestObject[], kind: string, name?: string): ManifestObject {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!found) throw new Error(`no ${kind}${name ? ` ${name}` : ''}`);
  return found;
}

export interface Container {
  args: string[];
  ports: { name: string; containerPort: number }[];
  securityContext: Record<string, unknown>;
  resources: unknown;
  volumeMounts: { name: string; mountPath: string }[];
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
}

export function managerContainer(objects: readonly ManifestObject[]): Container {
  const deployment = findObject(objects, 'Deployment') as unknown as { spec: { template: { spec: { containers: Container[] } } } };
  return deployment.spec.template.spec.containers[0]!;
}

/** clusterctl's envsubst defaults: `${VAR:=default}` → default (what `clusterctl init` does with VAR unset). */
export function substituteClusterctlDefaults(text: string): string {
  return text.replace(/\$\{([A-Z0-9_]+):=([^}]*)\}/g, (_, _name: string, fallback: string) => fallback);
}

export const clusterctlText = (provider: ProviderName) => readFileSync(join(DEPLOY_DIR, 'clusterctl', CLUSTERCTL_COMPONENTS[provider]), 'utf8');

/** A clusterctl provider's components as `clusterctl init` reads them with no variable set. */
export function clusterctlObjects(provider: ProviderName): ManifestObject[] {
  return parseManifests(substituteClusterctlDefaults(clusterctlText(provider)), CLUSTERCTL_COMPONENTS[provider]);
}
