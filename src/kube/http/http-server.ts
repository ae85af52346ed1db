// Probe and metrics endpoints (/healthz, /readyz, /metrics), as the upstream managers serve them:
// plain HTTP, or HTTPS with a guard that every request passes first (the metrics filter).
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ServingCertificate } from './self-signed';

export interface ListenAddress {
  host?: string;
  port: number;
}

/**
 * Parses "host:port", ":port", "[v6]:port" or "port". "0" and "" mean disabled (upstream's
 * --metrics-bind-address=0 convention) and return undefined.
 */
export function parseListenAddress(value: string): ListenAddress | undefined {
  const text = value.trim();
  if (text === '' || text === '0') return undefined;
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  if (!match) throw new Error(`invalid listen address "${value}" (want host:port or :port)`);
  const port = Number(match[3]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port in "${value}"`);
  const host = match[1] || match[2] || undefined;
  return { host, port };
}

export function formatAddress(address: AddressInfo): string {
  return address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
}

export interface RouteReply {
  status: number;
  body: string;
  contentType?: string;
}

export type RouteHandler = () => Promise<RouteReply>;

export interface EndpointOptions {
  /** Serve HTTPS with this certificate (TLS 1.2 or later). */
  tls?: ServingCertificate;
  /** Asked before a route answers: a reply refuses the request (authentication, authorization). */
  guard?: (request: IncomingMessage) => Promise<RouteReply | undefined>;
}

export class HttpEndpoints {
  private server?: Server;

  constructor(private readonly routes: Record<string, RouteHandler>, private readonly options: EndpointOptions = {}) {}

  /** Listens and returns the bound address ("127.0.0.1:9440"), useful when port 0 was asked for. */
  async listen(address: ListenAddress): Promise<string> {
    const handler = (request: IncomingMessage, response: ServerResponse) => void this.handle(request, response);
    const tls = this.options.tls;
    const server: Server = tls ? createTlsServer({ ...tls, minVersion: 'TLSv1.2' }, handler) : createServer(handler);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address.port, address.host, () => resolve());
    });
    return formatAddress(server.address() as AddressInfo);
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0]!;
    const route = this.routes[path.replace(/\/+$/, '') || '/'];
    if (!route || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    try {
      const { status, body, contentType } = (await this.options.guard?.(request)) ?? (await route());
      response.writeHead(status, { 'Content-Type': contentType ?? 'text/plain; charset=utf-8' });
      response.end(request.method === 'HEAD' ? undefined : body);
    } catch (error) {
      response.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${(error as Error).message}\n`);
    }
  }
}
