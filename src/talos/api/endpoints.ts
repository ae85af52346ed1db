// Talos endpoints are "host" or "host:port" (IPv6 as "[addr]:port" or a bare
// address); the port defaults to apid's 50000.
import { isIP, isIPv6 } from 'node:net';
import { TalosClientConfigError } from './errors';

export const APID_PORT = 50000;

export interface Endpoint {
  /** IPv4/IPv6 literal (no brackets) or DNS name. */
  host: string;
  port: number;
}

const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})?)*\.?$/;

function parsePort(text: string, endpoint: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new TalosClientConfigError(`endpoint "${endpoint}" has an invalid port`);
  return port;
}

export function parseEndpoint(text: string): Endpoint {
  const endpoint = text.trim();
  if (endpoint === '') throw new TalosClientConfigError('endpoint is empty');
  if (endpoint.includes('/')) {
    throw new TalosClientConfigError(`endpoint "${endpoint}" must be host or host:port, not a URL`);
  }
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(endpoint);
  if (bracketed) {
    const host = bracketed[1] as string;
    if (!isIPv6(host)) throw new TalosClientConfigError(`endpoint "${endpoint}" has no IPv6 address in brackets`);
    return { host, port: bracketed[2] === undefined ? APID_PORT : parsePort(bracketed[2], endpoint) };
  }
  // More than one colon without brackets can only be a bare IPv6 address.
  if (isIPv6(endpoint)) return { host: endpoint, port: APID_PORT };
  const colon = endpoint.lastIndexOf(':');
  const host = colon === -1 ? endpoint : endpoint.slice(0, colon);
  const port = colon === -1 ? APID_PORT : parsePort(endpoint.slice(colon + 1), endpoint);
  if (isIP(host) !== 4 && !DNS_NAME.test(host)) {
    throw new TalosClientConfigError(`endpoint "${endpoint}" has an invalid host "${host}"`);
  }
  return { host, port };
}

/** The gRPC target for one endpoint: "host:port", IPv6 in brackets. */
export function endpointAddress(endpoint: Endpoint): string {
  return isIPv6(endpoint.host) ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}

export function parseEndpoints(texts: readonly string[]): Endpoint[] {
  if (texts.length === 0) throw new TalosClientConfigError('no endpoints to talk to');
  const seen = new Set<string>();
  const out: Endpoint[] = [];
  for (const text of texts) {
    const endpoint = parseEndpoint(text);
    const key = endpointAddress(endpoint);
    if (!seen.has(key)) out.push(endpoint);
    seen.add(key);
  }
  return out;
}
