// Talos types with their own YAML form whose text Talos normalises when it loads and writes a
// config: disk sizes become "100 GB", addresses and prefixes take Go's netip spelling. Other
// self-marshalling types are kept as written.

import { canonicalAddress, parsePrefix } from '../net';
import type { YamlValue } from '../yaml/values';

export interface CustomCodec {
  /** Decoded (Go-side) value from YAML; throws a message for invalid input. */
  decode(value: YamlValue): YamlValue;
  /** YAML text form of a decoded value. */
  encode(value: YamlValue): YamlValue;
}

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1e3, kb: 1e3, ki: 2 ** 10, kib: 2 ** 10,
  m: 1e6, mb: 1e6, mi: 2 ** 20, mib: 2 ** 20,
  g: 1e9, gb: 1e9, gi: 2 ** 30, gib: 2 ** 30,
  t: 1e12, tb: 1e12, ti: 2 ** 40, tib: 2 ** 40,
  p: 1e15, pb: 1e15, pi: 2 ** 50, pib: 2 ** 50,
  e: 1e18, eb: 1e18, ei: 2 ** 60, eib: 2 ** 60,
};

/** Human byte sizes ("100GB", "1.5 GiB", "1,000"), parsed like go-humanize's ParseBytes. */
export function parseByteSize(text: string): number {
  const match = /^([0-9.,]*)(.*)$/s.exec(text);
  const number = Number((match?.[1] ?? '').replaceAll(',', ''));
  const unit = SIZE_UNITS[(match?.[2] ?? '').trim().toLowerCase()];
  if (!match?.[1] || Number.isNaN(number) || unit === undefined) throw new Error(`invalid size "${text}"`);
  return Math.floor(number * unit);
}

/** go-humanize's Bytes (decimal units, one decimal below 10). */
export function humanBytes(bytes: number): string {
  if (bytes < 10) return `${bytes} B`;
  const exponent = Math.floor(Math.log(bytes) / Math.log(1000));
  const value = Math.floor((bytes / 1000 ** exponent) * 10 + 0.5) / 10;
  return `${value < 10 ? value.toFixed(1) : value.toFixed(0)} ${DECIMAL_UNITS[exponent] ?? 'EB'}`;
}

const text = (value: YamlValue): string => (typeof value === 'string' ? value : String(value));

const diskSize: CustomCodec = {
  decode: (value) => parseByteSize(text(value)),
  // Whole kilobytes are written human-readable when that loses nothing, else as a number.
  encode: (value) => {
    const bytes = Number(value);
    if (bytes % 1000 === 0) {
      const human = humanBytes(bytes);
      if (parseByteSize(human) === bytes) return human;
    }
    return bytes;
  },
};

const address: CustomCodec = {
  decode: (value) => {
    const canonical = canonicalAddress(text(value));
    if (canonical === undefined) throw new Error(`invalid IP address "${text(value)}"`);
    return canonical;
  },
  encode: (value) => value,
};

const prefix: CustomCodec = {
  decode: (value) => {
    try {
      return parsePrefix(text(value), 'prefix').canonical;
    } catch {
      throw new Error(`invalid prefix "${text(value)}"`);
    }
  },
  encode: (value) => value,
};

export const CUSTOM_CODECS: Readonly<Record<string, CustomCodec>> = {
  'v1alpha1.DiskSize': diskSize,
  'meta.Addr': address,
  'netip.Addr': address,
  'meta.Prefix': prefix,
  'netip.Prefix': prefix,
};
