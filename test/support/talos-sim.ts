// Drives test/talos-sim, our Go program that plays Talos nodes on loopback with
// the official machine API stubs. One simulator process holds any number of
// nodes; this harness builds it (cached by source hash), starts it, reads the
// control address it prints, and wraps its HTTP/JSON control interface.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { buildGoModule } from './go-build';

export const SIM_MODULE_DIR = join(__dirname, '..', 'talos-sim');

/** A cold build (Talos's machinery and gRPC) takes minutes on 2 cores; a cached one is instant. */
export const SIM_BUILD_TIMEOUT_MS = 15 * 60 * 1000;

export type RuntimeMode = 'metal' | 'container' | 'cloud';

export interface TalosSimOptions {
  /** Runtime mode configs are validated for (default metal). */
  mode?: RuntimeMode;
  /** ports: every node on 127.0.0.1 with its own port (default); ips: 127.a.b.x:50000. */
  addressing?: 'ports' | 'ips';
  /** ips: the first node address (default: a random 127.a.b.2 with a in 1–99, see ipsFirstAddress). */
  firstIp?: string;
  /** Default time a boot sequence stays in progress. */
  bootDelayMs?: number;
  /** Time a rebooting node stays down (default 100 ms). */
  rebootDowntimeMs?: number;
  /** Validation warnings become errors. */
  strict?: boolean;
  /** Run Talos's Kubernetes-version compatibility check too. */
  checkKubernetesVersions?: boolean;
  /** Node APIs negotiate no ALPN protocol, like Talos < 1.9 (the client must tolerate that). */
  noAlpn?: boolean;
  /** Forward the simulator's log (stderr) to this process's stderr. */
  verbose?: boolean;
}

export type NodeState = 'booting' | 'running' | 'failed' | 'stopped' | 'rebooting' | 'resetting' | 'maintenance';

export interface RpcFault {
  /** gRPC code name ("Unavailable", "FAILED_PRECONDITION") or number. */
  code: string;
  message?: string;
  /** Fail only this many calls; omitted or 0 = every call. */
  times?: number;
}

export interface SimFaults {
  /** The node's API listener is closed: connections refused, proxied calls fail. */
  unreachable?: boolean;
  /** Added to every RPC the node serves. */
  latencyMs?: number;
  /**
   * Keyed by method name ("Bootstrap") or full method ("/machine.MachineService/Bootstrap"); a short
   * name shared by services ("Upgrade", "List") matches all of them, the full one only its own
   * ("/machine.LifecycleService/Upgrade", "/machine.ImageService/Pull").
   */
  rpcErrors?: Record<string, RpcFault>;
  /** LifecycleService.Upgrade's installer exits with this code (its last message); nothing is staged. */
  installerExitCode?: number;
  /** A reboot (Reboot, Upgrade, reset with reboot) leaves the node down until this is cleared; then it boots. */
  staysDownAfterReboot?: boolean;
  /** Images the node cannot fetch: pulling one fails with NOT_FOUND; a static pod running one is not ready. */
  brokenImages?: string[];
}

/** A control-plane static pod as the node last rendered it. */
export interface StaticPodView {
  name: 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler';
  image: string;
  /** The config version that last changed this pod (Talos's talos.dev/config-version annotation). */
  configVersion: number;
  ready: boolean;
  message?: string;
}

/** An image in the node's containerd. */
export interface ImageView {
  /** "system" (Talos's own, e.g. the installer) or "k8s.io" (the CRI's). */
  namespace: string;
  /** Normalized, e.g. docker.io/library/nginx:latest. */
  name: string;
  digest: string;
  size: number;
  /** pull: ImageService.Pull / MachineService.ImagePull; node: fetched for what its config runs. */
  source: 'pull' | 'node';
  pulledAt: string;
}

export interface ServiceView {
  id: string;
  state: string;
  events: { msg: string; state: string; ts: string }[];
  health: { unknown: boolean; healthy: boolean; lastMessage?: string; lastChange: string };
}

export interface EtcdMemberView {
  /** Decimal string: member IDs use the full 64-bit range. */
  id: string;
  hostname: string;
  nodeId: string;
  started: boolean;
}

export interface EtcdView {
  bootstrapped: boolean;
  /** Member ID (decimal) of the leader; absent without quorum. */
  leader?: string;
  quorum: boolean;
  started: number;
  members: EtcdMemberView[];
}

/** What changed a cluster's etcd (see test/talos-sim/README.md, "etcd history"). */
export type EtcdEvent = 'bootstrap' | 'joined' | 'removed' | 'left' | 'reset' | 'stopped' | 'rebooting' | 'deleted' | 'started';

export interface EtcdMemberRef {
  hostname: string;
  /** Decimal string. */
  id: string;
  nodeId: string;
}

/** One change of a cluster's etcd membership or member liveness, with the state right after it. */
export interface EtcdSample {
  /** RFC 3339 UTC with milliseconds. */
  time: string;
  event: EtcdEvent;
  /** The member the event concerns. */
  member: EtcdMemberRef;
  members: (EtcdMemberRef & { up: boolean })[];
  memberCount: number;
  upCount: number;
  /** upCount > memberCount / 2. */
  quorum: boolean;
}

