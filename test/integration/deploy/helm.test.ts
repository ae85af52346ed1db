// The Helm chart checked by the real helm v4 (built from the Go module proxy, see test/tools):
// lint, template with several value sets, the values schema, NOTES, a server-side dry run of what
// it renders against the test bed, and its lookup of the webhook certificate an earlier release made.
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SecretKind } from '../../../src/kube/client/resource';
import type { KubeClient } from '../../../src/kube/client/client';
import { parseOperatorFlags } from '../../../src/operator-flags';
import { COMBINED_INSTALL, type ManifestObject } from '../../../scripts/deploy/manifests';
import { HELM, runTool, toolBinary, toolVersion } from '../../tools/tools';
import { DEPLOY_DIR, findObject, kustomizeObjects, managerContainer, parseManifests } from '../../unit/deploy/deploy-files';
import { FOREIGN_KINDS, deleteClusterScoped, retarget, serverApply, testbedClient } from './server-apply';

const CHART_DIR = join(DEPLOY_DIR, 'helm', 'talos-capi');
const RELEASE = 'capi-talos';
const NAMESPACE = COMBINED_INSTALL.namespace;
const CERT_MANAGER_OFF = { certManager: { enabled: false } };

let helm: string;
let dir: string;

beforeAll(async () => {
  helm = await toolBinary(HELM);
  dir = mkdtempSync(join(tmpdir(), 'talos-capi-helm-'));
}, 30 * 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** helm with its own HOME and state folders, and a cluster only when asked for; its stdout (stderr too when it is to fail). */
async function helmRun(args: string[], options: { kubeconfig?: string; fail?: boolean } = {}): Promise<string> {
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  const env = {
    HOME: home, HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data'),
    ...(options.kubeconfig ? { KUBECONFIG: options.kubeconfig } : {}),
  };
  const run = await runTool(helm, args, env);
  if ((run.code !== 0) !== (options.fail ?? false)) throw new Error(`helm ${args.join(' ')} exited ${run.code}: ${run.stderr}${run.stdout}`);
  return options.fail ? run.stderr + run.stdout : run.stdout;
}

function valuesFile(values: Record<string, unknown>): string {
  const file = join(dir, `values-${randomBytes(4).toString('hex')}.json`);
  writeFileSync(file, JSON.stringify(values));
  return file;
}

async function template(values: Record<string, unknown> = {}, namespace = NAMESPACE, extra: string[] = [], kubeconfig?: string): Promise<ManifestObject[]> {
  const out = await helmRun(['template', RELEASE, CHART_DIR, '-n', namespace, '-f', valuesFile(values), ...extra], { kubeconfig });
  // Each template file starts with a comment-only document (our header), which is no object.
  return parseManifests(out.split(/^---$/m).filter((doc) => /^[a-z]/im.test(doc)).join('---\n'), 'helm template');
}

/** What the chart adds on top of the kustomize objects: release labels and the CRD keep policy. */
function withoutHelmExtras(object: ManifestObject): ManifestObject {
  const strip = (labels: unknown) =>
    Object.fromEntries(Object.entries((labels ?? {}) as Record<string, string>).filter(([key]) => !/^(app\.kubernetes\.io\/(instance|managed-by)|helm\.sh\/chart)$/.test(key)));
  const copy = JSON.parse(JSON.stringify(object)) as ManifestObject & { spec?: { template?: { metadata: { labels: unknown } } } };
  copy.metadata.labels = strip(copy.metadata.labels);
  const annotations = copy.metadata.annotations as Record<string, string> | undefined;
  if (annotations) delete annotations['helm.sh/resource-policy'];
  if (annotations && !Object.keys(annotations).length) delete copy.metadata.annotations;
  if (copy.spec?.template) copy.spec.template.metadata.labels = strip(copy.spec.template.metadata.labels);
  return copy;
}

const byKindAndName = (objects: ManifestObject[]) => [...objects].sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));
const kinds = (objects: ManifestObject[]) => objects.map((o) => o.kind);
const caBundles = (objects: ManifestObject[]) => [...JSON.stringify(objects).matchAll(/"caBundle":"([^"]*)"/g)].map((m) => m[1]);

