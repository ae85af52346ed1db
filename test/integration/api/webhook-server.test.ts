// The webhook server over real TLS: routes, limits, and certificate reload.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { webhookRoutesFor } from '../../../src/controllers';
import { PROVIDERS } from '../../../src/operator-flags';
import { MAX_BODY_BYTES, startWebhookServer, type WebhookServer } from '../../../src/webhooks/server';
import { generateWebhookCerts, type WebhookCerts, writeWebhookCerts } from '../../support/webhook-certs';

interface Reply {
  status: number;
  body: string;
  /** SHA-256 fingerprint of the certificate the server presented. */
  fingerprint: string;
}

function call(server: WebhookServer, ca: string, method: string, path: string, body?: string | Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method, ca, agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), fingerprint }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function fingerprintOf(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

describe('webhook server', () => {
  let certDir: string;
  let certs: WebhookCerts;
  let server: WebhookServer;

  beforeAll(async () => {
    certDir = mkdtempSync(join(tmpdir(), 'talos-capi-webhook-server-'));
    certs = await generateWebhookCerts();
    writeWebhookCerts(certDir, certs);
    server = await startWebhookServer({ ...webhookRoutesFor(PROVIDERS), host: '127.0.0.1', port: 0, certDir, certReloadIntervalMs: 50 });
  });

  afterAll(async () => {
    await server?.close();
    rmSync(certDir, { recursive: true, force: true });
  });

  it('answers /healthz and a ConversionReview over TLS with the given certificate', async () => {
    expect(await call(server, certs.caPem, 'GET', '/healthz')).toMatchObject({ status: 200, body: 'ok', fingerprint: fingerprintOf(certs.certPem) });
    const review = {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'ConversionReview',
      request: {
        uid: 'r-1', desiredAPIVersion: 'bootstrap.cluster.x-k8s.io/v1beta1',
        objects: [{ apiVersion: 'bootstrap.cluster.x-k8s.io/v1alpha3', kind: 'TalosConfig', metadata: { name: 'a' }, spec: { generateType: 'join' }, status: { ready: true } }],
      },
    };
    const reply = await call(server, certs.caPem, 'POST', '/convert', JSON.stringify(review));
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'ConversionReview',
      response: {
        uid: 'r-1', result: { status: 'Success' },
        convertedObjects: [{ apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1', kind: 'TalosConfig', metadata: { name: 'a' }, spec: { generateType: 'join' }, status: { initialization: { dataSecretCreated: true } } }],
      },
    });
  });

  it('refuses a body larger than the limit with 413, without reading the rest, and keeps serving', async () => {
    // The client declares more than the limit, sends one byte past it and then waits: every byte it sent
    // has been read when the server answers, so the 413 cannot be lost to a connection reset. A server
    // that crashed, waited for the whole body or answered anything else fails here.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${server.url}/convert`, {
        method: 'POST', ca: certs.caPem, agent: false,
        headers: { 'content-type': 'application/json', 'content-length': String(MAX_BODY_BYTES + 1024) },
      }, (res) => {
        // The server drops the connection after its answer; that is expected from here on.
        req.on('error', () => undefined);
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write(Buffer.alloc(MAX_BODY_BYTES + 1, 0x20));
    });
    expect(status).toBe(413);
    expect(await call(server, certs.caPem, 'GET', '/healthz')).toMatchObject({ status: 200, body: 'ok' });
  });

  it('serves a renewed certificate without a restart, and keeps the old one when the new files are broken', async () => {
    const renewed = await generateWebhookCerts();
    writeWebhookCerts(certDir, renewed);
    const deadline = Date.now() + 10_000;
    let reply = await call(server, renewed.caPem, 'GET', '/healthz').catch(() => undefined);
    while (reply?.fingerprint !== fingerprintOf(renewed.certPem) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      reply = await call(server, renewed.caPem, 'GET', '/healthz').catch(() => undefined);
    }
    expect(reply?.fingerprint).toBe(fingerprintOf(renewed.certPem));

    writeWebhookCerts(certDir, { certPem: certs.certPem, keyPem: renewed.keyPem });
    expect(server.reloadCertificates()).toBe(false);
    expect((await call(server, renewed.caPem, 'GET', '/healthz')).fingerprint).toBe(fingerprintOf(renewed.certPem));
  });

  it('does not start without a certificate, and says where it looked', async () => {
    await expect(startWebhookServer({ ...webhookRoutesFor(PROVIDERS), port: 0, certDir: join(certDir, 'missing') })).rejects.toThrow(
      `webhook serving certificate: cannot read tls.crt/tls.key in ${join(certDir, 'missing')}`,
    );
  });
});
