// The test bed: a real etcd + kube-apiserver built from Go modules (see go.mod
// in this folder), started on free loopback ports, with the Cluster API core
// CRDs (read from the Go module cache) and our own crds/ installed.
//
// State lives in one folder (DIR/testbed.json) so that `up`, `down` and
// `restart-apiserver` can run from different processes.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync, closeSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { buildGoModule, GoBuildResult } from '../support/go-build';
import { createCertificateAuthority, createSigningKey, issueCertificate, loadCertificateAuthority } from './pki';

/** Must match the k8s.io/kubernetes requirement in go.mod. */
export const KUBERNETES_VERSION = 'v1.34.4';
/** Cluster API release whose core CRDs (v1beta2 storage) are installed. */
export const CLUSTER_API_VERSION = 'v1.13.6';

const MODULE_DIR = resolve(__dirname);
const REPO_ROOT = resolve(__dirname, '..', '..');
const READY_TIMEOUT_MS = 120_000;

export interface ProcessRecord {
  pid: number;
  binary: string;
  args: string[];
  log: string;
}

export interface TestbedState {
  dir: string;
  kubeconfig: string;
  server: string;
  etcdUrl: string;
  apiserverPort: number;
  certDir: string;
  etcd: ProcessRecord;
  apiserver: ProcessRecord;
  startedAt: string;
  /** Seconds spent on each phase of `up`, for the notes and benchmarks. */
  timings: Record<string, number>;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export function buildTestbedBinaries(): Promise<GoBuildResult> {
  const [major, minor] = KUBERNETES_VERSION.replace(/^v/, '').split('.');
  const pkg = 'k8s.io/component-base/version';
  const ldflags = [
    '-s -w',
    `-X ${pkg}.gitVersion=${KUBERNETES_VERSION}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
  ].join(' ');
  return buildGoModule({ name: 'testbed', moduleDir: MODULE_DIR, packages: ['./cmd/...'], ldflags });
}

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

export function startProcess(binary: string, args: string[], log: string, env?: NodeJS.ProcessEnv): ProcessRecord {
  const fd = openSync(log, 'a');
  // detached: its own process group, so `down` can stop it and everything it started.
  const child = spawn(binary, args, { detached: true, stdio: ['ignore', fd, fd], ...(env ? { env } : {}) });
  closeSync(fd);
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${binary}`);
  return { pid: child.pid, binary, args, log };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function stopProcess(record: ProcessRecord, timeoutMs = 15_000): Promise<void> {
  if (!isAlive(record.pid)) return;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-record.pid, signal);
    } catch {
      try {
        process.kill(record.pid, signal);
      } catch {
        /* already gone */
      }
    }
  };
  signalGroup('SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (isAlive(record.pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(record.pid)) signalGroup('SIGKILL');
  while (isAlive(record.pid)) await sleep(50);
}

function tail(path: string, lines = 30): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export interface ClientCredentials {
  ca: string;
  cert: string;
  key: string;
}

function credentialsFor(state: Pick<TestbedState, 'certDir'>, user = 'admin'): ClientCredentials {
  return {
    ca: readFileSync(join(state.certDir, 'ca.crt'), 'utf8'),
    cert: readFileSync(join(state.certDir, `${user}.crt`), 'utf8'),
    key: readFileSync(join(state.certDir, `${user}.key`), 'utf8'),
  };
}

export function httpsGet(url: string, creds: ClientCredentials): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = request(url, { method: 'GET', ...creds, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', fail);
    req.end();
  });
}

export async function waitFor(what: string, probe: () => Promise<boolean>, record: ProcessRecord, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(record.pid)) throw new Error(`${what} exited during start-up. Last log lines (${record.log}):\n${tail(record.log)}`);
    if (await probe().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`${what} not ready after ${timeoutMs / 1000} s. Last log lines (${record.log}):\n${tail(record.log)}`);
}