describe('the real helm', () => {
  it('is the helm release the tool module requires', async () => {
    expect(await helmRun(['version', '--short'])).toMatch(new RegExp(`^${toolVersion(HELM).replaceAll('.', '\\.')}`));
  });

  it.each([
    ['default values', {}],
    ['cert-manager off, ServiceMonitor on, a watch filter and flags', { ...CERT_MANAGER_OFF, metrics: { serviceMonitor: { enabled: true } }, watchFilter: 'a', flags: { 'kube-api-qps': 50 } }],
  ])('lints the chart with %s, also --strict', async (_name, values) => {
    for (const strict of [[], ['--strict']]) {
      const out = await helmRun(['lint', CHART_DIR, ...strict, '-f', valuesFile(values)]);
      expect(out).toContain('1 chart(s) linted, 0 chart(s) failed');
      expect(out).not.toMatch(/\[(WARNING|ERROR)\]/);
    }
  });

  it('renders with its default values to the kustomize base objects (less the Namespace, plus release labels)', async () => {
    const rendered = await template();
    expect(byKindAndName(rendered.map(withoutHelmExtras))).toEqual(byKindAndName(kustomizeObjects().filter((o) => o.kind !== 'Namespace')));
    for (const object of rendered) expect(object.metadata.labels).toMatchObject({ 'app.kubernetes.io/instance': RELEASE, 'helm.sh/chart': 'talos-capi-0.1.0' });
    const crds = rendered.filter((o) => o.kind === 'CustomResourceDefinition');
    expect(crds.map((crd) => (crd.metadata.annotations as Record<string, string>)['helm.sh/resource-policy'])).toEqual(Array(4).fill('keep'));
    expect(kinds(rendered)).not.toContain('ServiceMonitor');
  });

  it('installs into the release namespace: objects, binding subjects, webhook clients and certificate names follow it', async () => {
    const text = JSON.stringify(await template({}, 'capi-providers'));
    expect(text).not.toContain(NAMESPACE);
    expect(text).toContain('"dnsNames":["talos-capi-webhook-service.capi-providers.svc"');
    expect(text).toContain('"cert-manager.io/inject-ca-from":"capi-providers/talos-capi-serving-cert"');
  });

  it('without cert-manager: a CA and serving certificate of its own, in the Secret the Deployment mounts and in every webhook client', async () => {
    const rendered = await template(CERT_MANAGER_OFF, 'capi-providers');
    expect(kinds(rendered)).not.toEqual(expect.arrayContaining(['Issuer']));
    expect(kinds(rendered)).not.toEqual(expect.arrayContaining(['Certificate']));
    expect(JSON.stringify(rendered)).not.toContain('cert-manager.io');
    const secret = findObject(rendered, 'Secret', 'talos-capi-webhook-service-cert') as unknown as { type: string; data: Record<string, string> };
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(JSON.stringify(findObject(rendered, 'Deployment'))).toContain('"secretName":"talos-capi-webhook-service-cert"');
    // Two CRD conversions and the validating webhook, all with the one CA.
    // Three CRD conversions and the validating webhook.
    expect(caBundles(rendered)).toEqual(Array(4).fill(secret.data['ca.crt']));
    const pem = (field: string) => Buffer.from(secret.data[field]!, 'base64').toString();
    const ca = new X509Certificate(pem('ca.crt'));
    const serving = new X509Certificate(pem('tls.crt'));
    expect(serving.verify(ca.publicKey)).toBe(true);
    expect(serving.subjectAltName).toBe('DNS:talos-capi-webhook-service.capi-providers.svc, DNS:talos-capi-webhook-service.capi-providers.svc.cluster.local');
    expect(serving.checkPrivateKey(createPrivateKey(pem('tls.key')))).toBe(true);
    // Nothing to look up without a cluster: every render makes a new CA.
    expect(findObject(await template(CERT_MANAGER_OFF, 'capi-providers'), 'Secret').data).not.toEqual(secret.data);
  });

  it('ServiceMonitor on: it selects the metrics Service (not the webhook one) and scrapes its port over HTTPS with its token, or HTTP when metrics are insecure', async () => {
    const rendered = await template({ metrics: { serviceMonitor: { enabled: true, interval: '15s', labels: { release: 'prometheus' } } } });
    const monitor = findObject(rendered, 'ServiceMonitor') as unknown as {
      metadata: { labels: Record<string, string> };
      spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; interval: string; path: string }[] };
    };
    expect(monitor.metadata.labels).toMatchObject({ release: 'prometheus', 'app.kubernetes.io/instance': RELEASE });
    const selected = rendered.filter((o) => o.kind === 'Service' && Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => (o.metadata.labels as Record<string, string>)[k] === v));
    expect(selected.map((o) => o.metadata.name)).toEqual(['talos-capi-metrics-service']);
    const ports = (selected[0] as unknown as { spec: { ports: { name: string }[] } }).spec.ports.map((p) => p.name);
    const tlsConfig = { insecureSkipVerify: true };
    expect(monitor.spec.endpoints).toEqual([{
      port: 'metrics', path: '/metrics', scheme: 'https', interval: '15s', bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token', tlsConfig,
    }]);
    expect(ports).toContain(monitor.spec.endpoints[0]!.port);
    const insecure = await template({ metrics: { insecure: true, serviceMonitor: { enabled: true } } });
    expect((findObject(insecure, 'ServiceMonitor').spec as { endpoints: unknown[] }).endpoints).toEqual([
      { port: 'metrics', path: '/metrics', scheme: 'http', interval: '30s', tlsConfig },
    ]);
    expect(parseOperatorFlags(managerContainer(insecure).args)).toMatchObject({ insecureDiagnostics: true, metricsAddr: ':8443' });
  });

  it('turns replicas, image, resources, feature gates, watch filter and free-form flags into the Deployment', async () => {
    const rendered = await template({
      replicas: 2,
      image: { repository: 'registry.example/talos-capi', tag: '0.1.1', pullPolicy: 'Always' },
      resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '1', memory: '1Gi' } },
      featureGates: { MachinePool: false },
      watchFilter: 'team-a',
      flags: { 'kube-api-qps': 50, 'log-level': 'debug' },
    });
    const deployment = findObject(rendered, 'Deployment') as unknown as { spec: { replicas: number } };
    expect(deployment.spec.replicas).toBe(2);
    const container = managerContainer(rendered) as ReturnType<typeof managerContainer> & { image: string; imagePullPolicy: string };
    expect([container.image, container.imagePullPolicy]).toEqual(['registry.example/talos-capi:0.1.1', 'Always']);
    expect(container.resources).toEqual({ requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '1', memory: '1Gi' } });
    expect(parseOperatorFlags(container.args)).toMatchObject({
      featureGates: { MachinePool: false }, watchFilter: 'team-a', kubeApiQps: 50, logLevel: 'debug', leaderElect: true, controllers: ['bootstrap', 'controlplane'],
    });
  });

  it('values.schema.json: describes every default value, and helm refuses unknown keys and bad values', async () => {
    const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as { properties: Record<string, unknown> };
    const defaults = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(defaults).sort());
    const refused = async (values: Record<string, unknown>) => helmRun(['template', RELEASE, CHART_DIR, '-f', valuesFile(values)], { fail: true });
    expect(await refused({ nope: 1 })).toContain("additional properties 'nope' not allowed");
    expect(await refused({ replicas: 0 })).toContain("at '/replicas': minimum: got 0, want 1");
    expect(await refused({ watchFilter: 'not a label value' })).toContain("at '/watchFilter'");
    expect(await refused({ metrics: { serviceMonitor: { interval: 'often' } } })).toContain("at '/metrics/serviceMonitor/interval'");
  });

  it('prints NOTES saying how to check the Deployment and where the certificate and metrics come from', async () => {
    const notes = (out: string) => out.slice(out.indexOf('NOTES:'));
    const install = (values: Record<string, unknown>) => helmRun(['install', RELEASE, CHART_DIR, '-n', 'capi-providers', '--dry-run=client', '-f', valuesFile(values)]);
    const defaults = notes(await install({}));
    expect(defaults).toContain('kubectl -n capi-providers rollout status deployment/talos-capi-controller-manager');
    expect(defaults).toContain('the cert-manager Certificate talos-capi-serving-cert');
    const custom = notes(await install({ ...CERT_MANAGER_OFF, metrics: { serviceMonitor: { enabled: true } }, watchFilter: 'team-a' }));
    expect(custom).toContain('generated by this chart into Secret talos-capi-webhook-service-cert');
    expect(custom).toContain('scraped through ServiceMonitor talos-capi-metrics');
    expect(custom).toContain('cluster.x-k8s.io/watch-filter=team-a');
  });
});

