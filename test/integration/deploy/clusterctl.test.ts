// The two clusterctl providers read by the real clusterctl (built from the Go module proxy, see
// test/tools) from a local file repository laid out the way clusterctl expects a release:
// <repo>/<provider label>/<version>/{components file, metadata.yaml}, named by a clusterctl
// config whose `providers:` entries point at them by file:// URL. A temporary HOME and
// CLUSTERCTL_DISABLE_VERSIONCHECK keep clusterctl off the network and away from the user's config.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { version as packageVersion } from '../../../package.json';
import { PROVIDERS, parseOperatorFlags, type ProviderName } from '../../../src/operator-flags';
import { CLUSTERCTL_COMPONENTS } from '../../../scripts/gen-deploy';
import { PROVIDER_LABELS, clusterctlInstall, type ManifestObject } from '../../../scripts/deploy/manifests';
import { CLUSTERCTL, runTool, toolBinary, toolVersion } from '../../tools/tools';
import { CAPI_CORE_VERSION } from '../../world/capi-core';
import { DEPLOY_DIR, clusterctlObjects, managerContainer, parseManifests } from '../../unit/deploy/deploy-files';
import { CLUSTER_SCOPED } from './server-apply';

const VERSION = `v${packageVersion}`;
const FLAGS: Record<ProviderName, string> = { bootstrap: '--bootstrap', controlplane: '--control-plane' };
const TYPES: Record<ProviderName, string> = { bootstrap: 'BootstrapProvider', controlplane: 'ControlPlaneProvider' };
/** What clusterctl adds to every object it installs. */
const CLUSTERCTL_LABELS = (provider: ProviderName) => ({ 'clusterctl.cluster.x-k8s.io': '', 'cluster.x-k8s.io/provider': PROVIDER_LABELS[provider] });

let clusterctl: string;
let dir: string;

beforeAll(async () => {
  clusterctl = await toolBinary(CLUSTERCTL);
  dir = mkdtempSync(join(tmpdir(), 'talos-capi-clusterctl-'));
  const providers = PROVIDERS.map((provider) => {
    const release = join(dir, 'repository', PROVIDER_LABELS[provider], VERSION);
    mkdirSync(release, { recursive: true });
    for (const file of [CLUSTERCTL_COMPONENTS[provider], 'metadata.yaml']) copyFileSync(join(DEPLOY_DIR, 'clusterctl', file), join(release, file));
    return { name: 'talos', type: TYPES[provider], url: `file://${join(release, CLUSTERCTL_COMPONENTS[provider])}` };
  });
  writeFileSync(join(dir, 'clusterctl.yaml'), stringify({ providers }));
  mkdirSync(join(dir, 'home'));
}, 30 * 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function clusterctlRun(args: string[], variables: Record<string, string> = {}, config = 'clusterctl.yaml'): Promise<string> {
  const home = join(dir, 'home');
  const env = { HOME: home, XDG_CONFIG_HOME: join(home, '.config'), CLUSTERCTL_DISABLE_VERSIONCHECK: 'true', ...variables };
  const run = await runTool(clusterctl, [...args, '--config', join(dir, config)], env);
  if (run.code !== 0) throw new Error(`clusterctl ${args.join(' ')} exited ${run.code}: ${run.stderr}${run.stdout}`);
  return run.stdout;
}

async function writtenObjects(provider: ProviderName, extraArgs: string[] = [], variables: Record<string, string> = {}): Promise<ManifestObject[]> {
  const file = join(dir, `${provider}-${Math.random().toString(36).slice(2)}.yaml`);
  await clusterctlRun(['generate', 'provider', FLAGS[provider], `talos:${VERSION}`, '--write-to', file, ...extraArgs], variables);
  return parseManifests(readFileSync(file, 'utf8'), file);
}

/** The value without nulls, empty strings, objects and lists: what clusterctl's typed round trip adds (status: {}, strategy: {}) or drops. */
function withoutEmpty(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutEmpty).filter((item) => !isEmpty(item));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withoutEmpty(item)]).filter(([, item]) => !isEmpty(item)));
}
const isEmpty = (value: unknown) => value === null || value === '' || (typeof value === 'object' && Object.keys(value as object).length === 0);

/** Every webhook clientConfig in the objects (CRD conversion, admission webhooks). */
function clientConfigs(value: unknown): { service?: { namespace: string } }[] {
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, item]) => (key === 'clientConfig' ? [item as { service?: { namespace: string } }] : clientConfigs(item)));
}

const byKindAndName = (objects: ManifestObject[]) => [...objects].sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));

