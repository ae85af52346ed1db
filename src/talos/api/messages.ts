// What callers get back: plain typed values made from the wire messages, with
// common.Metadata removed (it lives in NodeResult), 64-bit IDs as decimal
// strings, 64-bit quantities as bigint and timestamps as Date.
import { wireBigInt, wireUint64String, type EtcdMemberId } from './uint64';
import type {
  WireActorReply,
  WireApplyConfiguration,
  WireEtcdForfeitLeadership,
  WireEtcdMembers,
  WireEtcdStatus,
  WireFileInfo,
  WireImageServiceListResponse,
  WireImageServicePullResponse,
  WireLifecycleServiceUpgradeResponse,
  WireResourceGetResponse,
  WireServiceHealth,
  WireServiceList,
  WireTimestamp,
  WireUpgrade,
  WireVersion,
} from './wire';

export interface VersionInfo {
  tag: string;
  sha: string;
  built: string;
  goVersion: string;
  os: string;
  arch: string;
  platform?: { name: string; mode: string };
  features: { rbac: boolean };
}

export interface ServiceHealth {
  unknown: boolean;
  healthy: boolean;
  lastMessage: string;
  lastChange?: Date;
}

export interface ServiceInfo {
  id: string;
  /** e.g. "Running", "Finished", "Waiting". */
  state: string;
  health: ServiceHealth;
  events: { msg: string; state: string; ts?: Date }[];
}