describe('what helm renders, on the test bed', () => {
  let client: KubeClient;
  const suffix = randomBytes(3).toString('hex');
  const namespace = `talos-capi-helm-${suffix}`;
  const namespaceObject: ManifestObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } };

  beforeAll(async () => {
    client = testbedClient();
    await serverApply(client, namespaceObject, false);
  });

  afterAll(async () => {
    if (client) await deleteClusterScoped(client, [namespaceObject], ['Namespace']);
  });

  it.each([
    ['default values', {}, 14],
    ['cert-manager off, ServiceMonitor on', { ...CERT_MANAGER_OFF, metrics: { serviceMonitor: { enabled: true } } }, 15],
  ])('with %s: every object but cert-manager\'s and the ServiceMonitor passes a server-side apply dry run', async (_name, values, count) => {
    const objects = retarget(await template(values, namespace), namespace, namespace, suffix);
    const checked = objects.filter((o) => !FOREIGN_KINDS.has(o.kind));
    for (const object of checked) {
      const result = await serverApply(client, object, true);
      expect([result.kind, result.metadata.name]).toEqual([object.kind, object.metadata.name]);
    }
    // CRDs (3), RBAC (5, and the metrics reader ClusterRole), Deployment, Services (2), webhook configuration; the Secret when the chart makes the certificate.
    expect(checked.length).toBe(count);
  });

  it('an upgrade keeps the certificate an earlier release generated: helm looks the Secret up (--dry-run=server)', async () => {
    const first = await template(CERT_MANAGER_OFF, namespace);
    const secret = findObject(first, 'Secret', 'talos-capi-webhook-service-cert');
    const owned = {
      ...secret,
      metadata: { ...secret.metadata, annotations: { 'meta.helm.sh/release-name': RELEASE, 'meta.helm.sh/release-namespace': namespace } },
    };
    await client.create(SecretKind, owned as never);
    const kubeconfig = process.env.KUBECONFIG!;
    const again = await template(CERT_MANAGER_OFF, namespace, ['--dry-run=server', '--take-ownership'], kubeconfig);
    const data = (findObject(again, 'Secret', 'talos-capi-webhook-service-cert') as unknown as { data: Record<string, string> }).data;
    expect(data).toEqual((secret as unknown as { data: unknown }).data);
    expect(caBundles(again)).toEqual(caBundles(first));
  });
});
