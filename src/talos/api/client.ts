// The machine API client: one object per talosconfig context (or explicit
// certificates) and endpoint list, one typed method per RPC we use.
//
// Every method resolves to one NodeResult per answering node — one for a call
// without target or with `{ node }`, one per node for `{ nodes }` — so a node
// that failed inside a multi-node reply is reported, not dropped. A call that
// fails as a whole rejects with TalosApiError (gRPC code included); bad
// arguments reject with TalosClientConfigError before anything is sent.
import { status as GrpcStatus, type ChannelOptions, type Client, type ClientReadableStream, type Metadata } from '@grpc/grpc-js';
import { channelCredentials, openChannels, pickChannel, type EndpointChannel, type TlsSettings } from './connection';
import { parseEndpoints } from './endpoints';
import { TalosApiError, TalosClientConfigError, toTalosApiError } from './errors';
import { toTalosEvent, type TalosEvent } from './events';
import { extractKubeconfig } from './kubeconfig-archive';
import * as convert from './messages';
import { certificateValidityProblem, checkClientIdentity, type ClientIdentity } from './pem';
import { machineServiceConstructor } from './proto';
import { splitReplies, toNodeResult, type NodeResult, type ReplyContext } from './replies';
import { DEFAULT_RETRY_POLICY, retryDelayMs, type MachineMethod, type RetryPolicy } from './retry';
import { iterateStream } from './streams';
import { loadTalosconfigContext } from './talosconfig';
import { defaultReplyNode, targetMetadata, type NodeTarget } from './targeting';
import { toUint64String } from './uint64';
import { countTalosCall } from '../../metrics/provider-metrics';
import type * as wire from './wire';

export interface TalosClientOptions extends TlsSettings {
  /** host, host:port, [v6]:port; port 50000 when absent. */
  endpoints: readonly string[];
  /** Deadline of a unary call (and of List/Kubeconfig), retries included. Default 30 s. */
  defaultTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Where our .proto files live; found above this module by default. */
  protoDir?: string;
  channelOptions?: ChannelOptions;
}

export interface FromTalosconfigOptions extends Omit<TalosClientOptions, 'caPem' | 'certPem' | 'keyPem' | 'endpoints'> {
  /** Context to use; the talosconfig's current context by default. */
  context?: string;
  /** Endpoints instead of the context's (CACPPT uses the Machines' addresses). */
  endpoints?: readonly string[];
}

export interface CallOptions {
  target?: NodeTarget;
  /** Deadline for this call, retries included. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface BootstrapOptions {
  recoverEtcd?: boolean;
  recoverSkipHashCheck?: boolean;
}

export interface ApplyConfigurationOptions {
  /** The machine config document(s), as YAML text or bytes. */
  config: string | Buffer;
  mode: convert.ApplyConfigurationMode;
  dryRun?: boolean;
  /** For mode TRY: how long until the node rolls back (Talos default 1 min). */
  tryModeTimeoutMs?: number;
}

export interface UpgradeOptions {
  image: string;
  preserve?: boolean;
  stage?: boolean;
  force?: boolean;
  rebootMode?: 'DEFAULT' | 'POWERCYCLE';
}

export interface RebootOptions {
  mode?: 'DEFAULT' | 'POWERCYCLE' | 'FORCE';
}

export interface ResetOptions {
  /** Leave etcd (and check its health) before wiping. */
  graceful?: boolean;
  /** Reboot after the reset instead of halting. */
  reboot?: boolean;
  systemPartitionsToWipe?: { label: string; wipe: boolean }[];
  userDisksToWipe?: string[];
  mode?: 'ALL' | 'SYSTEM_DISK' | 'USER_DISKS';
}

export interface ListOptions {
  root?: string;
  recurse?: boolean;
  /** 0 = no limit. */
  recursionDepth?: number;
  types?: ('REGULAR' | 'DIRECTORY' | 'SYMLINK')[];
  reportXattrs?: boolean;
}

export interface EventsOptions {
  /** Replay this many past events first; -1 for all kept events. */
  tailEvents?: number;
  /** Replay events after this event ID. */
  tailId?: string;
  tailSeconds?: number;
  /** Only events of this actor (e.g. the actorId a Reboot returned). */
  withActorId?: string;
}

export interface ImagePullOptions {
  /** Image reference, e.g. ghcr.io/siderolabs/installer:v1.14.1. */
  image: string;
  /** SYSTEM for an installer (what LifecycleService.Upgrade reads), CRI (default) for Kubernetes images. */
  namespace?: convert.ContainerdNamespace;
}