export interface EventView {
  id: string;
  at: string;
  /** Proto full name of the payload, e.g. "machine.SequenceEvent". */
  type?: string;
  data?: unknown;
}

/** What the simulator tells about a node. Detail fields come with inspect(). */
export interface SimNode {
  id: string;
  /** host:port of the node's machine API. */
  address: string;
  host: string;
  port: number;
  state: NodeState;
  /** Talos's loader/validator message when the config was rejected. */
  bootError?: string;
  /** What a booting node waits for (e.g. a worker waiting for trustd). */
  waiting?: string;
  hostname?: string;
  machineType?: string;
  mode: RuntimeMode;
  clusterName?: string;
  /** Talos version the node runs (its installer image tag). */
  version?: string;
  image?: string;
  /** Installer image staged for the next boot (Upgrade with stage, LifecycleService.Upgrade). */
  stagedImage?: string;
  bootCount: number;
  /** Configs put in effect since boot: 1 after boot, +1 per live ApplyConfiguration. */
  configVersion?: number;
  /** The image the kubelet runs (the config in effect). */
  kubeletImage?: string;
  warnings?: string[];
  faults: SimFaults;
  /** Decimal string. */
  etcdMemberId?: string;
  etcdData: boolean;
  services?: ServiceView[];
  etcd?: EtcdView;
  appliedConfig?: string;
  bootConfig?: string;
  events?: EventView[];
  /** Control-plane nodes: the static pods, by name. */
  staticPods?: StaticPodView[];
  images?: ImageView[];
}

export interface BootOptions {
  /** Node ID (default node-N). */
  id?: string;
  /** Hostname when the config sets none, as a platform would provide it. */
  hostname?: string;
  mode?: RuntimeMode;
  bootDelayMs?: number;
}

export interface GenerateClusterParams {
  clusterName: string;
  /** Kubernetes API endpoint (default https://127.0.0.1:6443). */
  endpoint?: string;
  kubernetesVersion?: string;
  /** Version contract, e.g. "v1.13"; default the newest machinery knows. */
  talosVersion?: string;
  installImage?: string;
  talosconfigEndpoints?: string[];
  /** Extra talosconfigs with these roles (e.g. "os:reader"), keyed by role. */
  extraRoles?: string[];
}

/** Output of Talos's own generator (all YAML). */
export interface GeneratedCluster {
  secrets: string;
  controlplane: string;
  worker: string;
  /** os:admin. */
  talosconfig: string;
  talosconfigs?: Record<string, string>;
}

/** The control interface said no (unknown node, bad input, conflict). */
export class TalosSimError extends Error {
  constructor(
    readonly status: number,
    readonly simMessage: string,
  ) {
    super(`talos-sim: ${simMessage} (HTTP ${status})`);
    this.name = 'TalosSimError';
  }
}

const CONTROL_PREFIX = 'TALOS_SIM_CONTROL=';

/**
 * Where an `ips` simulator starts: a /24 of its own, picked at random in 127.1–99.x.x, so that
 * simulators running side by side (a demo and a test run, two worlds) never reach for the same
 * address between one's free-address check and its bind. 127.0.x.x stays for endpoints and tests.
 */
export function ipsFirstAddress(random: () => number = Math.random): string {
  return `127.${1 + Math.floor(random() * 99)}.${Math.floor(random() * 256)}.2`;
}

export function simulatorArgs(options: TalosSimOptions): string[] {
  const args = ['-exit-on-stdin-eof', '-mode', options.mode ?? 'metal', '-addressing', options.addressing ?? 'ports'];
  if (options.addressing === 'ips') args.push('-first-ip', options.firstIp ?? ipsFirstAddress());
  if (options.bootDelayMs !== undefined) args.push('-boot-delay', `${options.bootDelayMs}ms`);
  if (options.rebootDowntimeMs !== undefined) args.push('-reboot-downtime', `${options.rebootDowntimeMs}ms`);
  if (options.strict) args.push('-strict');
  if (options.checkKubernetesVersions) args.push('-check-kubernetes-versions');
  if (options.noAlpn) args.push('-no-alpn');
  return args;
}

/** Builds the simulator binary if needed; returns its path. */
export async function buildTalosSim(): Promise<string> {
  const { binDir } = await buildGoModule({ name: 'talos-sim', moduleDir: SIM_MODULE_DIR, packages: ['./cmd/talos-sim'] });
  return join(binDir, 'talos-sim');
}

/**
 * The simulator's HTTP control interface at `controlUrl`: for a simulator this process started
 * (TalosSim) or one started elsewhere (a world's, found in its state file).
 */
export class TalosSimControl {
  constructor(readonly controlUrl: string) {}

  /** Throws when the simulator is known to be gone (a simulator started elsewhere: never known). */
  protected checkAlive(): void {}

