// A ServiceAccount's identity for tests: a token from the TokenRequest API, and /metrics scraped
// with it over HTTPS as a monitoring stack would (the operator's self-signed certificate accepted).
import { request as httpsRequest } from 'node:https';
import type { KubeClient } from '../../src/kube/client/client';

/** A token of an existing ServiceAccount (TokenRequest API). */
export async function serviceAccountToken(admin: KubeClient, namespace: string, name: string, expirationSeconds = 3600): Promise<string> {
  const request = await admin.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds } },
  });
  return request.status.token;
}

/** GET https://<address>/metrics, with the bearer token when given. */
export function scrapeMetrics(address: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    const req = httpsRequest(`https://${address}/metrics`, { rejectUnauthorized: false, headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
