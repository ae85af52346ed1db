// The chart rendered by our Go-template subset evaluator (go-template.ts) against its own
// values.yaml: no helm binary here, so this checks our templates' logic and YAML, not helm itself.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseOperatorFlags } from '../../../src/operator-flags';
import type { ManifestObject } from '../../../scripts/deploy/manifests';
import { DEPLOY_DIR, kustomizeObjects, managerContainer, parseManifests } from './deploy-files';
import { renderGoTemplate } from './go-template';

const CHART_DIR = join(DEPLOY_DIR, 'helm', 'talos-capi');
const chartValues = () => parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as Record<string, unknown>;

function renderChart(overrides: Record<string, unknown> = {}, namespace = 'talos-capi-system'): ManifestObject[] {
  const chart = parse(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as { name: string; version: string };
  const scope = {
    Values: { ...chartValues(), ...overrides },
    Release: { Name: 'capi-talos', Namespace: namespace, Service: 'Helm' },
    Chart: { Name: chart.name, Version: chart.version },
  };
  return readdirSync(join(CHART_DIR, 'templates')).sort().flatMap((file) => {
    const text = renderGoTemplate(readFileSync(join(CHART_DIR, 'templates', file), 'utf8'), scope);
    return parseManifests(text, file);
  });
}

/** What the chart adds on top of the kustomize objects: release labels and the CRD keep policy. */
function withoutHelmExtras(object: ManifestObject): ManifestObject {
  const strip = (labels: unknown) =>
    Object.fromEntries(Object.entries((labels ?? {}) as Record<string, string>).filter(([key]) => !/^(app\.kubernetes\.io\/(instance|managed-by)|helm\.sh\/chart)$/.test(key)));
  const copy = JSON.parse(JSON.stringify(object)) as ManifestObject & { spec?: { template?: { metadata: { labels: unknown } } } };
  copy.metadata.labels = strip(copy.metadata.labels);
  const annotations = copy.metadata.annotations as Record<string, string> | undefined;
  if (annotations) delete annotations['helm.sh/resource-policy'];
  if (copy.spec?.template) copy.spec.template.metadata.labels = strip(copy.spec.template.metadata.labels);
  return copy;
}

const byKindAndName = (objects: ManifestObject[]) => [...objects].sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));

describe('Helm chart', () => {
  it('renders with its default values to the kustomize base objects (less the Namespace, plus release labels)', () => {
    const rendered = renderChart();
    expect(byKindAndName(rendered.map(withoutHelmExtras))).toEqual(byKindAndName(kustomizeObjects().filter((o) => o.kind !== 'Namespace')));
    for (const object of rendered) expect(object.metadata.labels).toMatchObject({ 'app.kubernetes.io/instance': 'capi-talos', 'helm.sh/chart': 'talos-capi-0.1.0' });
    const crds = rendered.filter((o) => o.kind === 'CustomResourceDefinition');
    expect(crds.map((crd) => (crd.metadata.annotations as Record<string, string>)['helm.sh/resource-policy'])).toEqual(['keep', 'keep', 'keep']);
  });

  it('installs into the release namespace: objects, binding subjects, webhook clients and certificate names follow it', () => {
    const text = JSON.stringify(renderChart({}, 'capi-providers'));
    expect(text).not.toContain('talos-capi-system');
    expect(text).toContain('"dnsNames":["talos-capi-webhook-service.capi-providers.svc"');
    expect(text).toContain('"cert-manager.io/inject-ca-from":"capi-providers/talos-capi-serving-cert"');
  });

  it('without cert-manager: no Issuer/Certificate, no injection annotation, the given caBundle on every webhook client', () => {
    const rendered = renderChart({ certManager: { enabled: false }, webhook: { caBundle: 'Q0E=' } });
    expect(rendered.filter((o) => o.metadata.annotations && 'cert-manager.io/inject-ca-from' in (o.metadata.annotations as object))).toEqual([]);
    expect(rendered.map((o) => o.kind)).not.toEqual(expect.arrayContaining(['Issuer']));
    expect(rendered.map((o) => o.kind)).not.toEqual(expect.arrayContaining(['Certificate']));
    const caBundles = [...JSON.stringify(rendered).matchAll(/"caBundle":"([^"]*)"/g)].map((m) => m[1]);
    expect(caBundles).toEqual(['Q0E=', 'Q0E=', 'Q0E=']);
  });

  it('turns replicas, image, resources, feature gates, watch filter and free-form flags into the Deployment', () => {
    const rendered = renderChart({
      replicas: 2,
      image: { repository: 'registry.example/talos-capi', tag: '0.1.1', pullPolicy: 'Always' },
      resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '1', memory: '1Gi' } },
      featureGates: { MachinePool: false },
      watchFilter: 'team-a',
      flags: { 'kube-api-qps': 50, 'log-level': 'debug' },
    });
    const deployment = rendered.find((o) => o.kind === 'Deployment') as unknown as { spec: { replicas: number } };
    expect(deployment.spec.replicas).toBe(2);
    const container = managerContainer(rendered) as ReturnType<typeof managerContainer> & { image: string; imagePullPolicy: string };
    expect([container.image, container.imagePullPolicy]).toEqual(['registry.example/talos-capi:0.1.1', 'Always']);
    expect(container.resources).toEqual({ requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '1', memory: '1Gi' } });
    expect(parseOperatorFlags(container.args)).toMatchObject({
      featureGates: { MachinePool: false }, watchFilter: 'team-a', kubeApiQps: 50, logLevel: 'debug', leaderElect: true,
    });
  });

  it('values.schema.json describes every default value and rejects unknown top-level keys', () => {
    const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as { properties: Record<string, unknown>; additionalProperties: boolean };
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(chartValues()).sort());
    expect(schema.additionalProperties).toBe(false);
  });
});
