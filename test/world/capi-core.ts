// The real Cluster API core manager (sigs.k8s.io/cluster-api, built from the Go module
// proxy through test/capi-core/go.mod) running against a test bed, envtest style: its
// CRDs get a conversion webhook and its admission webhook configurations are installed,
// all pointed by URL at the manager's webhook server on 127.0.0.1.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { buildGoModule, cacheRoot, type GoBuildResult } from '../support/go-build';
import { generateWebhookCerts, writeWebhookCerts } from '../support/webhook-certs';
import {
  apiRequest, clusterApiCrdDir, crdDocuments, freePort, installCrds, phaseTimer, startProcess, stopProcess, waitFor, yamlFilesIn,
  type ProcessRecord, type TestbedState,
} from '../testbed/testbed';

/** Must match the sigs.k8s.io/cluster-api requirement in test/capi-core/go.mod. */
export const CAPI_CORE_VERSION = 'v1.13.6';
/** What the manager's feature gates are unless the caller says otherwise. */
export const DEFAULT_FEATURE_GATES = 'ClusterTopology=true,MachinePool=true';
/** The validating webhook's answer to a Cluster that references nothing (internal/webhooks/cluster.go). */
export const CLUSTER_NEEDS_A_REFERENCE = 'one of spec.controlPlaneRef, spec.infrastructureRef or spec.topology must be set';

const MODULE_DIR = resolve(__dirname, '..', 'capi-core');
/** The manager is the main package at the root of the Cluster API module; `go build` names it after the folder. */
const MANAGER_PACKAGE = 'sigs.k8s.io/cluster-api';
const MANAGER_BINARY = 'cluster-api';
/** Our file added to the manager's main package at build time: its webhook server listens on loopback only. */
const LOOPBACK_FILE = join(MODULE_DIR, 'loopback', 'webhook_host.go');
const LOOPBACK_TAG = 'capiworld';
/** kustomize's namePrefix in config/default: the names a real install gives the webhook configurations. */
const NAME_PREFIX = 'capi-';
const READY_TIMEOUT_MS = 180_000;

/** The root of the Cluster API module in the Go module cache (config/crd/bases is three levels down). */
function capiModuleDir(): string {
  return resolve(clusterApiCrdDir(CAPI_CORE_VERSION), '..', '..', '..');
}

function writeAtomically(path: string, content: string | Buffer): void {
  const staging = `${path}.${process.pid}`;
  writeFileSync(staging, content);
  renameSync(staging, path);
}

/**
 * A writable copy of the Cluster API module with LOOPBACK_FILE added to its main package
 * (the go command will not add files to the read-only module cache, even by -overlay),
 * and a go.mod for `-modfile` that is ours plus a `replace` to that copy. Both live in the
 * build cache, outside the clone; the copy is made once per version and loopback file.
 */
function loopbackModfile(): string {
  const loopback = readFileSync(LOOPBACK_FILE);
  const tag = createHash('sha256').update(loopback).digest('hex').slice(0, 12);
  const source = join(cacheRoot(), `capi-core-src-${CAPI_CORE_VERSION}-${tag}`);
  if (!existsSync(join(source, '.complete'))) {
    const staging = `${source}.partial-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    cpSync(capiModuleDir(), staging, { recursive: true });
    // Module cache files are read-only; the copy must be writable to add our file and to be removed.
    spawnSync('chmod', ['-R', 'u+w', staging]);
    writeFileSync(join(staging, 'zz_talos_capi_loopback_webhook.go'), loopback);
    writeFileSync(join(staging, '.complete'), new Date().toISOString());
    rmSync(source, { recursive: true, force: true });
    renameSync(staging, source);
  }
  const modfile = join(cacheRoot(), `capi-core-${CAPI_CORE_VERSION}-${tag}.mod`);
  // Written aside and renamed: another process may be reading it for its build.
  writeAtomically(modfile, `${readFileSync(join(MODULE_DIR, 'go.mod'), 'utf8')}\nreplace ${MANAGER_PACKAGE} => ${source}\n`);
  writeAtomically(modfile.replace(/\.mod$/, '.sum'), readFileSync(join(MODULE_DIR, 'go.sum')));
  return modfile;
}

export function buildCapiCore(): Promise<GoBuildResult> {
  const [major, minor] = CAPI_CORE_VERSION.replace(/^v/, '').split('.');
  const pkg = 'sigs.k8s.io/cluster-api/version';
  const ldflags = [
    '-s -w',
    `-X ${pkg}.gitVersion=${CAPI_CORE_VERSION}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
  ].join(' ');
  const buildFlags = ['-tags', LOOPBACK_TAG, `-modfile=${loopbackModfile()}`];
  return buildGoModule({ name: 'capi-core', moduleDir: MODULE_DIR, packages: [MANAGER_PACKAGE], ldflags, buildFlags });
}

