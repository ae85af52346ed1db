// The HTTPS webhook server: /convert (ConversionReview), one path per
// validating webhook (AdmissionReview), and /healthz. Routing and review
// handling are plain functions of (method, path, body) so they can be tested
// without TLS; the server only adds transport, limits and certificates.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONVERSION_PATH } from '../api/crd';
import { type Logger, silentLogger } from '../kube/log/logger';
import { reviewAdmission, type ValidatingWebhook } from './admission';
import { CertificateReloader, DEFAULT_WEBHOOK_CERT_DIR, readServingCertificate } from './certs';
import type { ConversionRegistry } from './conversion';

export const DEFAULT_WEBHOOK_PORT = 9443;
/** The apiserver sends at most a few objects per review; anything near etcd's 1.5 MiB object limit times two is plenty. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
export const HEALTH_PATH = '/healthz';

export interface WebhookRoutes {
  conversions: ConversionRegistry;
  validators: readonly ValidatingWebhook[];
}

export interface WebhookReply {
  status: number;
  body: unknown;
}

/** What the server answers for one request whose body has been read (undefined body: none sent). */
export function routeWebhookRequest(routes: WebhookRoutes, method: string, path: string, body: string | undefined): WebhookReply {
  if (path === HEALTH_PATH) return method === 'GET' ? { status: 200, body: 'ok' } : { status: 405, body: 'use GET' };
  const validator = routes.validators.find((webhook) => webhook.path === path);
  if (path !== CONVERSION_PATH && !validator) return { status: 404, body: `no webhook at ${path}` };
  if (method !== 'POST') return { status: 405, body: 'use POST' };
  let review: unknown;
  try {
    review = JSON.parse(body ?? '');
  } catch {
    return { status: 400, body: 'request body is not JSON' };
  }
  return { status: 200, body: validator ? reviewAdmission(review, validator.validate) : routes.conversions.review(review) };
}

export interface WebhookServerOptions extends WebhookRoutes {
  /** Interface to listen on; default all. Tests use 127.0.0.1. */
  host?: string;
  /** Default 9443; 0 picks a free port. */
  port?: number;
  /** Holds tls.crt and tls.key; default /tmp/k8s-webhook-server/serving-certs. */
  certDir?: string;
  certReloadIntervalMs?: number;
  logger?: Logger;
}

export interface WebhookServer {
  readonly port: number;
  /** https://host:port */
  readonly url: string;
  /** Re-reads the certificate files now (they are also polled). */
  reloadCertificates(): boolean;
  close(): Promise<void>;
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        // Stop buffering; the handler answers 413 and then drops the connection.
        req.removeAllListeners('data');
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(req: IncomingMessage, res: ServerResponse, reply: WebhookReply): void {
  const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  const contentType = typeof reply.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
  const tooLarge = reply.status === 413;
  res.writeHead(reply.status, { 'content-type': contentType, ...(tooLarge ? { connection: 'close' } : {}) });
  res.end(text, () => {
    if (tooLarge) req.destroy();
  });
}

export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const logger = options.logger ?? silentLogger();
  const certDir = options.certDir ?? DEFAULT_WEBHOOK_CERT_DIR;
  const server: Server = createServer({ ...readServingCertificate(certDir), minVersion: 'TLSv1.2' }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://webhook').pathname;
    const method = req.method ?? 'GET';
    const started = process.hrtime.bigint();
    readBody(req)
      .then((body) => routeWebhookRequest(options, method, path, body || undefined))
      .catch((error: unknown) =>
        error instanceof BodyTooLarge
          ? { status: 413, body: `request body larger than ${MAX_BODY_BYTES} bytes` }
          : { status: 400, body: `cannot read request body: ${error instanceof Error ? error.message : String(error)}` },
      )
      .then((reply) => {
        send(req, res, reply);
        if (path !== HEALTH_PATH) {
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          logger.debug({ method, path, status: reply.status, ms }, 'webhook request');
        }
      })
      .catch((error: unknown) => logger.error({ error: String(error), path }, 'webhook reply failed'));
  });
  const reloader = new CertificateReloader(certDir, (pair) => server.setSecureContext({ ...pair, minVersion: 'TLSv1.2' }), logger, options.certReloadIntervalMs);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_WEBHOOK_PORT, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  reloader.start();
  const port = (server.address() as AddressInfo).port;
  const host = options.host && options.host !== '0.0.0.0' && options.host !== '::' ? options.host : 'localhost';
  logger.info({ port, certDir, paths: [CONVERSION_PATH, ...options.validators.map((v) => v.path)] }, 'webhook server listening');
  return {
    port,
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    reloadCertificates: () => reloader.reload(),
    close: () =>
      new Promise<void>((resolve) => {
        reloader.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
