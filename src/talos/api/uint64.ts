// 64-bit integers from the wire. proto-loader hands them over as decimal
// strings (longs: String). Identifiers (etcd member IDs) stay canonical
// decimal strings: lossless, comparable with ===, JSON-safe. Quantities
// (sizes, raft indices) become bigint for arithmetic. A JS number is never
// used: etcd member IDs are random 64-bit values and lose precision above 2^53.
import { TalosClientConfigError } from './errors';

/** An etcd member ID as a canonical decimal string (no sign, no leading zeros). */
export type EtcdMemberId = string;

const UINT64_MAX = (1n << 64n) - 1n;

/** Accepts a decimal string or a bigint; returns the canonical decimal string. */
export function toUint64String(value: string | bigint, what = 'value'): string {
  let big: bigint;
  if (typeof value === 'bigint') {
    big = value;
  } else if (/^\d+$/.test(value.trim())) {
    big = BigInt(value.trim());
  } else if (/^0x[0-9a-f]+$/i.test(value.trim())) {
    // etcdctl and Talos's etcd output print member IDs in hex.
    big = BigInt(value.trim());
  } else {
    throw new TalosClientConfigError(`${what} "${value}" is not an unsigned 64-bit integer`);
  }
  if (big < 0n || big > UINT64_MAX) throw new TalosClientConfigError(`${what} ${big} is outside the uint64 range`);
  return big.toString(10);
}

/** The hex form etcd tools print, e.g. "8e9e05c52164694d". */
export function memberIdHex(id: EtcdMemberId): string {
  return BigInt(toUint64String(id, 'member ID')).toString(16);
}

/** A wire int64/uint64 (decimal string from proto-loader, or absent) as bigint. */
export function wireBigInt(value: string | number | null | undefined): bigint {
  if (value === null || value === undefined || value === '') return 0n;
  return BigInt(value);
}

/** A wire uint64 identifier as a canonical decimal string. */
export function wireUint64String(value: string | number | null | undefined): string {
  return wireBigInt(value).toString(10);
}