export interface WebhookTarget {
  /** https://127.0.0.1:PORT, without a path. */
  url: string;
  /** Base64 of the PEM CA that signed the serving certificate, as the API wants it. */
  caBundle: string;
}

type Doc = Record<string, unknown>;

/** A webhook clientConfig: a Service reference as CAPI ships it, a URL once rewritten. */
interface ClientConfig {
  service?: { path?: string };
  url?: string;
  caBundle?: string;
}

interface ConversionPatch {
  metadata: { name: string };
  spec: { conversion: { strategy: string; webhook: { clientConfig: ClientConfig } & Doc } };
}

function urlConfig(target: WebhookTarget, clientConfig: ClientConfig): { url: string; caBundle: string } {
  const path = clientConfig.service?.path;
  if (!path) throw new Error(`webhook clientConfig without service.path: ${JSON.stringify(clientConfig)}`);
  return { url: `${target.url}${path}`, caBundle: target.caBundle };
}

function isConversionPatch(doc: Doc): doc is Doc & ConversionPatch {
  const spec = doc.spec as { conversion?: { webhook?: { clientConfig?: unknown } } } | undefined;
  return doc.kind === 'CustomResourceDefinition' && spec?.conversion?.webhook?.clientConfig !== undefined;
}

/**
 * The CRDs with the conversion stanza of each patch that names them (CAPI's
 * config/crd/patches/webhook_in_*.yaml), its Service reference replaced by the URL.
 * CRDs no patch names are returned unchanged.
 */
export function withConversionWebhooks(crds: Doc[], patches: Doc[], target: WebhookTarget): Doc[] {
  const byName = new Map<string, ConversionPatch>();
  for (const patch of patches) if (isConversionPatch(patch)) byName.set(patch.metadata.name, patch);
  return crds.map((crd) => {
    const patch = byName.get((crd.metadata as { name: string }).name);
    if (!patch) return crd;
    const { strategy, webhook } = patch.spec.conversion;
    const conversion = { strategy, webhook: { ...webhook, clientConfig: urlConfig(target, webhook.clientConfig) } };
    return { ...crd, spec: { ...(crd.spec as Doc), conversion } };
  });
}

interface WebhookConfiguration {
  apiVersion: string;
  kind: 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration';
  metadata: { name: string } & Doc;
  webhooks: ({ clientConfig: ClientConfig } & Doc)[];
}

function isWebhookConfiguration(doc: Doc): doc is Doc & WebhookConfiguration {
  return (doc.kind === 'MutatingWebhookConfiguration' || doc.kind === 'ValidatingWebhookConfiguration') && Array.isArray(doc.webhooks);
}

/**
 * CAPI's Mutating/ValidatingWebhookConfigurations (config/webhook/manifests.yaml) as an
 * install names them (`capi-` prefix), each webhook called by URL instead of through the Service.
 */
export function webhookConfigurationsFor(manifests: Doc[], target: WebhookTarget): WebhookConfiguration[] {
  return manifests.filter(isWebhookConfiguration).map((config) => ({
    ...config,
    metadata: { ...config.metadata, name: `${NAME_PREFIX}${config.metadata.name}` },
    webhooks: config.webhooks.map((webhook) => ({ ...webhook, clientConfig: urlConfig(target, webhook.clientConfig) })),
  }));
}