  protected async request<T>(method: string, path: string, body?: string, contentType = 'application/yaml'): Promise<T> {
    this.checkAlive();
    const response = await fetch(this.controlUrl + path, {
      method,
      body,
      headers: body === undefined ? undefined : { 'content-type': contentType },
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new TalosSimError(response.status, `unparsable reply: ${text.slice(0, 200)}`);
    }
    if (!response.ok) {
      const message = (parsed as { error?: string } | undefined)?.error ?? text;
      throw new TalosSimError(response.status, message);
    }
    return parsed as T;
  }

  /**
   * Creates a node from a machine config (the bootstrap data) and boots it. A config Talos rejects
   * still creates the node: `state` is "failed" and `bootError` holds Talos's message.
   */
  bootNode(configYaml: string, options: BootOptions = {}): Promise<SimNode> {
    const query = new URLSearchParams();
    if (options.id) query.set('id', options.id);
    if (options.hostname) query.set('hostname', options.hostname);
    if (options.mode) query.set('mode', options.mode);
    if (options.bootDelayMs !== undefined) query.set('bootDelayMs', String(options.bootDelayMs));
    const suffix = query.size > 0 ? `?${query.toString()}` : '';
    return this.request('POST', `/nodes${suffix}`, configYaml);
  }

  /** Full view: services, etcd membership, configs, events. */
  inspect(id: string): Promise<SimNode> {
    return this.request('GET', `/nodes/${encodeURIComponent(id)}`);
  }

  listNodes(): Promise<SimNode[]> {
    return this.request('GET', '/nodes');
  }

  /** Powers the node off: API gone, etcd member down. */
  stopNode(id: string): Promise<SimNode> {
    return this.request('POST', `/nodes/${encodeURIComponent(id)}/stop`);
  }

  /** Powers a stopped/failed node on, optionally with new bootstrap data. */
  startNode(id: string, configYaml?: string): Promise<SimNode> {
    return this.request('POST', `/nodes/${encodeURIComponent(id)}/start`, configYaml ?? '');
  }

  /** Removes the node as if its machine were destroyed (its etcd member stays until removed). */
  async deleteNode(id: string): Promise<void> {
    await this.request('DELETE', `/nodes/${encodeURIComponent(id)}`);
  }

  /** Replaces the node's faults. */
  setFault(id: string, faults: SimFaults): Promise<SimNode> {
    return this.request('PUT', `/nodes/${encodeURIComponent(id)}/faults`, JSON.stringify(faults), 'application/json');
  }

  clearFaults(id: string): Promise<SimNode> {
    return this.request('DELETE', `/nodes/${encodeURIComponent(id)}/faults`);
  }

  /**
   * The membership history of the etcd cluster the control-plane node `nodeId` belongs to, oldest
   * first (the simulator keeps the last 10,000 samples); judge it with membershipInvariants().
   */
  async etcdHistory(nodeId: string): Promise<EtcdSample[]> {
    const { samples } = await this.request<{ samples: EtcdSample[] }>('GET', `/etcd?node=${encodeURIComponent(nodeId)}`);
    return samples;
  }

  /** Secrets, configs and talosconfigs from Talos's own generator (fixtures for tests). */
  generateCluster(params: GenerateClusterParams): Promise<GeneratedCluster> {
    return this.request('POST', '/generate', JSON.stringify(params), 'application/json');
  }

  /** Polls inspect() until the predicate holds (e.g. after a reboot). */
  async waitFor(id: string, predicate: (node: SimNode) => boolean, timeoutMs = 10000): Promise<SimNode> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const node = await this.inspect(id);
      if (predicate(node)) return node;
      if (Date.now() > deadline) throw new Error(`timed out waiting for node ${id}; last state ${node.state}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

}

/** A running simulator process. */
export class TalosSim extends TalosSimControl {
  private exited: Error | undefined;

  private constructor(
    private readonly child: ChildProcess,
    controlUrl: string,
    private readonly stderrTail: () => string,
  ) {
    super(controlUrl);
    child.on('exit', (code, signal) => {
      this.exited = new Error(`talos-sim exited (code ${code}, signal ${signal}): ${stderrTail()}`);
    });
  }

  protected override checkAlive(): void {
    if (this.exited) throw this.exited;
  }

  /** Builds (cached) and starts a simulator; resolves once its control interface listens. */
  static async start(options: TalosSimOptions = {}): Promise<TalosSim> {
    const binary = await buildTalosSim();
    // stdin is the simulator's lifeline: if this process dies, the pipe closes and it exits
    const child = spawn(binary, simulatorArgs(options), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
      if (options.verbose) process.stderr.write(chunk);
    });

    const controlUrl = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      const timer = setTimeout(() => reject(new Error(`talos-sim did not report its control address: ${stderr}`)), 30000);
      lines.on('line', (line) => {
        if (!line.startsWith(CONTROL_PREFIX)) return;
        clearTimeout(timer);
        resolve(line.slice(CONTROL_PREFIX.length).trim());
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`talos-sim exited early (code ${code}): ${stderr}`));
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });

    return new TalosSim(child, controlUrl, () => stderr);
  }

  /** Stops every node and ends the process. */
  async shutdown(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      await this.request('POST', '/shutdown');
    } catch {
      this.child.kill('SIGTERM');
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(timer);
  }
}