export interface LifecycleUpgradeOptions {
  /** The installer image, pulled before into `namespace` (ImageService.Pull). */
  image: string;
  /** Where the image was pulled; default SYSTEM. */
  namespace?: convert.ContainerdNamespace;
}

/** Events is long-lived: no deadline unless one is given. */
export type StreamCallOptions = CallOptions;

type UnaryCallback = (err: Error | null, value?: unknown) => void;
type UnaryInvoker = (request: object, metadata: Metadata, options: { deadline: number }, callback: UnaryCallback) => { cancel(): void };
type StreamInvoker = (request: object, metadata: Metadata, options: { deadline?: number }) => ClientReadableStream<unknown>;

const DEFAULT_TIMEOUT_MS = 30_000;

function abortedError(method: string): TalosApiError {
  return new TalosApiError(GrpcStatus.CANCELLED, 'call aborted by the caller', { method });
}

function sleep(ms: number, method: string, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortedError(method));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortedError(method));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The containerd a namespace lives in: Talos's own for SYSTEM, the CRI's for CRI. */
function containerdInstance(namespace: convert.ContainerdNamespace): { driver: string; namespace: string } {
  return { driver: namespace === 'CRI' ? 'CRI' : 'CONTAINERD', namespace: `NS_${namespace}` };
}

function durationFromMs(ms: number): { seconds: string; nanos: number } {
  if (!Number.isFinite(ms) || ms < 0) throw new TalosClientConfigError(`invalid duration ${ms} ms`);
  return { seconds: String(Math.floor(ms / 1000)), nanos: Math.round(ms % 1000) * 1e6 };
}

export class TalosClient {
  /** Roles and validity of the client certificate. */
  readonly identity: ClientIdentity;
  private readonly channels: EndpointChannel[];
  private readonly defaultTimeoutMs: number;
  private readonly retryPolicy: RetryPolicy;

  constructor(options: TalosClientOptions) {
    this.identity = checkClientIdentity(options.caPem, options.certPem, options.keyPem);
    const endpoints = parseEndpoints(options.endpoints);
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.channels = openChannels(
      machineServiceConstructor(options.protoDir),
      endpoints,
      channelCredentials(options),
      options.channelOptions ?? {},
    );
  }

  /** A client from talosconfig YAML (e.g. the `talosconfig` key of the `<cluster>-talosconfig` Secret). */
  static fromTalosconfig(talosconfigYaml: string, options: FromTalosconfigOptions = {}): TalosClient {
    const { context: contextName, endpoints, ...rest } = options;
    const context = loadTalosconfigContext(talosconfigYaml, contextName);
    return new TalosClient({
      ...rest,
      endpoints: endpoints ?? context.endpoints,
      caPem: context.caPem,
      certPem: context.certPem,
      keyPem: context.keyPem,
    });
  }

  /** host:port of every endpoint, in order. */
  get endpoints(): string[] {
    return this.channels.map((c) => c.address);
  }

  close(): void {
    for (const channel of this.channels) channel.client.close();
  }

  // ---- RPCs

  async version(options: CallOptions = {}): Promise<NodeResult<convert.VersionInfo>[]> {
    return this.unary('Version', {}, options, convert.toVersionInfo);
  }

  /** ALREADY_EXISTS means etcd was bootstrapped before. */
  async bootstrap(request: BootstrapOptions = {}, options: CallOptions = {}): Promise<NodeResult<convert.Done>[]> {
    return this.unary(
      'Bootstrap',
      { recoverEtcd: request.recoverEtcd ?? false, recoverSkipHashCheck: request.recoverSkipHashCheck ?? false },
      options,
      convert.toDone,
    );
  }

  /**
   * One resource of the node's resource API (COSI's State.Get, what `talosctl get` reads), e.g.
   * the kube-apiserver's config in namespace `controlplane`; NOT_FOUND when the node has none.
   * Only to the node called (`node` targeting at most, as apid proxies it one-to-one).
   */
  async resource(request: { namespace: string; type: string; id: string }, options: CallOptions = {}): Promise<NodeResult<convert.TalosResource>[]> {
    const wireRequest = { namespace: request.namespace, type: request.type, id: request.id, options: {} };
    return this.unary('ResourceGet', wireRequest, options, convert.toTalosResource, (reply) => [reply as wire.WireResourceGetResponse]);
  }

