// Where the API server is and how to prove who we are: a kubeconfig (the files $KUBECONFIG names,
// merged, else ~/.kube/config) or the Pod's service account. Our own small loader: the client
// library that did this pulled its whole generated API into every process (~80 MiB of RSS).
//
// Supported: server, certificate-authority(-data), insecure-skip-tls-verify, tls-server-name;
// client-certificate(-data) / client-key(-data), token, tokenFile (re-read, as projected tokens
// rotate), username/password, and exec credential plugins (client.authentication.k8s.io). A user
// with an auth-provider, or a cluster with a proxy-url, is refused with a message saying so.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { isObject } from '../../util/json';

/** TLS settings for the connection to the API server (PEM text). */
export interface ClusterTls {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
  servername?: string;
}

/** Everything a request needs: the server, TLS, and the headers that authenticate it. */
export interface ClusterAccess {
  server: string;
  /** The namespace of the kubeconfig context (or the service account's), if any. */
  namespace?: string;
  tls: ClusterTls;
  /** Authorization headers for the next request (a token file or an exec plugin may change them). */
  authHeaders(): Promise<Record<string, string>>;
}

/** The parts of a kubeconfig entry we read, in kubeconfig's own spelling. */
export interface KubeconfigCluster {
  server: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
  'proxy-url'?: string;
}

export interface ExecConfig {
  command: string;
  args?: string[];
  env?: Array<{ name: string; value: string }>;
  apiVersion?: string;
}

export interface KubeconfigUser {
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  exec?: ExecConfig;
  'auth-provider'?: unknown;
}

export class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** How long a token file's content is trusted before it is read again (client-go: 1 minute). */
const TOKEN_FILE_TTL_MS = 60_000;

const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

function readRelative(path: string, baseDir: string): string {
  return readFileSync(isAbsolute(path) ? path : join(baseDir, path), 'utf8');
}

/** A token read from a file, read again once it is a minute old. */
function tokenFromFile(path: string): () => string {
  let token = '';
  let readAt = -Infinity;
  return () => {
    if (Date.now() - readAt > TOKEN_FILE_TTL_MS) {
      token = readFileSync(path, 'utf8').trim();
      readAt = Date.now();
    }
    return token;
  };
}

interface ExecCredential {
  status?: { token?: string; expirationTimestamp?: string; clientCertificateData?: string };
}

/** An exec credential plugin's token, run again when it expires. */
function tokenFromExec(exec: ExecConfig, baseDir: string): () => Promise<string> {
  let cached: { token: string; expiresAt: number } | undefined;
  return async () => {
    if (cached && Date.now() < cached.expiresAt) return cached.token;
    const command = exec.command.includes('/') && !isAbsolute(exec.command) ? join(baseDir, exec.command) : exec.command;
    const env = { ...process.env, ...Object.fromEntries((exec.env ?? []).map((e) => [e.name, e.value])) };
    env.KUBERNETES_EXEC_INFO = JSON.stringify({ apiVersion: exec.apiVersion ?? 'client.authentication.k8s.io/v1', kind: 'ExecCredential', spec: { interactive: false } });
    const { stdout } = await promisify(execFile)(command, exec.args ?? [], { env, timeout: 60_000 });
    const credential = JSON.parse(stdout) as ExecCredential;
    const token = credential.status?.token;
    if (!token) throw new KubeconfigError(`exec credential plugin ${exec.command} returned no token (client certificates from plugins are not supported)`);
    const expiry = credential.status?.expirationTimestamp ? Date.parse(credential.status.expirationTimestamp) : Infinity;
    cached = { token, expiresAt: expiry - 10_000 };
    return token;
  };
}

export interface AccessOptions {
  /** Where the user's relative paths start (its kubeconfig file's folder); default the working directory. */
  baseDir?: string;
  /** Likewise for the cluster's, when it came from another file; default `baseDir`. */
  clusterBaseDir?: string;
  namespace?: string;
}

/** Access to one cluster as one user. */
export function accessFor(cluster: KubeconfigCluster, user: KubeconfigUser, options: AccessOptions = {}): ClusterAccess {
  const baseDir = options.baseDir ?? process.cwd();
  const clusterBaseDir = options.clusterBaseDir ?? baseDir;
  if (!cluster.server) throw new KubeconfigError('the kubeconfig cluster has no server');
  if (cluster['proxy-url']) throw new KubeconfigError('kubeconfig proxy-url is not supported');
  if (user['auth-provider']) throw new KubeconfigError('kubeconfig auth-provider plugins are not supported; use an exec credential plugin');
  const pem = (data: string | undefined, file: string | undefined, dir: string) => (data ? decode(data) : file ? readRelative(file, dir) : undefined);
  const tls: ClusterTls = {
    ca: pem(cluster['certificate-authority-data'], cluster['certificate-authority'], clusterBaseDir),
    cert: pem(user['client-certificate-data'], user['client-certificate'], baseDir),
    key: pem(user['client-key-data'], user['client-key'], baseDir),
    rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
    servername: cluster['tls-server-name'],
  };
  let bearer: (() => string | Promise<string>) | undefined;
  if (user.token) bearer = () => user.token!;
  else if (user.tokenFile) bearer = tokenFromFile(isAbsolute(user.tokenFile) ? user.tokenFile : join(baseDir, user.tokenFile));
  else if (user.exec) bearer = tokenFromExec(user.exec, baseDir);
  const basic = user.username !== undefined ? `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}` : undefined;
  return {
    server: cluster.server.replace(/\/+$/, ''),
    namespace: options.namespace,
    tls,
    async authHeaders(): Promise<Record<string, string>> {
      if (bearer) return { Authorization: `Bearer ${await bearer()}` };
      return basic ? { Authorization: basic } : {};
    },
  };
}

