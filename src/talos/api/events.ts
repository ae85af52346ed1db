// Machine events (the Events stream). Event.data is a google.protobuf.Any with
// type URL "talos/runtime/<proto full name>"; the kinds we declare in our
// protos are decoded, anything else is kept as "unknown" with its type URL.
import { toServiceHealth, type ServiceHealth } from './messages';
import { wireBigInt } from './uint64';
import type { WireAny, WireEvent, WireServiceHealth } from './wire';

export type TalosEventPayload =
  | { kind: 'sequence'; sequence: string; action: string; error?: { code: string; message: string } }
  | { kind: 'phase'; phase: string; action: string }
  | { kind: 'task'; task: string; action: string }
  | { kind: 'serviceState'; service: string; action: string; message: string; health: ServiceHealth }
  | { kind: 'machineStatus'; stage: string; ready: boolean; unmetConditions: { name: string; reason: string }[] }
  | { kind: 'configLoadError'; error: string }
  | { kind: 'configValidationError'; error: string }
  | { kind: 'address'; hostname: string; addresses: string[] }
  | { kind: 'restart'; cmd: bigint }
  | { kind: 'unknown'; typeUrl: string };

export interface TalosEvent {
  id: string;
  actorId: string;
  typeUrl: string;
  payload: TalosEventPayload;
}

type Fields = Record<string, unknown>;

const str = (f: Fields, key: string): string => (typeof f[key] === 'string' ? (f[key] as string) : '');
const rec = (f: Fields, key: string): Fields | undefined =>
  typeof f[key] === 'object' && f[key] !== null ? (f[key] as Fields) : undefined;

const decoders: Record<string, (f: Fields) => TalosEventPayload> = {
  'machine.SequenceEvent': (f) => {
    const error = rec(f, 'error');
    return {
      kind: 'sequence',
      sequence: str(f, 'sequence'),
      action: str(f, 'action'),
      ...(error ? { error: { code: str(error, 'code'), message: str(error, 'message') } } : {}),
    };
  },
  'machine.PhaseEvent': (f) => ({ kind: 'phase', phase: str(f, 'phase'), action: str(f, 'action') }),
  'machine.TaskEvent': (f) => ({ kind: 'task', task: str(f, 'task'), action: str(f, 'action') }),
  'machine.ServiceStateEvent': (f) => ({
    kind: 'serviceState',
    service: str(f, 'service'),
    action: str(f, 'action'),
    message: str(f, 'message'),
    health: toServiceHealth(rec(f, 'health') as WireServiceHealth | undefined),
  }),
  'machine.MachineStatusEvent': (f) => {
    const status = rec(f, 'status');
    const unmet = Array.isArray(status?.unmetConditions) ? (status.unmetConditions as Fields[]) : [];
    return {
      kind: 'machineStatus',
      stage: str(f, 'stage'),
      ready: status?.ready === true,
      unmetConditions: unmet.map((c) => ({ name: str(c, 'name'), reason: str(c, 'reason') })),
    };
  },
  'machine.ConfigLoadErrorEvent': (f) => ({ kind: 'configLoadError', error: str(f, 'error') }),
  'machine.ConfigValidationErrorEvent': (f) => ({ kind: 'configValidationError', error: str(f, 'error') }),
  'machine.AddressEvent': (f) => ({
    kind: 'address',
    hostname: str(f, 'hostname'),
    addresses: Array.isArray(f.addresses) ? (f.addresses as string[]) : [],
  }),
  'machine.RestartEvent': (f) => ({ kind: 'restart', cmd: wireBigInt(f.cmd as string | undefined) }),
};

/** The proto full name in a type URL: everything after the last "/". */
export function typeNameOfUrl(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
}

export function decodeEventPayload(data: WireAny | null): { typeUrl: string; payload: TalosEventPayload } {
  if (!data) return { typeUrl: '', payload: { kind: 'unknown', typeUrl: '' } };
  if ('@type' in data) {
    const typeUrl = data['@type'];
    const decode = decoders[typeNameOfUrl(typeUrl)];
    return { typeUrl, payload: decode ? decode(data) : { kind: 'unknown', typeUrl } };
  }
  return { typeUrl: data.type_url, payload: { kind: 'unknown', typeUrl: data.type_url } };
}

export function toTalosEvent(m: WireEvent): TalosEvent {
  return { id: m.id, actorId: m.actorId, ...decodeEventPayload(m.data) };
}
