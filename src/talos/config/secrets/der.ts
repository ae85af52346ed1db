// The little DER (ASN.1 distinguished encoding) that X.509 certificates need: writing the
// types a certificate is made of, and finding elements inside one. Hand-written because the
// general ASN.1 library cost ~2 ms of CPU per certificate and ~17 MiB of resident memory.

const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

function lengthBytes(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One element: tag, length, contents. */
export function tlv(tag: number, contents: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), lengthBytes(contents.length), contents]);
}

export const sequence = (...items: Buffer[]) => tlv(TAG.sequence, Buffer.concat(items));
export const set = (...items: Buffer[]) => tlv(TAG.set, Buffer.concat(items));
export const octetString = (bytes: Buffer) => tlv(TAG.octetString, bytes);
export const booleanTrue = () => tlv(TAG.boolean, Buffer.from([0xff]));
/** An explicit context-specific tag [n] around `inner` (constructed). */
export const explicit = (n: number, inner: Buffer) => tlv(0xa0 | n, inner);
/** An implicit context-specific primitive tag [n] with `contents`. */
export const implicitPrimitive = (n: number, contents: Buffer) => tlv(0x80 | n, contents);

/** A non-negative INTEGER from its big-endian hex form, already minimal (a leading 00 when the top bit is set). */
export const integerFromHex = (hex: string) => tlv(TAG.integer, Buffer.from(hex, 'hex'));
export const smallInteger = (value: number) => tlv(TAG.integer, Buffer.from([value]));

/** A BIT STRING holding whole bytes (keys, signatures). */
export const bitString = (bytes: Buffer) => tlv(TAG.bitString, Buffer.concat([Buffer.from([0]), bytes]));

/** A BIT STRING of flags numbered from the most significant bit, without trailing zero bits (as Go writes key usage). */
export function flagBits(bits: number[]): Buffer {
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  const unused = 7 - (highest & 7);
  return tlv(TAG.bitString, Buffer.concat([Buffer.from([unused]), bytes]));
}

export function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const bytes: number[] = [first! * 40 + second!];
  for (const arc of rest) {
    const chunk: number[] = [arc & 0x7f];
    for (let value = arc >>> 7; value > 0; value >>>= 7) chunk.unshift((value & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(TAG.oid, Buffer.from(bytes));
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** PrintableString when the text fits it, else UTF8String (as Go chooses). */
export const directoryString = (text: string) =>
  tlv(PRINTABLE.test(text) ? TAG.printableString : TAG.utf8String, Buffer.from(text, 'utf8'));

/** UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280), whole seconds. */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050
    ? tlv(TAG.utcTime, Buffer.from(`${digits.slice(2)}Z`))
    : tlv(TAG.generalizedTime, Buffer.from(`${digits}Z`));
}

/** An element found in DER: its tag, its contents, and the whole encoding. */
export interface DerElement {
  tag: number;
  contents: Buffer;
  encoded: Buffer;
}

/** The elements directly inside a constructed element's contents. */
export function children(contents: Buffer): DerElement[] {
  const out: DerElement[] = [];
  let at = 0;
  while (at < contents.length) {
    const tag = contents[at]!;
    let length = contents[at + 1]!;
    let header = 2;
    if (length & 0x80) {
      const count = length & 0x7f;
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + contents[at + 2 + i]!;
      header += count;
    }
    if (at + header + length > contents.length) throw new Error('DER element runs past its container');
    out.push({ tag, contents: contents.subarray(at + header, at + header + length), encoded: contents.subarray(at, at + header + length) });
    at += header + length;
  }
  return out;
}

/** The single element that `der` is. */
export function element(der: Buffer): DerElement {
  const [only, ...more] = children(der);
  if (!only || more.length > 0) throw new Error('expected exactly one DER element');
  return only;
}