function yamlDocs(path: string): Doc[] {
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((doc) => doc.toJS() as Doc | null)
    .filter((doc): doc is Doc => doc !== null);
}

/** The patches config/crd/kustomization.yaml applies, read from their files. */
function kustomizePatches(crdConfigDir: string): Doc[] {
  const kustomization = parse(readFileSync(join(crdConfigDir, 'kustomization.yaml'), 'utf8')) as { patches?: { path?: string }[] };
  return (kustomization.patches ?? []).flatMap((patch) => (patch.path ? yamlDocs(join(crdConfigDir, patch.path)) : []));
}

/** Every CRD of config/crd/bases, with the conversion webhook CAPI's kustomize patches give it, called at `target`. */
export function capiCoreCrds(target: WebhookTarget): Doc[] {
  const crdConfigDir = join(capiModuleDir(), 'config', 'crd');
  return withConversionWebhooks(crdDocuments(yamlFilesIn(join(crdConfigDir, 'bases'))), kustomizePatches(crdConfigDir), target);
}

/** CAPI's admission webhook configurations, called at `target`. */
export function capiCoreWebhookConfigurations(target: WebhookTarget): WebhookConfiguration[] {
  return webhookConfigurationsFor(yamlDocs(join(capiModuleDir(), 'config', 'webhook', 'manifests.yaml')), target);
}

export interface ManagerPorts {
  webhook: number;
  health: number;
  metrics: number;
}

export interface ManagerArgsOptions {
  kubeconfig: string;
  certDir: string;
  ports: ManagerPorts;
  featureGates?: string;
  extraArgs?: string[];
}

/** The manager's command line (flag names from CAPI's main.go and util/flags). */
export function managerArgs(options: ManagerArgsOptions): string[] {
  return [
    `--kubeconfig=${options.kubeconfig}`,
    `--webhook-port=${options.ports.webhook}`,
    `--webhook-cert-dir=${options.certDir}`,
    `--health-addr=127.0.0.1:${options.ports.health}`,
    // Plain HTTP /metrics; the default is HTTPS with authentication through the apiserver.
    `--diagnostics-address=127.0.0.1:${options.ports.metrics}`,
    '--insecure-diagnostics=true',
    '--leader-elect=false',
    `--feature-gates=${options.featureGates ?? DEFAULT_FEATURE_GATES}`,
    ...(options.extraArgs ?? []),
  ];
}

/** Create, or replace what is there (keeping its resourceVersion), a cluster-scoped object. */
async function createOrReplace(state: TestbedState, collection: string, object: { metadata: { name: string } }): Promise<void> {
  const created = await apiRequest(state, 'POST', collection, object);
  if (created.status !== 409) {
    if (created.status >= 300) throw new Error(`create ${collection}/${object.metadata.name}: ${created.status} ${created.body}`);
    return;
  }
  const current = JSON.parse((await apiRequest(state, 'GET', `${collection}/${object.metadata.name}`)).body) as { metadata: { resourceVersion: string } };
  const body = { ...object, metadata: { ...object.metadata, resourceVersion: current.metadata.resourceVersion } };
  const replaced = await apiRequest(state, 'PUT', `${collection}/${object.metadata.name}`, body);
  if (replaced.status >= 300) throw new Error(`replace ${collection}/${object.metadata.name}: ${replaced.status} ${replaced.body}`);
}

const WEBHOOK_COLLECTIONS = {
  MutatingWebhookConfiguration: '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
  ValidatingWebhookConfiguration: '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations',
} as const;

const PROBE_NAMESPACE = 'default';

/**
 * Conversion answers once a v1beta1 MachineDrainRule can be written (dry run): it is converted
 * to the v1beta2 storage version and back. Not a Cluster: converting a Cluster to v1beta1 looks
 * up the CRD of its infrastructure/control plane reference for the contract version labels.
 */
async function conversionAnswers(state: TestbedState): Promise<boolean> {
  const rule = {
    apiVersion: 'cluster.x-k8s.io/v1beta1', kind: 'MachineDrainRule', metadata: { name: 'capi-core-conversion-probe' },
    spec: { drain: { behavior: 'Skip' } },
  };
  const path = `/apis/cluster.x-k8s.io/v1beta1/namespaces/${PROBE_NAMESPACE}/machinedrainrules?dryRun=All`;
  return (await apiRequest(state, 'POST', path, rule)).status < 300;
}

