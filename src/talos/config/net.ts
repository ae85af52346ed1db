// Input checks and normal forms for network values: addresses and CIDR prefixes (written the
// way Go's netip prints them where Talos stores them parsed), control-plane endpoint URLs.

import { isIPv4, isIPv6 } from 'node:net';

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

function ipv6Groups(address: string): number[] | undefined {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  const dotted = text.slice(lastColon + 1);
  if (dotted.includes('.')) {
    // An embedded IPv4 address stands for the last two groups.
    if (!isIPv4(dotted)) return undefined;
    const [a = 0, b = 0, c = 0, d = 0] = dotted.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const head = parse(halves[0] ?? '');
  const rest = halves.length === 2 ? parse(halves[1] ?? '') : [];
  const gap = 8 - head.length - rest.length;
  const groups = halves.length === 2 && gap >= 0 ? [...head, ...new Array<number>(gap).fill(0), ...rest] : head;
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

/** RFC 5952 text of an IPv6 address, as Go's netip prints it (IPv4-mapped kept dotted). */
function formatIPv6(groups: number[]): string {
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return `::ffff:${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Go netip.Addr text of an address (IPv6 canonical, zone kept), or undefined if invalid. */
export function canonicalAddress(text: string): string | undefined {
  if (isIPv4(text)) return text.split('.').some((octet) => octet.length > 1 && octet.startsWith('0')) ? undefined : text;
  const [address = '', zone] = text.split('%', 2);
  if (!isIPv6(address)) return undefined;
  const groups = ipv6Groups(address);
  if (!groups) return undefined;
  return zone === undefined ? formatIPv6(groups) : `${formatIPv6(groups)}%${zone}`;
}

export interface ParsedPrefix {
  family: 4 | 6;
  /** Go netip.Prefix text (address not masked, IPv6 in canonical form). */
  canonical: string;
}

/** Parses `address/bits` the way Go's netip.ParsePrefix accepts it. */
export function parsePrefix(text: string, what: string): ParsedPrefix {
  const invalid = (): never => {
    throw new InputError(`invalid ${what} "${text}": expected an address prefix such as 10.244.0.0/16 or fd00::/56`);
  };
  const slash = text.lastIndexOf('/');
  if (slash < 0) return invalid();
  const address = text.slice(0, slash);
  const bitsText = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]*)$/.test(bitsText)) return invalid();
  const bits = Number(bitsText);
  const canonical = address.includes('%') ? undefined : canonicalAddress(address);
  if (canonical === undefined) return invalid();
  const family = isIPv4(address) ? 4 : 6;
  if (bits > (family === 4 ? 32 : 128)) return invalid();
  return { family, canonical: `${canonical}/${bits}` };
}

export interface ParsedEndpoint {
  /** The URL as given (Talos keeps it as written). */
  url: string;
  /** Host without IPv6 brackets (what Go's url.Hostname() returns). */
  hostname: string;
}

/** Checks a control-plane endpoint URL: http(s), a host, IPv6 literals in brackets. */
export function parseEndpoint(endpoint: string): ParsedEndpoint {
  const invalid = (): never => {
    throw new InputError(
      `invalid endpoint "${endpoint}": expected a URL such as https://10.0.0.1:6443 (IPv6 hosts in brackets, https://[fd00::1]:6443)`,
    );
  };
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return invalid();
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.hostname === '') return invalid();
  // WHATWG URL lower-cases hosts; Go keeps them as written, and so do we.
  const authority = endpoint.slice(endpoint.indexOf('//') + 2).split(/[/?#]/)[0] ?? '';
  const hostPart = authority.includes('@') ? authority.slice(authority.lastIndexOf('@') + 1) : authority;
  const hostname = hostPart.startsWith('[') ? hostPart.slice(1, hostPart.indexOf(']')) : hostPart.replace(/:\d*$/, '');
  return { url: endpoint, hostname };
}

/** `https://host:port` with IPv6 hosts bracketed (Go's net.JoinHostPort, as CABPT builds it). */
export function endpointURL(host: string, port: number): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return `https://${isIPv6(bare) ? `[${bare}]` : bare}:${port}`;
}