export interface EtcdMember {
  id: EtcdMemberId;
  hostname: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

export interface EtcdMemberList {
  members: EtcdMember[];
  legacyMembers: string[];
}

export interface EtcdMemberStatus {
  memberId: EtcdMemberId;
  /** Member ID of the current leader. */
  leader: EtcdMemberId;
  protocolVersion: string;
  storageVersion: string;
  dbSize: bigint;
  dbSizeInUse: bigint;
  raftIndex: bigint;
  raftTerm: bigint;
  raftAppliedIndex: bigint;
  errors: string[];
  isLearner: boolean;
}

export type ApplyConfigurationMode = 'REBOOT' | 'AUTO' | 'NO_REBOOT' | 'STAGED' | 'TRY';

export interface ApplyConfigurationResult {
  /** The mode the node actually used. */
  mode: ApplyConfigurationMode;
  modeDetails: string;
  warnings: string[];
}

export interface ActorResult {
  /** ID of the node-side actor; Events with this actor ID belong to the action. */
  actorId: string;
}

export interface UpgradeResult extends ActorResult {
  ack: string;
}

/** Nothing but success (Bootstrap, EtcdLeaveCluster, EtcdRemoveMemberByID). */
export type Done = Record<string, never>;

export interface FileInfo {
  name: string;
  relativeName: string;
  size: bigint;
  /** Unix mode bits as Go's fs.FileMode reports them. */
  mode: number;
  modified: Date;
  isDir: boolean;
  link: string;
  uid: number;
  gid: number;
  /** Per-file error from the node (the entry could not be read); empty when fine. */
  error: string;
}

export function timestampToDate(ts: WireTimestamp | null | undefined): Date | undefined {
  if (!ts) return undefined;
  return new Date(Number(wireBigInt(ts.seconds)) * 1000 + Math.floor(ts.nanos / 1e6));
}

export function toVersionInfo(m: WireVersion): VersionInfo {
  const v = m.version;
  return {
    tag: v?.tag ?? '',
    sha: v?.sha ?? '',
    built: v?.built ?? '',
    goVersion: v?.goVersion ?? '',
    os: v?.os ?? '',
    arch: v?.arch ?? '',
    ...(m.platform ? { platform: { name: m.platform.name, mode: m.platform.mode } } : {}),
    features: { rbac: m.features?.rbac ?? false },
  };
}

export function toServiceHealth(h: WireServiceHealth | null | undefined): ServiceHealth {
  const lastChange = timestampToDate(h?.lastChange);
  return {
    unknown: h?.unknown ?? true,
    healthy: h?.healthy ?? false,
    lastMessage: h?.lastMessage ?? '',
    ...(lastChange ? { lastChange } : {}),
  };
}

export function toServiceList(m: WireServiceList): ServiceInfo[] {
  return m.services.map((s) => ({
    id: s.id,
    state: s.state,
    health: toServiceHealth(s.health),
    events: (s.events?.events ?? []).map((e) => {
      const ts = timestampToDate(e.ts);
      return { msg: e.msg, state: e.state, ...(ts ? { ts } : {}) };
    }),
  }));
}

export function toEtcdMemberList(m: WireEtcdMembers): EtcdMemberList {
  return {
    legacyMembers: m.legacyMembers,
    members: m.members.map((member) => ({
      id: wireUint64String(member.id),
      hostname: member.hostname,
      peerUrls: member.peerUrls,
      clientUrls: member.clientUrls,
      isLearner: member.isLearner,
    })),
  };
}

export function toEtcdMemberStatus(m: WireEtcdStatus): EtcdMemberStatus {
  const s = m.memberStatus;
  return {
    memberId: wireUint64String(s?.memberId),
    leader: wireUint64String(s?.leader),
    protocolVersion: s?.protocolVersion ?? '',
    storageVersion: s?.storageVersion ?? '',
    dbSize: wireBigInt(s?.dbSize),
    dbSizeInUse: wireBigInt(s?.dbSizeInUse),
    raftIndex: wireBigInt(s?.raftIndex),
    raftTerm: wireBigInt(s?.raftTerm),
    raftAppliedIndex: wireBigInt(s?.raftAppliedIndex),
    errors: s?.errors ?? [],
    isLearner: s?.isLearner ?? false,
  };
}

export function toForfeitLeadership(m: WireEtcdForfeitLeadership): { member: string } {
  return { member: m.member };
}

export function toApplyConfigurationResult(m: WireApplyConfiguration): ApplyConfigurationResult {
  return { mode: m.mode as ApplyConfigurationMode, modeDetails: m.modeDetails, warnings: m.warnings };
}

export function toActorResult(m: WireActorReply): ActorResult {
  return { actorId: m.actorId };
}

export function toUpgradeResult(m: WireUpgrade): UpgradeResult {
  return { ack: m.ack, actorId: m.actorId };
}

export function toDone(): Done {
  return {};
}

export function toFileInfo(m: WireFileInfo): FileInfo {
  return {
    name: m.name,
    relativeName: m.relativeName,
    size: wireBigInt(m.size),
    mode: m.mode,
    modified: new Date(Number(wireBigInt(m.modified)) * 1000),
    isDir: m.isDir,
    link: m.link,
    uid: m.uid,
    gid: m.gid,
    error: m.error,
  };
}

/** A containerd namespace of the node: Talos's own images (the installer) or the CRI's (Kubernetes). */
export type ContainerdNamespace = 'SYSTEM' | 'CRI';

export interface ImageInfo {
  name: string;
  digest: string;
  size: bigint;
  createdAt?: Date;
}

export type PullLayerStatus = 'DOWNLOADING' | 'DOWNLOAD_COMPLETE' | 'EXTRACTING' | 'EXTRACT_COMPLETE' | 'ALREADY_EXISTS';

/** One message of ImageService.Pull: per-layer progress, then the pulled image's (normalized) name. */
export type ImagePullUpdate =
  | { kind: 'progress'; layerId: string; status: PullLayerStatus; offset: bigint; total: bigint }
  | { kind: 'pulled'; name: string };

/** One message of LifecycleService.Upgrade: a line of installer output, then its exit code. */
export type UpgradeProgress = { kind: 'message'; message: string } | { kind: 'exit'; exitCode: number };

export function toImageInfo(m: WireImageServiceListResponse): ImageInfo {
  const createdAt = timestampToDate(m.createdAt);
  return { name: m.name, digest: m.digest, size: wireBigInt(m.size), ...(createdAt ? { createdAt } : {}) };
}

export function toImagePullUpdate(m: WireImageServicePullResponse): ImagePullUpdate {
  if (m.response === 'name') return { kind: 'pulled', name: m.name ?? '' };
  const progress = m.pullProgress?.progress;
  return {
    kind: 'progress',
    layerId: m.pullProgress?.layerId ?? '',
    status: (progress?.status ?? 'DOWNLOADING') as PullLayerStatus,
    offset: wireBigInt(progress?.offset ?? '0'),
    total: wireBigInt(progress?.total ?? '0'),
  };
}

export function toUpgradeProgress(m: WireLifecycleServiceUpgradeResponse): UpgradeProgress {
  if (m.progress?.response === 'exitCode') return { kind: 'exit', exitCode: m.progress.exitCode ?? 0 };
  return { kind: 'message', message: m.progress?.message ?? '' };
}

/** A resource of the node's resource API (COSI): where it lives, its version (bumped on every change) and its spec as YAML. */
export interface TalosResource {
  namespace: string;
  type: string;
  id: string;
  version: string;
  yamlSpec: string;
}

export function toTalosResource(m: WireResourceGetResponse): TalosResource {
  const metadata = m.resource?.metadata;
  return {
    namespace: metadata?.namespace ?? '',
    type: metadata?.type ?? '',
    id: metadata?.id ?? '',
    version: metadata?.version ?? '',
    yamlSpec: m.resource?.spec?.yamlSpec ?? '',
  };
}