/** Validation answers once a Cluster that references nothing is refused with CAPI's message (dry run). */
async function validationAnswers(state: TestbedState): Promise<boolean> {
  const cluster = {
    apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster', metadata: { name: 'capi-core-validation-probe' },
    spec: { clusterNetwork: { serviceDomain: 'cluster.local' } },
  };
  const path = `/apis/cluster.x-k8s.io/v1beta2/namespaces/${PROBE_NAMESPACE}/clusters?dryRun=All`;
  const answer = await apiRequest(state, 'POST', path, cluster);
  return answer.status === 422 && answer.body.includes(CLUSTER_NEEDS_A_REFERENCE);
}

export interface CapiCoreHandle {
  process: ProcessRecord;
  /** https://127.0.0.1:PORT of the manager's webhook server. */
  webhookUrl: string;
  /** http://127.0.0.1:PORT serving /healthz and /readyz. */
  healthUrl: string;
  /** http://127.0.0.1:PORT/metrics. */
  metricsUrl: string;
  /** Seconds spent on each phase of the start, for notes and benchmarks. */
  timings: Record<string, number>;
  /** Stops the manager's process group. The webhook registrations stay (they then fail closed). */
  stop(): Promise<void>;
}

export interface StartCapiCoreOptions {
  testbed: TestbedState;
  /** Folder for the manager's log and serving certificate. */
  dir: string;
  /** Replaces DEFAULT_FEATURE_GATES. */
  featureGates?: string;
  extraArgs?: string[];
}

/**
 * Builds (or takes from the cache) and starts the CAPI core manager against the test bed,
 * with its CRD conversion and admission webhooks registered, and returns once /readyz is
 * OK and the apiserver really gets answers from its conversion and validating webhooks.
 */
export async function startCapiCore(options: StartCapiCoreOptions): Promise<CapiCoreHandle> {
  const timings: Record<string, number> = {};
  const time = phaseTimer(timings);
  const dir = resolve(options.dir);
  const certDir = join(dir, 'capi-core-certs');
  mkdirSync(certDir, { recursive: true });
  const build = await time('build', buildCapiCore);

  const certs = await generateWebhookCerts();
  writeWebhookCerts(certDir, certs);
  const ports: ManagerPorts = { webhook: await freePort(), health: await freePort(), metrics: await freePort() };
  const target: WebhookTarget = { url: `https://127.0.0.1:${ports.webhook}`, caBundle: Buffer.from(certs.caPem).toString('base64') };

  await time('register', async () => {
    await installCrds(options.testbed, capiCoreCrds(target));
    for (const configuration of capiCoreWebhookConfigurations(target)) {
      await createOrReplace(options.testbed, WEBHOOK_COLLECTIONS[configuration.kind], configuration);
    }
  });

  const args = managerArgs({ kubeconfig: options.testbed.kubeconfig, certDir, ports, featureGates: options.featureGates, extraArgs: options.extraArgs });
  const record = startProcess(join(build.binDir, MANAGER_BINARY), args, join(dir, 'capi-core.log'));
  const healthUrl = `http://127.0.0.1:${ports.health}`;
  try {
    await time('ready', () => waitFor('CAPI core manager /readyz', async () => (await fetch(`${healthUrl}/readyz`)).ok, record, READY_TIMEOUT_MS));
    await time('webhooks', async () => {
      await waitFor('CAPI conversion webhook', () => conversionAnswers(options.testbed), record, READY_TIMEOUT_MS);
      await waitFor('CAPI validating webhook', () => validationAnswers(options.testbed), record, READY_TIMEOUT_MS);
    });
  } catch (error) {
    await stopProcess(record);
    throw error;
  }
  return {
    process: record,
    webhookUrl: target.url,
    healthUrl,
    metricsUrl: `http://127.0.0.1:${ports.metrics}/metrics`,
    timings,
    stop: () => stopProcess(record),
  };
}
