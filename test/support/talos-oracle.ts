// Talks to test/talos-oracle, our Go program on Talos's own config library
// (pkg/machinery): the reference our TypeScript config engine is compared with.
// One long-lived `talos-oracle serve` process answers newline-delimited JSON
// requests, so a matrix of hundreds of cases pays process start-up once.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { buildGoModule } from './go-build';

export const ORACLE_MODULE_DIR = join(__dirname, '..', 'talos-oracle');

/** A cold build of the oracle (Talos's library and its dependencies) takes minutes on 2 cores. */
export const ORACLE_BUILD_TIMEOUT_MS = 15 * 60 * 1000;

export type MachineType = 'init' | 'controlplane' | 'worker';
export type ValidationMode = 'metal' | 'cloud' | 'container';

/** One RFC 6902 operation, as CABPT's configPatches hold them. */
export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

export interface GenSecretsParams {
  /** Selects the contract (e.g. "v1.7"); empty = the newest the library knows. */
  talosVersion?: string;
  /** RFC 3339; fixes the certificates' validity start. */
  now?: string;
  /** Skip RSA-4096 for speed (Talos's WithECDSAServiceAccountKey). */
  ecdsaServiceAccountKey?: boolean;
}

export interface LegacyBundleParts {
  certs: string;
  kubeSecrets: string;
  trustdInfo: string;
}

export interface LoadSecretsParams {
  bundle?: string;
  legacy?: LegacyBundleParts;
  /** Contract to validate the bundle against. */
  talosVersion?: string;
}

export interface LoadSecretsResult {
  /** The bundle as Talos re-encodes it after loading. */
  bundle: string;
  /** secrets.Bundle.Validate's complaints; empty when valid. */
  validationErrors: string[];
}

export interface GenConfigParams {
  clusterName: string;
  endpoint: string;
  /** Without a leading "v". */
  kubernetesVersion: string;
  talosVersion?: string;
  machineType: MachineType;
  dnsDomain?: string;
  podCIDRs?: string[];
  serviceCIDRs?: string[];
  /** secrets.yaml text; the config is generated from exactly these secrets. */
  bundle: string;
  /** Static hostname: machine.network.hostname before contract 1.12, HostnameConfig {auto: off} from 1.12. */
  hostname?: string;
  configPatches?: JsonPatchOperation[];
  strategicPatches?: string[];
}

export interface PatchParams {
  config: string;
  configPatches?: JsonPatchOperation[];
  strategicPatches?: string[];
}

export interface ValidateParams {
  config: string;
  mode: ValidationMode;
  strict?: boolean;
}

export interface ValidateResult {
  valid: boolean;
  /** Set when the config does not even decode strictly (unknown keys, bad YAML). */
  loadError?: string;
  errors: string[];
  warnings: string[];
}

export interface GenTalosconfigParams {
  bundle: string;
  clusterName: string;
  endpoints: string[];
  now?: string;
}

export interface LoadTalosconfigParams {
  talosconfig: string;
  /** When given, the result says whether the talosconfig trusts this bundle's OS CA. */
  bundle?: string;
}

export interface TalosconfigContextSummary {
  endpoints: string[];
  nodes: string[];
  hasCA: boolean;
  hasCrt: boolean;
  hasKey: boolean;
}

export interface ClientCertificateSummary {
  roles: string[];
  unknownRoles: string[];
  commonName: string;
  keyAlgorithm: string;
  notBefore: string;
  notAfter: string;
  isCA: boolean;
  clientAuthEKU: boolean;
  onlyClientAuthEKU: boolean;
  chainsToCA: boolean;
  chainError?: string;
}

export interface LoadTalosconfigResult {
  context: string;
  contexts: Record<string, TalosconfigContextSummary>;
  client: ClientCertificateSummary;
  caMatchesBundle?: boolean;
}

export interface ContractsResult {
  machineryVersion: string;
  /** "v1.3" … newest. */
  contracts: string[];
}

export interface CheckKubernetesVersionResult {
  supported: boolean;
  reason?: string;
}

/** What the oracle said no to (bad input, or Talos's library refusing it). */
export class OracleError extends Error {
  constructor(
    readonly op: string,
    readonly talosMessage: string,
  ) {
    super(`talos-oracle ${op}: ${talosMessage}`);
    this.name = 'OracleError';
  }
}

interface OracleResponse {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

interface Pending {
  op: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** A running `talos-oracle serve`. Requests may be issued concurrently; answers come back in order. */
export class TalosOracle {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exited: Error | undefined;
  private stderrTail = '';

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => this.onLine(line));
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4000);
    });
    child.on('exit', (code, signal) => {
      this.exited = new Error(`talos-oracle exited (code ${code}, signal ${signal}): ${this.stderrTail}`);
      for (const waiter of this.pending.values()) waiter.reject(this.exited);
      this.pending.clear();
    });
  }

  /** Builds the oracle if needed (cached by source hash) and starts it. */
  static async start(): Promise<TalosOracle> {
    const { binDir } = await buildGoModule({ name: 'talos-oracle', moduleDir: ORACLE_MODULE_DIR, packages: ['.'] });
    const child = spawn(join(binDir, 'talos-oracle'), ['serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
    return new TalosOracle(child);
  }

  call<R>(op: string, params: object): Promise<R> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { op, resolve: resolve as (value: unknown) => void, reject });
      this.child.stdin.write(JSON.stringify({ id, op, params }) + '\n');
    });
  }

  private onLine(line: string): void {
    let response: OracleResponse;
    try {
      response = JSON.parse(line) as OracleResponse;
    } catch {
      this.stderrTail += `\nunparsable oracle output: ${line.slice(0, 200)}`;
      return;
    }
    const waiter = this.pending.get(response.id);
    if (!waiter) return;
    this.pending.delete(response.id);
    if (response.ok) waiter.resolve(response.result);
    else waiter.reject(new OracleError(waiter.op, response.error ?? 'unknown error'));
  }

  genSecrets(params: GenSecretsParams = {}): Promise<string> {
    return this.call<{ bundle: string }>('gen-secrets', params).then((r) => r.bundle);
  }

  loadSecrets(params: LoadSecretsParams): Promise<LoadSecretsResult> {
    return this.call('load-secrets', params);
  }

  genConfig(params: GenConfigParams): Promise<string> {
    return this.call<{ config: string }>('gen-config', params).then((r) => r.config);
  }

  patch(params: PatchParams): Promise<string> {
    return this.call<{ config: string }>('patch', params).then((r) => r.config);
  }

  validate(params: ValidateParams): Promise<ValidateResult> {
    return this.call('validate', params);
  }

  genTalosconfig(params: GenTalosconfigParams): Promise<string> {
    return this.call<{ talosconfig: string }>('gen-talosconfig', params).then((r) => r.talosconfig);
  }

  loadTalosconfig(params: LoadTalosconfigParams): Promise<LoadTalosconfigResult> {
    return this.call('load-talosconfig', params);
  }

  contracts(): Promise<ContractsResult> {
    return this.call('contracts', {});
  }

  checkKubernetesVersion(kubernetesVersion: string, talosVersion: string): Promise<CheckKubernetesVersionResult> {
    return this.call('check-k8s-version', { kubernetesVersion, talosVersion });
  }

  /** Ends the process (closing stdin lets it finish its current answer first). */
  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(timer);
  }
}
