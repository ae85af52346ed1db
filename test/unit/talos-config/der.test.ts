// The DER writer and reader behind our certificates, against hand-worked encodings (the
// certificates themselves are checked whole in secrets-bundle and by Talos's own loader).
import { children, directoryString, element, flagBits, oid, sequence, time, tlv } from '../../../src/talos/config/secrets/der';

const hex = (b: Buffer) => b.toString('hex');

it('encodes lengths in short and long form, and reads them back', () => {
  expect(hex(tlv(0x04, Buffer.alloc(3)))).toBe('0403000000');
  const long = tlv(0x04, Buffer.alloc(300, 1));
  expect(hex(long.subarray(0, 4))).toBe('0482012c');
  expect(element(long).contents).toEqual(Buffer.alloc(300, 1));
  const [a, b] = children(sequence(tlv(0x02, Buffer.from([5])), long).subarray(4));
  expect(hex(a!.encoded)).toBe('020105');
  expect(b!.contents.length).toBe(300);
});

it('writes object identifiers with multi-byte arcs', () => {
  expect(hex(oid('1.2.840.10045.4.3.2'))).toBe('06082a8648ce3d040302');
  expect(hex(oid('2.5.29.15'))).toBe('0603551d0f');
});

it('writes key usage bits as Go does: no trailing zero bits', () => {
  expect(hex(flagBits([0, 5]))).toBe('03020284');
  expect(hex(flagBits([0]))).toBe('03020780');
});

it('uses UTCTime until 2049 and GeneralizedTime from 2050; PrintableString unless the text needs UTF-8', () => {
  expect(time(new Date('2036-11-30T06:52:09Z')).toString('latin1')).toBe('\x17\x0d361130065209Z');
  expect(time(new Date('2050-01-01T00:00:00Z')).toString('latin1')).toBe('\x18\x0f20500101000000Z');
  expect(directoryString('os:admin')[0]).toBe(0x13);
  expect(directoryString('ops_team')[0]).toBe(0x0c);
});

it('refuses an element that runs past its container', () => {
  expect(() => children(Buffer.from('0405aa', 'hex'))).toThrow(/runs past/);
});
