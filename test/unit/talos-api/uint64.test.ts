import { TalosClientConfigError } from '../../../src/talos/api/errors';
import { toEtcdMemberList, toEtcdMemberStatus } from '../../../src/talos/api/messages';
import { machineDefinition } from '../../../src/talos/api/proto';
import { memberIdHex, toUint64String, wireBigInt } from '../../../src/talos/api/uint64';
import type { WireEtcdMembers, WireEtcdStatus, WireReply } from '../../../src/talos/api/wire';

const MAX = '18446744073709551615';
// A real-looking etcd member ID above 2^53: Number() would round it.
const BIG_ID = '10276657743932975437';

interface MethodDef {
  requestSerialize(value: object): Buffer;
  requestDeserialize(bytes: Buffer): Record<string, unknown>;
  responseSerialize(value: object): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
}
const service = machineDefinition()['machine.MachineService'] as unknown as Record<string, MethodDef>;

describe('uint64 handling', () => {
  it('BIG_ID really is beyond JS number precision', () => {
    expect(String(Number(BIG_ID))).not.toBe(BIG_ID);
  });

  it.each([
    [BIG_ID, BIG_ID],
    [BigInt(BIG_ID), BIG_ID],
    ['0x8e9e05c52164694d', BigInt('0x8e9e05c52164694d').toString()],
    [' 007 ', '7'],
    [MAX, MAX],
    [0n, '0'],
  ])('toUint64String(%p) = %s', (input, expected) => {
    expect(toUint64String(input)).toBe(expected);
  });

  it.each(['-1', '1.5', 'abc', '', '18446744073709551616'])('rejects %j', (input) => {
    expect(() => toUint64String(input, 'member ID')).toThrow(TalosClientConfigError);
  });

  it('rejects negative bigints', () => {
    expect(() => toUint64String(-1n)).toThrow(/outside the uint64 range/);
  });

  it('prints member IDs in the hex form etcd tools use', () => {
    expect(memberIdHex(BigInt('0x8e9e05c52164694d').toString())).toBe('8e9e05c52164694d');
  });

  it.each([BIG_ID, MAX, '1'])('EtcdRemoveMemberByID request carries %s unchanged over the wire', (id) => {
    const bytes = service.EtcdRemoveMemberByID!.requestSerialize({ memberId: id });
    expect(service.EtcdRemoveMemberByID!.requestDeserialize(bytes).memberId).toBe(id);
  });

  it('EtcdMemberList reply IDs arrive as exact decimal strings', () => {
    const def = service.EtcdMemberList!;
    const bytes = def.responseSerialize({
      messages: [{ members: [{ id: BIG_ID, hostname: 'cp-1', peerUrls: ['https://10.0.0.1:2380'] }, { id: MAX, hostname: 'cp-2' }] }],
    });
    const reply = def.responseDeserialize(bytes) as WireReply<WireEtcdMembers>;
    const list = toEtcdMemberList(reply.messages[0]!);
    expect(list.members.map((m) => m.id)).toEqual([BIG_ID, MAX]);
    expect(list.members[0]).toMatchObject({ hostname: 'cp-1', peerUrls: ['https://10.0.0.1:2380'], clientUrls: [], isLearner: false });
  });

  it('EtcdStatus keeps IDs as strings and quantities as bigint', () => {
    const def = service.EtcdStatus!;
    const bytes = def.responseSerialize({
      messages: [{ memberStatus: { memberId: BIG_ID, leader: MAX, dbSize: '9007199254740993', raftIndex: '42', protocolVersion: '3.6.0' } }],
    });
    const status = toEtcdMemberStatus((def.responseDeserialize(bytes) as WireReply<WireEtcdStatus>).messages[0]!);
    expect(status).toMatchObject({ memberId: BIG_ID, leader: MAX, dbSize: 9007199254740993n, raftIndex: 42n, raftTerm: 0n, protocolVersion: '3.6.0' });
  });

  it('wireBigInt treats an absent value as 0', () => {
    expect(wireBigInt(undefined)).toBe(0n);
    expect(wireBigInt('')).toBe(0n);
  });
});