interface Named<T> {
  name: string;
  value: T;
}

interface ParsedFile {
  currentContext?: string;
  clusters: Array<Named<KubeconfigCluster>>;
  users: Array<Named<KubeconfigUser>>;
  contexts: Array<Named<{ cluster: string; user: string; namespace?: string }>>;
  baseDir: string;
}

function namedList<T>(doc: Record<string, unknown>, list: string, field: string): Array<Named<T>> {
  const entries = doc[list];
  if (entries === undefined || entries === null) return [];
  if (!Array.isArray(entries)) throw new KubeconfigError(`kubeconfig ${list} is not a list`);
  return entries.filter(isObject).map((entry) => ({ name: String(entry.name ?? ''), value: (entry[field] ?? {}) as T }));
}

function parseFile(text: string, baseDir: string): ParsedFile {
  const doc: unknown = parseYaml(text);
  if (!isObject(doc)) throw new KubeconfigError('the kubeconfig is not a YAML mapping');
  return {
    currentContext: typeof doc['current-context'] === 'string' ? doc['current-context'] : undefined,
    clusters: namedList(doc, 'clusters', 'cluster'),
    users: namedList(doc, 'users', 'user'),
    contexts: namedList(doc, 'contexts', 'context'),
    baseDir,
  };
}

/**
 * Access from kubeconfig files merged as kubectl merges them: the first file that sets the
 * current context, or defines a name, wins. Paths inside a file are relative to that file.
 */
export function accessFromKubeconfigs(files: Array<{ path: string; text: string }>, context?: string): ClusterAccess {
  const parsed = files.map((f) => parseFile(f.text, dirname(f.path)));
  const contextName = context ?? parsed.find((p) => p.currentContext)?.currentContext;
  if (!contextName) throw new KubeconfigError('the kubeconfig has no current-context');
  const find = <T>(pick: (p: ParsedFile) => Array<Named<T>>, name: string) => {
    for (const p of parsed) {
      const hit = pick(p).find((entry) => entry.name === name);
      if (hit) return { value: hit.value, baseDir: p.baseDir };
    }
    return undefined;
  };
  const ctx = find((p) => p.contexts, contextName)?.value;
  if (!ctx) throw new KubeconfigError(`the kubeconfig has no context ${contextName}`);
  const cluster = find((p) => p.clusters, ctx.cluster);
  if (!cluster) throw new KubeconfigError(`the kubeconfig has no cluster ${ctx.cluster} (context ${contextName})`);
  const user = find((p) => p.users, ctx.user) ?? { value: {}, baseDir: cluster.baseDir };
  return accessFor(cluster.value, user.value, { baseDir: user.baseDir, clusterBaseDir: cluster.baseDir, namespace: ctx.namespace });
}

/** The Pod's service account, as client-go's in-cluster config reads it. */
export function inClusterAccess(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): ClusterAccess | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) return undefined;
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let namespace: string | undefined;
  try {
    namespace = readFileSync(join(dir, 'namespace'), 'utf8').trim() || undefined;
  } catch {
    namespace = undefined;
  }
  return accessFor({ server, 'certificate-authority': join(dir, 'ca.crt') }, { tokenFile: join(dir, 'token') }, { namespace });
}

/** An explicit kubeconfig path, else $KUBECONFIG's files, else ~/.kube/config, else the service account. */
export function loadClusterAccess(path?: string, env: NodeJS.ProcessEnv = process.env): ClusterAccess {
  const read = (p: string) => ({ path: p, text: readFileSync(p, 'utf8') });
  if (path) return accessFromKubeconfigs([read(path)]);
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  if (listed.length) {
    const existing = listed.flatMap((p) => {
      try {
        return [read(p)];
      } catch {
        return [];
      }
    });
    if (existing.length) return accessFromKubeconfigs(existing);
  }
  const home = join(env.HOME ?? homedir(), '.kube', 'config');
  try {
    return accessFromKubeconfigs([read(home)]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const inCluster = inClusterAccess(env);
  if (!inCluster) throw new KubeconfigError('no kubeconfig ($KUBECONFIG, ~/.kube/config) and not running in a Pod');
  return inCluster;
}