function waitApiserverReady(state: TestbedState): Promise<void> {
  const creds = credentialsFor(state);
  return waitFor('kube-apiserver', async () => (await httpsGet(`${state.server}/readyz`, creds)).status === 200, state.apiserver);
}

export function kubeconfigYaml(server: string, creds: ClientCredentials, user: string): string {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: testbed',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(creds.ca)}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    client-certificate-data: ${b64(creds.cert)}`,
    `    client-key-data: ${b64(creds.key)}`,
    'contexts:',
    '- name: testbed',
    '  context:',
    '    cluster: testbed',
    `    user: ${user}`,
    'current-context: testbed',
    '',
  ].join('\n');
}

export function readState(dir: string): TestbedState {
  const path = join(resolve(dir), 'testbed.json');
  if (!existsSync(path)) throw new Error(`no test bed state in ${dir} (run \`npm run testbed -- up --dir ${dir}\` first)`);
  return JSON.parse(readFileSync(path, 'utf8')) as TestbedState;
}

function writeState(state: TestbedState): void {
  writeFileSync(join(state.dir, 'testbed.json'), JSON.stringify(state, null, 2));
}

/** Where the Cluster API core CRDs are: the release's module in the Go module cache. */
export function clusterApiCrdDir(version = CLUSTER_API_VERSION): string {
  const result = spawnSync('go', ['mod', 'download', '-json', `sigs.k8s.io/cluster-api@${version}`], { encoding: 'utf8' });
  const info = result.stdout ? (JSON.parse(result.stdout) as { Dir?: string; Error?: string }) : {};
  if (result.status !== 0 || !info.Dir) {
    throw new Error(`cannot download sigs.k8s.io/cluster-api@${version}: ${info.Error ?? result.stderr}`);
  }
  const candidates = [join(info.Dir, 'config', 'crd', 'bases'), join(info.Dir, 'core', 'config', 'crd', 'bases')];
  const found = candidates.find((dir) => existsSync(dir));
  if (!found) throw new Error(`no CRD folder in ${info.Dir}`);
  return found;
}

export function yamlFilesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => join(dir, name));
}

/** The CRD documents to install: Cluster API core first, then ours. */
export function crdDocuments(files: string[]): Record<string, unknown>[] {
  const documents: Record<string, unknown>[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const value = doc.toJS() as Record<string, unknown> | null;
      if (value && value.kind === 'CustomResourceDefinition') documents.push(value);
    }
  }
  return documents;
}

interface CrdStatus {
  status?: { conditions?: { type: string; status: string }[] };
}