  async serviceList(options: CallOptions = {}): Promise<NodeResult<convert.ServiceInfo[]>[]> {
    return this.unary('ServiceList', {}, options, convert.toServiceList);
  }

  async etcdMemberList(request: { queryLocal?: boolean } = {}, options: CallOptions = {}): Promise<NodeResult<convert.EtcdMemberList>[]> {
    return this.unary('EtcdMemberList', { queryLocal: request.queryLocal ?? false }, options, convert.toEtcdMemberList);
  }

  /** `memberId` as a decimal (or 0x-hex) string or bigint — never a JS number, which would lose bits. */
  async etcdRemoveMemberByID(memberId: string | bigint, options: CallOptions = {}): Promise<NodeResult<convert.Done>[]> {
    const request = { memberId: toUint64String(memberId, 'etcd member ID') };
    return this.unary('EtcdRemoveMemberByID', request, options, convert.toDone);
  }

  async etcdLeaveCluster(options: CallOptions = {}): Promise<NodeResult<convert.Done>[]> {
    return this.unary('EtcdLeaveCluster', {}, options, convert.toDone);
  }

  async etcdForfeitLeadership(options: CallOptions = {}): Promise<NodeResult<{ member: string }>[]> {
    return this.unary('EtcdForfeitLeadership', {}, options, convert.toForfeitLeadership);
  }

  async etcdStatus(options: CallOptions = {}): Promise<NodeResult<convert.EtcdMemberStatus>[]> {
    return this.unary('EtcdStatus', {}, options, convert.toEtcdMemberStatus);
  }

  async applyConfiguration(
    request: ApplyConfigurationOptions,
    options: CallOptions = {},
  ): Promise<NodeResult<convert.ApplyConfigurationResult>[]> {
    const data = typeof request.config === 'string' ? Buffer.from(request.config) : request.config;
    if (data.length === 0) throw new TalosClientConfigError('ApplyConfiguration needs a non-empty config');
    const wireRequest = {
      data,
      mode: request.mode,
      dryRun: request.dryRun ?? false,
      tryModeTimeout: request.tryModeTimeoutMs === undefined ? null : durationFromMs(request.tryModeTimeoutMs),
    };
    return this.unary('ApplyConfiguration', wireRequest, options, convert.toApplyConfigurationResult);
  }

  async upgrade(request: UpgradeOptions, options: CallOptions = {}): Promise<NodeResult<convert.UpgradeResult>[]> {
    if (!request.image || request.image.trim() === '') throw new TalosClientConfigError('Upgrade needs an image');
    const wireRequest = {
      image: request.image,
      preserve: request.preserve ?? false,
      stage: request.stage ?? false,
      force: request.force ?? false,
      rebootMode: request.rebootMode ?? 'DEFAULT',
    };
    return this.unary('Upgrade', wireRequest, options, convert.toUpgradeResult);
  }

  async reboot(request: RebootOptions = {}, options: CallOptions = {}): Promise<NodeResult<convert.ActorResult>[]> {
    return this.unary('Reboot', { mode: request.mode ?? 'DEFAULT' }, options, convert.toActorResult);
  }

  async reset(request: ResetOptions = {}, options: CallOptions = {}): Promise<NodeResult<convert.ActorResult>[]> {
    const wireRequest = {
      graceful: request.graceful ?? false,
      reboot: request.reboot ?? false,
      systemPartitionsToWipe: request.systemPartitionsToWipe ?? [],
      userDisksToWipe: request.userDisksToWipe ?? [],
      mode: request.mode ?? 'ALL',
    };
    return this.unary('Reset', wireRequest, options, convert.toActorResult);
  }

  /** Files under `root`, streamed; per-node failures arrive as failed results. */
  list(request: ListOptions = {}, options: CallOptions = {}): AsyncGenerator<NodeResult<convert.FileInfo>> {
    const wireRequest = {
      root: request.root ?? '/',
      recurse: request.recurse ?? false,
      recursionDepth: request.recursionDepth ?? 0,
      types: request.types ?? [],
      reportXattrs: request.reportXattrs ?? false,
    };
    return this.serverStream('List', wireRequest, options, options.timeoutMs ?? this.defaultTimeoutMs, convert.toFileInfo);
  }

