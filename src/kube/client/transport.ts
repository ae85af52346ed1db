// HTTP(S) to the API server over one keep-alive connection pool with one TLS context: every
// request reuses a warm connection (a new TLS handshake per request cost more CPU than the
// request itself).
import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { ClusterAccess } from './kubeconfig';

export interface TransportRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Gives up (destroying the request) if the response has not ended by then; 0 for none (watches). */
  timeoutMs: number;
}

export class RequestTimeoutError extends Error {
  constructor(method: string, url: URL, timeoutMs: number) {
    super(`${method} ${url.pathname}: no complete response within ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}

/** Idle connections kept per server; concurrency above it opens (and then closes) more. */
const MAX_FREE_SOCKETS = 64;

export class Transport {
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly secure: boolean;

  constructor(private readonly access: ClusterAccess) {
    this.secure = access.server.startsWith('https:');
    const { ca, cert, key, rejectUnauthorized, servername } = access.tls;
    this.agent = this.secure
      ? new HttpsAgent({ keepAlive: true, maxFreeSockets: MAX_FREE_SOCKETS, ca, cert, key, rejectUnauthorized, servername })
      : new HttpAgent({ keepAlive: true, maxFreeSockets: MAX_FREE_SOCKETS });
  }

  /** Sends the request with the access's credentials; resolves with the response head, body unread. */
  async send(req: TransportRequest): Promise<IncomingMessage> {
    const headers = { ...(await this.access.authHeaders()), ...req.headers };
    if (req.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(req.body));
    const send = this.secure ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const outgoing = send(req.url, { method: req.method, headers, agent: this.agent, signal: req.signal }, resolve);
      outgoing.once('error', reject);
      if (req.timeoutMs > 0) {
        // One timer per request, cleared when it is done: cheaper than AbortSignal.timeout, whose
        // timer and listeners outlive the request by the whole timeout.
        let response: IncomingMessage | undefined;
        const timer = setTimeout(() => {
          const error = new RequestTimeoutError(req.method, req.url, req.timeoutMs);
          // Midway through the body the reader sees the response's error, so it carries ours.
          response?.destroy(error);
          outgoing.destroy(error);
        }, req.timeoutMs);
        outgoing.once('close', () => clearTimeout(timer));
        outgoing.once('response', (head: IncomingMessage) => {
          response = head;
          head.once('close', () => clearTimeout(timer));
        });
      }
      outgoing.end(req.body);
    });
  }
}

/** The whole body as text. */
export async function readBody(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