export async function apiRequest(
  state: TestbedState,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: string }> {
  const creds = credentialsFor(state);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((done, fail) => {
    const req = request(
      `${state.server}${path}`,
      { method, ...creds, headers: payload ? { 'content-type': 'application/json' } : {}, timeout: 30_000 },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => done({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout on ${method} ${path}`)));
    req.on('error', fail);
    req.end(payload);
  });
}

/** Create or replace each CRD, then wait until all are Established. */
export async function installCrds(state: TestbedState, crds: Record<string, unknown>[]): Promise<void> {
  const base = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
  for (const crd of crds) {
    const name = (crd.metadata as { name: string }).name;
    const created = await apiRequest(state, 'POST', base, crd);
    if (created.status === 409) {
      const current = JSON.parse((await apiRequest(state, 'GET', `${base}/${name}`)).body) as { metadata: { resourceVersion: string } };
      const body = { ...crd, metadata: { ...(crd.metadata as object), resourceVersion: current.metadata.resourceVersion } };
      const replaced = await apiRequest(state, 'PUT', `${base}/${name}`, body);
      if (replaced.status >= 300) throw new Error(`replace CRD ${name}: ${replaced.status} ${replaced.body}`);
    } else if (created.status >= 300) {
      throw new Error(`create CRD ${name}: ${created.status} ${created.body}`);
    }
  }
  const deadline = Date.now() + 60_000;
  for (const crd of crds) {
    const name = (crd.metadata as { name: string }).name;
    for (;;) {
      const current = JSON.parse((await apiRequest(state, 'GET', `${base}/${name}`)).body) as CrdStatus;
      if (current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established within 60 s`);
      await sleep(100);
    }
  }
}

export function projectCrdFiles(): string[] {
  return yamlFilesIn(join(REPO_ROOT, 'crds'));
}

export interface StartOptions {
  dir: string;
  /** Extra kube-apiserver flags. */
  apiserverFlags?: string[];
  /** Install Cluster API core CRDs and crds/ (default true). */
  installCrds?: boolean;
}

function apiserverArgs(port: number, etcdUrl: string, certDir: string, extra: string[]): string[] {
  return [
    `--etcd-servers=${etcdUrl}`,
    `--cert-dir=${certDir}`,
    `--tls-cert-file=${join(certDir, 'apiserver.crt')}`,
    `--tls-private-key-file=${join(certDir, 'apiserver.key')}`,
    `--client-ca-file=${join(certDir, 'ca.crt')}`,
    `--secure-port=${port}`,
    '--bind-address=127.0.0.1',
    '--service-cluster-ip-range=10.0.0.0/24',
    '--allow-privileged=true',
    // No token controller without kube-controller-manager.
    '--disable-admission-plugins=ServiceAccount',
    '--authorization-mode=RBAC',
    `--service-account-issuer=https://127.0.0.1:${port}/`,
    `--service-account-key-file=${join(certDir, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(certDir, 'sa.key')}`,
    // Short compaction so that watch 410 Gone paths are reachable in tests.
    '--etcd-compaction-interval=10s',
    '--endpoint-reconciler-type=none',
    ...extra,
  ];
}

/** Runs phases of a start-up and records each one's seconds in `timings`. */
export function phaseTimer(timings: Record<string, number>): <T>(phase: string, work: () => Promise<T>) => Promise<T> {
  return async (phase, work) => {
    const started = Date.now();
    try {
      return await work();
    } finally {
      timings[phase] = (Date.now() - started) / 1000;
    }
  };
}

export async function startTestbed(options: StartOptions): Promise<TestbedState> {
  const dir = resolve(options.dir);
  const timings: Record<string, number> = {};
  const time = phaseTimer(timings);
  if (existsSync(join(dir, 'testbed.json'))) {
    const previous = readState(dir);
    if (isAlive(previous.apiserver.pid) || isAlive(previous.etcd.pid)) {
      throw new Error(`a test bed is already running in ${dir} (pids ${previous.etcd.pid}, ${previous.apiserver.pid}); run down first`);
    }
  }
  mkdirSync(dir, { recursive: true });
  const build = await time('build', buildTestbedBinaries);
  const certDir = join(dir, 'pki');
  mkdirSync(certDir, { recursive: true });

  await time('pki', async () => {
    const ca = await createCertificateAuthority('talos-capi-testbed-ca');
    const serving = await issueCertificate(ca, {
      commonName: 'kube-apiserver',
      dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
      ipAddresses: ['127.0.0.1', '10.0.0.1'],
      usage: 'server',
    });
    const admin = await issueCertificate(ca, { commonName: 'admin', organizations: ['system:masters'], usage: 'client' });
    const signer = await createSigningKey();
    writeFileSync(join(certDir, 'ca.crt'), ca.certPem);
    writeFileSync(join(certDir, 'ca.key'), ca.keyPem, { mode: 0o600 });
    writeFileSync(join(certDir, 'apiserver.crt'), serving.certPem);
    writeFileSync(join(certDir, 'apiserver.key'), serving.keyPem, { mode: 0o600 });
    writeFileSync(join(certDir, 'admin.crt'), admin.certPem);
    writeFileSync(join(certDir, 'admin.key'), admin.keyPem, { mode: 0o600 });
    writeFileSync(join(certDir, 'sa.key'), signer.privatePem, { mode: 0o600 });
    writeFileSync(join(certDir, 'sa.pub'), signer.publicPem);
  });

  const [etcdClientPort, etcdPeerPort, apiserverPort] = [await freePort(), await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
  const etcd = startProcess(
    join(build.binDir, 'etcd'),
    [`--data-dir=${join(dir, 'etcd-data')}`, `--listen-client-urls=${etcdUrl}`, `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`],
    join(dir, 'etcd.log'),
  );
  await time('etcd', () =>
    waitFor('etcd', async () => (await fetch(`${etcdUrl}/health`)).ok, etcd),
  );

  const server = `https://127.0.0.1:${apiserverPort}`;
  const apiserver = startProcess(
    join(build.binDir, 'kube-apiserver'),
    apiserverArgs(apiserverPort, etcdUrl, certDir, options.apiserverFlags ?? []),
    join(dir, 'kube-apiserver.log'),
  );
  const state: TestbedState = {
    dir,
    kubeconfig: join(dir, 'kubeconfig'),
    server,
    etcdUrl,
    apiserverPort,
    certDir,
    etcd,
    apiserver,
    startedAt: new Date().toISOString(),
    timings,
  };
  writeState(state);
  try {
    await time('apiserver', () => waitApiserverReady(state));
    writeFileSync(state.kubeconfig, kubeconfigYaml(server, credentialsFor(state), 'admin'), { mode: 0o600 });
    if (options.installCrds !== false) {
      await time('crds', () => installCrds(state, crdDocuments([...yamlFilesIn(clusterApiCrdDir()), ...projectCrdFiles()])));
    }
  } catch (error) {
    await stopTestbed(dir);
    throw error;
  }
  writeState(state);
  return state;
}

export async function stopTestbed(dir: string): Promise<void> {
  const state = readState(dir);
  await stopProcess(state.apiserver);
  await stopProcess(state.etcd);
}

/**
 * Stops kube-apiserver only (etcd keeps the data); pair with startApiserver. Like a crash: an
 * apiserver holding open watches can take its whole shutdown delay to exit on SIGTERM, so it
 * gets a short grace period before SIGKILL.
 */
export async function stopApiserver(dir: string): Promise<void> {
  await stopProcess(readState(dir).apiserver, 3_000);
}

/** Starts kube-apiserver again on the same port and flags, and waits for /readyz. */
export async function startApiserver(dir: string): Promise<void> {
  const state = readState(dir);
  if (isAlive(state.apiserver.pid)) return;
  state.apiserver = startProcess(state.apiserver.binary, state.apiserver.args, state.apiserver.log);
  writeState(state);
  await waitApiserverReady(state);
}

export async function restartApiserver(dir: string): Promise<void> {
  await stopApiserver(dir);
  await startApiserver(dir);
}

/** Writes a kubeconfig for a user with the given groups (for RBAC tests) and returns its path. */
export async function createUserKubeconfig(dir: string, user: string, groups: string[] = []): Promise<string> {
  const state = readState(dir);
  const ca = await loadCertificateAuthority(
    readFileSync(join(state.certDir, 'ca.crt'), 'utf8'),
    readFileSync(join(state.certDir, 'ca.key'), 'utf8'),
  );
  const leaf = await issueCertificate(ca, { commonName: user, organizations: groups, usage: 'client' });
  const safe = user.replace(/[^a-zA-Z0-9_.-]/g, '_');
  writeFileSync(join(state.certDir, `${safe}.crt`), leaf.certPem);
  writeFileSync(join(state.certDir, `${safe}.key`), leaf.keyPem, { mode: 0o600 });
  const path = join(state.dir, `kubeconfig-${safe}`);
  writeFileSync(path, kubeconfigYaml(state.server, credentialsFor(state, safe), user), { mode: 0o600 });
  return path;
}

export function isRunning(dir: string): boolean {
  try {
    const state = readState(dir);
    return isAlive(state.apiserver.pid) && isAlive(state.etcd.pid);
  } catch {
    return false;
  }
}