  /** Images in one containerd namespace of the node (Talos >= 1.13; `node` targeting only, apid does not fan it out). */
  imageList(
    request: { namespace?: convert.ContainerdNamespace } = {},
    options: CallOptions = {},
  ): AsyncGenerator<NodeResult<convert.ImageInfo>> {
    const wireRequest = { containerd: containerdInstance(request.namespace ?? 'CRI') };
    return this.serverStream('ImageServiceList', wireRequest, options, options.timeoutMs ?? this.defaultTimeoutMs, convert.toImageInfo);
  }

  /**
   * Pulls an image into the node's containerd (Talos >= 1.13): per-layer progress, then one
   * `pulled` update with the normalized name. Sent once; a failed pull ends the stream with its error.
   */
  imagePull(request: ImagePullOptions, options: CallOptions = {}): AsyncGenerator<NodeResult<convert.ImagePullUpdate>> {
    if (!request.image || request.image.trim() === '') throw new TalosClientConfigError('ImageService.Pull needs an image');
    const wireRequest = { containerd: containerdInstance(request.namespace ?? 'CRI'), imageRef: request.image };
    return this.serverStream('ImageServicePull', wireRequest, options, options.timeoutMs ?? this.defaultTimeoutMs, convert.toImagePullUpdate);
  }

  /**
   * LifecycleService.Upgrade (Talos >= 1.13; MachineService.Upgrade before): runs the installer
   * from an image already pulled and streams its output, ending with its exit code (non-zero:
   * the upgrade failed, nothing staged). It only writes the new boot entry: no etcd check, no
   * reboot — the caller gates, drains and reboots. Sent once.
   */
  lifecycleUpgrade(request: LifecycleUpgradeOptions, options: CallOptions = {}): AsyncGenerator<NodeResult<convert.UpgradeProgress>> {
    if (!request.image || request.image.trim() === '') throw new TalosClientConfigError('LifecycleService.Upgrade needs an image');
    const wireRequest = { containerd: containerdInstance(request.namespace ?? 'SYSTEM'), source: { imageName: request.image } };
    return this.serverStream('LifecycleServiceUpgrade', wireRequest, options, options.timeoutMs ?? this.defaultTimeoutMs, convert.toUpgradeProgress);
  }

  /** Machine events as they happen (after the replayed tail, if asked for). Ends when the caller stops iterating or aborts. */
  events(request: EventsOptions = {}, options: StreamCallOptions = {}): AsyncGenerator<NodeResult<TalosEvent>> {
    const wireRequest = {
      tailEvents: request.tailEvents ?? 0,
      tailId: request.tailId ?? '',
      tailSeconds: request.tailSeconds ?? 0,
      withActorId: request.withActorId ?? '',
    };
    return this.serverStream('Events', wireRequest, options, options.timeoutMs, toTalosEvent);
  }

  /** The admin kubeconfig (control-plane nodes only), unpacked from the node's .tar.gz. */
  async kubeconfig(options: CallOptions = {}): Promise<NodeResult<string>[]> {
    const chunks = new Map<string, NodeResult<Buffer[]>>();
    const stream = this.serverStream<wire.WireData, Buffer>(
      'Kubeconfig',
      {},
      options,
      options.timeoutMs ?? this.defaultTimeoutMs,
      (m) => m.bytes,
    );
    for await (const result of stream) {
      const seen = chunks.get(result.node);
      if (!result.ok) chunks.set(result.node, result);
      else if (!seen) chunks.set(result.node, { node: result.node, ok: true, value: [result.value] });
      else if (seen.ok) seen.value.push(result.value);
    }
    return [...chunks.values()].map((r): NodeResult<string> => {
      if (!r.ok) return r;
      try {
        return { node: r.node, ok: true, value: extractKubeconfig(Buffer.concat(r.value)) };
      } catch (err) {
        const error = new TalosApiError(GrpcStatus.DATA_LOSS, (err as Error).message, { method: 'Kubeconfig', node: r.node });
        return { node: r.node, ok: false, error };
      }
    });
  }

  // ---- call machinery

