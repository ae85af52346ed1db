// Probe and metrics endpoints (/healthz, /readyz, /metrics) on plain HTTP, as the upstream managers serve them.
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

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

export type RouteHandler = () => Promise<{ status: number; body: string; contentType?: string }>;

export class HttpEndpoints {
  private server?: Server;

  constructor(private readonly routes: Record<string, RouteHandler>) {}

  /** Listens and returns the bound address ("127.0.0.1:9440"), useful when port 0 was asked for. */
  async listen(address: ListenAddress): Promise<string> {
    const server = createServer((request, response) => void this.handle(request, response));
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
      const { status, body, contentType } = await route();
      response.writeHead(status, { 'Content-Type': contentType ?? 'text/plain; charset=utf-8' });
      response.end(request.method === 'HEAD' ? undefined : body);
    } catch (error) {
      response.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${(error as Error).message}\n`);
    }
  }
}
