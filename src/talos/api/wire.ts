// Shapes of the objects proto-loader produces for our protos with the options
// in proto.ts (camelCase fields, longs as decimal strings, enums as names,
// defaults filled, absent sub-messages as null, bytes as Buffer, Any decoded
// with "@type" when the type is in our protos). Only what we read is typed.

export type WireLong = string;

export interface WireStatus {
  code: number;
  message: string;
}

export interface WireMetadata {
  hostname: string;
  error: string;
  status: WireStatus | null;
}

/**
 * Every MachineService reply message carries common.Metadata as field 1;
 * ImageService and LifecycleService replies have none (apid only proxies them
 * one-to-one).
 */
export interface WireReplyMessage {
  metadata?: WireMetadata | null;
}

export interface WireReply<M extends WireReplyMessage> {
  messages: M[];
}

export interface WireTimestamp {
  seconds: WireLong;
  nanos: number;
}

export interface WireVersion extends WireReplyMessage {
  version: { tag: string; sha: string; built: string; goVersion: string; os: string; arch: string } | null;
  platform: { name: string; mode: string } | null;
  features: { rbac: boolean } | null;
}

export interface WireServiceHealth {
  unknown: boolean;
  healthy: boolean;
  lastMessage: string;
  lastChange: WireTimestamp | null;
}

export interface WireServiceInfo {
  id: string;
  state: string;
  events: { events: { msg: string; state: string; ts: WireTimestamp | null }[] } | null;
  health: WireServiceHealth | null;
}

export interface WireServiceList extends WireReplyMessage {
  services: WireServiceInfo[];
}

export interface WireEtcdMember {
  id: WireLong;
  hostname: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

export interface WireEtcdMembers extends WireReplyMessage {
  legacyMembers: string[];
  members: WireEtcdMember[];
}

export interface WireEtcdStatus extends WireReplyMessage {
  memberStatus: {
    storageVersion: string;
    memberId: WireLong;
    protocolVersion: string;
    dbSize: WireLong;
    dbSizeInUse: WireLong;
    leader: WireLong;
    raftIndex: WireLong;
    raftTerm: WireLong;
    raftAppliedIndex: WireLong;
    errors: string[];
    isLearner: boolean;
  } | null;
}

export interface WireEtcdForfeitLeadership extends WireReplyMessage {
  member: string;
}

export interface WireApplyConfiguration extends WireReplyMessage {
  warnings: string[];
  mode: string;
  modeDetails: string;
}

export interface WireActorReply extends WireReplyMessage {
  actorId: string;
}

export interface WireUpgrade extends WireActorReply {
  ack: string;
}

export interface WireFileInfo extends WireReplyMessage {
  name: string;
  size: WireLong;
  mode: number;
  modified: WireLong;
  isDir: boolean;
  error: string;
  link: string;
  relativeName: string;
  uid: number;
  gid: number;
  xattrs: { name: string; data: Buffer }[];
}

export interface WireData extends WireReplyMessage {
  bytes: Buffer;
}

/**
 * A decoded google.protobuf.Any: a type in our protos gets "@type" plus its
 * fields; any other stays raw (protobufjs's bundled Any keeps snake_case).
 */
export type WireAny = ({ '@type': string } & Record<string, unknown>) | { type_url: string; value: Buffer };

export interface WireEvent extends WireReplyMessage {
  data: WireAny | null;
  id: string;
  actorId: string;
}

export interface WireImageServiceListResponse extends WireReplyMessage {
  name: string;
  digest: string;
  size: WireLong;
  createdAt: WireTimestamp | null;
}

export interface WirePullLayerProgress {
  status: string;
  elapsed: { seconds: WireLong; nanos: number } | null;
  offset: WireLong;
  total: WireLong;
}

/** oneof response: `name` (the last message) or `pullProgress`. */
export interface WireImageServicePullResponse extends WireReplyMessage {
  response?: 'name' | 'pullProgress';
  name?: string;
  pullProgress?: { layerId: string; progress: WirePullLayerProgress | null } | null;
}

/** oneof response: `message` (installer output) or `exitCode` (the last message). */
export interface WireLifecycleServiceUpgradeResponse extends WireReplyMessage {
  progress: { response?: 'message' | 'exitCode'; message?: string; exitCode?: number } | null;
}

/** cosi.resource.GetResponse: one resource, no common.Metadata (apid proxies it one-to-one). */
export interface WireResourceGetResponse extends WireReplyMessage {
  resource: {
    metadata: { namespace: string; type: string; id: string; version: string; phase: string } | null;
    spec: { yamlSpec: string } | null;
  } | null;
}