  private async unary<M extends wire.WireReplyMessage, T>(
    method: MachineMethod,
    request: object,
    options: CallOptions,
    toValue: (message: M) => T,
    /** The reply's per-node messages: MachineService replies list them; other services' replies are one. */
    messagesOf: (reply: unknown) => M[] = (reply) => (reply as wire.WireReply<M>).messages,
  ): Promise<NodeResult<T>[]> {
    const metadata = targetMetadata(options.target);
    const deadline = Date.now() + (options.timeoutMs ?? this.defaultTimeoutMs);
    for (let attempt = 1; ; attempt += 1) {
      if (options.signal?.aborted) throw abortedError(method);
      const channel = await pickChannel(this.channels, deadline);
      if (Date.now() >= deadline) {
        // The whole budget went on connecting (e.g. a TLS handshake that never completes).
        throw new TalosApiError(GrpcStatus.DEADLINE_EXCEEDED, 'deadline passed while connecting', { method, endpoint: channel.address });
      }
      try {
        const reply = await this.invokeUnary(channel.client, method, request, metadata.clone(), deadline, options.signal);
        countTalosCall(method, 'OK');
        return splitReplies(messagesOf(reply), this.replyContext(method, channel, options.target), toValue);
      } catch (err) {
        const error = this.describeFailure(err, method, channel, options.target);
        countTalosCall(method, error.codeName);
        const delay = this.retryDelay(method, error, attempt, deadline, 0);
        if (delay === undefined) throw error;
        await sleep(delay, method, options.signal);
      }
    }
  }

  private invokeUnary(
    client: Client,
    method: MachineMethod,
    request: object,
    metadata: Metadata,
    deadline: number,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const invoke = (client as unknown as Record<string, UnaryInvoker>)[method] as UnaryInvoker;
    return new Promise((resolve, reject) => {
      const call = invoke.call(client, request, metadata, { deadline }, (err, value) => {
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(value);
      });
      const onAbort = (): void => call.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async *serverStream<M extends wire.WireReplyMessage, T>(
    method: MachineMethod,
    request: object,
    options: CallOptions,
    timeoutMs: number | undefined,
    toValue: (message: M) => T,
  ): AsyncGenerator<NodeResult<T>> {
    const metadata = targetMetadata(options.target);
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    for (let attempt = 1; ; attempt += 1) {
      if (options.signal?.aborted) throw abortedError(method);
      const connectDeadline = deadline ?? Date.now() + this.defaultTimeoutMs;
      const channel = await pickChannel(this.channels, connectDeadline);
      const invoke = (channel.client as unknown as Record<string, StreamInvoker>)[method] as StreamInvoker;
      const call = invoke.call(channel.client, request, metadata.clone(), deadline === undefined ? {} : { deadline });
      const context = this.replyContext(method, channel, options.target);
      let delivered = 0;
      try {
        for await (const message of iterateStream(call, (err) => err as Error, options.signal)) {
          delivered += 1;
          yield toNodeResult(message as M, context, toValue);
        }
        countTalosCall(method, 'OK');
        return;
      } catch (err) {
        if (options.signal?.aborted) throw abortedError(method);
        const error = this.describeFailure(err, method, channel, options.target);
        countTalosCall(method, error.codeName);
        const delay = this.retryDelay(method, error, attempt, deadline ?? Number.POSITIVE_INFINITY, delivered);
        if (delay === undefined) throw error;
        await sleep(delay, method, options.signal);
      }
    }
  }

  private replyContext(method: string, channel: EndpointChannel, target?: NodeTarget): ReplyContext {
    return { method, fallbackNode: defaultReplyNode(target, channel.endpoint.host), endpoint: channel.address };
  }

  private retryDelay(method: MachineMethod, error: TalosApiError, attempt: number, deadline: number, delivered: number): number | undefined {
    return retryDelayMs(
      {
        method,
        code: error.code,
        attempt,
        remainingMs: deadline - Date.now(),
        messagesDelivered: delivered,
        permanent: certificateValidityProblem(this.identity, new Date()) !== undefined,
      },
      this.retryPolicy,
    );
  }

  /**
   * A refused TLS handshake reaches us only as UNAVAILABLE with an alert text;
   * when our own certificate is out of its validity window, say so.
   */
  private describeFailure(err: unknown, method: string, channel: EndpointChannel, target?: NodeTarget): TalosApiError {
    const node = target && 'node' in target ? target.node : undefined;
    const error = toTalosApiError(err, { method, endpoint: channel.address, ...(node ? { node } : {}) });
    const problem = certificateValidityProblem(this.identity, new Date());
    if (error.code !== GrpcStatus.UNAVAILABLE || !problem) return error;
    return new TalosApiError(error.code, `${error.details} (${problem})`, {
      method,
      endpoint: channel.address,
      ...(node ? { node } : {}),
    });
  }
}