describe('the real clusterctl', () => {
  it('is the Cluster API version the world runs', () => {
    expect(toolVersion(CLUSTERCTL)).toBe(CAPI_CORE_VERSION);
  });

  it.each(PROVIDERS)('generate provider %s --describe: the provider, its version, namespace, variables and image', async (provider) => {
    const described = await clusterctlRun(['generate', 'provider', FLAGS[provider], 'talos', '--describe']);
    const field = (name: string) => new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(described)?.[1];
    expect([field('Name'), field('Type'), field('Version'), field('File'), field('TargetNamespace')]).toEqual([
      'talos', TYPES[provider], VERSION, CLUSTERCTL_COMPONENTS[provider], clusterctlInstall(provider).namespace,
    ]);
    const list = (heading: string) => new RegExp(`^${heading}:\\n((?:  - .*\\n?)*)`, 'm').exec(described)?.[1]?.split('\n').filter(Boolean).map((line) => line.slice(4));
    const diagnostics = ['TALOS_CAPI_DIAGNOSTICS_ADDRESS', 'TALOS_CAPI_INSECURE_DIAGNOSTICS'];
    expect(list('Variables')).toEqual(provider === 'bootstrap' ? ['EXP_MACHINE_POOL', ...diagnostics] : diagnostics);
    expect(list('Images')).toEqual(['localhost/talos-capi:0.1.0']);
  });

  it.each(PROVIDERS)('generate provider %s --write-to: the committed objects with variables at their defaults, plus clusterctl\'s labels', async (provider) => {
    const written = await writtenObjects(provider);
    for (const object of written) expect(object.metadata.labels).toMatchObject(CLUSTERCTL_LABELS(provider));
    expect(withoutEmpty(byKindAndName(written))).toEqual(withoutEmpty(byKindAndName(clusterctlObjects(provider))));
    // clusterctl applies Namespace first, then cert-manager objects (so the CA injector sees them before the webhook clients).
    expect(written[0]!.kind).toBe('Namespace');
    const { namespace } = clusterctlInstall(provider);
    for (const object of written) expect([object.kind, object.metadata.namespace]).toEqual([object.kind, CLUSTER_SCOPED.has(object.kind) ? undefined : namespace]);
    expect(parseOperatorFlags(managerContainer(written).args).controllers).toEqual([provider]);
  });

  it('an images: override in the clusterctl configuration points both providers at a registry (the README\'s way)', async () => {
    const config = parse(readFileSync(join(dir, 'clusterctl.yaml'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'images.yaml'), stringify({ ...config, images: { all: { repository: 'registry.example/team' } } }));
    for (const provider of PROVIDERS) {
      const described = await clusterctlRun(['generate', 'provider', FLAGS[provider], 'talos', '--describe'], {}, 'images.yaml');
      expect(described).toContain('  - registry.example/team/talos-capi:0.1.0');
    }
  });

  it('passes variables from the environment into the Deployment', async () => {
    const written = await writtenObjects('bootstrap', [], { EXP_MACHINE_POOL: 'false', TALOS_CAPI_DIAGNOSTICS_ADDRESS: ':9090' });
    expect(parseOperatorFlags(managerContainer(written).args)).toMatchObject({ featureGates: { MachinePool: false }, metricsAddr: ':9090', controllers: ['bootstrap'] });
  });

  it('--target-namespace moves both providers into one namespace, webhook clients, CA injection, certificate names and bindings with them, and no name collides', async () => {
    const target = 'capi-talos';
    const bootstrap = await writtenObjects('bootstrap', ['--target-namespace', target]);
    const controlPlane = await writtenObjects('controlplane', ['--target-namespace', target]);
    const text = JSON.stringify(bootstrap) + JSON.stringify(controlPlane);
    for (const provider of PROVIDERS) expect(text).not.toContain(clusterctlInstall(provider).namespace);
    expect(text).toContain(`"cert-manager.io/inject-ca-from":"${target}/talos-capi-bootstrap-serving-cert"`);
    expect(text).toContain(`"dnsNames":["talos-capi-bootstrap-webhook-service.${target}.svc"`);
    // Three CRD conversions (TalosConfig, TalosConfigTemplate, TalosControlPlane) and the TalosConfigTemplate validator.
    expect(clientConfigs([...bootstrap, ...controlPlane]).map((config) => config.service?.namespace)).toEqual([target, target, target, target]);
    expect(text).toContain(`"cert-manager.io/inject-ca-from":"${target}/talos-capi-control-plane-serving-cert"`);
    for (const binding of [...bootstrap, ...controlPlane].filter((o) => o.kind.endsWith('Binding'))) {
      expect((binding as unknown as { subjects: { namespace: string }[] }).subjects.map((subject) => subject.namespace)).toEqual([target]);
    }
    const names = (objects: ManifestObject[]) => objects.filter((o) => o.kind !== 'Namespace').map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
    expect(names(bootstrap).filter((name) => names(controlPlane).includes(name))).toEqual([]);
  });
});
