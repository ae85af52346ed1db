import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { HttpEndpoints } from '../../../../src/kube/http/http-server';
import { accessStatus, bearerToken } from '../../../../src/kube/http/metrics-auth';
import { selfSignedCertificate } from '../../../../src/kube/http/self-signed';

describe('metrics access decision', () => {
  it('401 without a token or with one the TokenReview does not authenticate; 403 when the SubjectAccessReview denies; 200 when it allows', () => {
    expect(accessStatus(undefined, undefined)).toBe(401);
    expect(accessStatus({ authenticated: false, error: 'invalid bearer token' }, undefined)).toBe(401);
    expect(accessStatus({}, { allowed: true })).toBe(401);
    const user = { authenticated: true, user: { username: 'system:serviceaccount:monitoring:prometheus' } };
    expect(accessStatus(user, undefined)).toBe(403);
    expect(accessStatus(user, { allowed: false, reason: 'no RBAC policy matched' })).toBe(403);
    expect(accessStatus(user, { allowed: false, denied: true })).toBe(403);
    expect(accessStatus(user, { allowed: true })).toBe(200);
  });

  it('takes the token of a Bearer authorization header only', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('bearer   abc ')).toBe('abc');
    expect(bearerToken('Basic dXNlcjpwdw==')).toBeUndefined();
    expect(bearerToken('Bearer ')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe('HTTPS endpoints', () => {
  it('a self-signed certificate for localhost and the loopback addresses, valid from before now for a year', async () => {
    const now = Date.now();
    const { cert } = await selfSignedCertificate('talos-capi-metrics', now);
    const parsed = new X509Certificate(cert);
    expect(parsed.subject).toBe('CN=talos-capi-metrics');
    expect(parsed.checkHost('localhost')).toBe('localhost');
    expect(parsed.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(new Date(parsed.validFrom).getTime()).toBeLessThan(now);
    expect(new Date(parsed.validTo).getTime()).toBeGreaterThan(now + 364 * 24 * 3600 * 1000);
  });

  it('serve over TLS and answer with the guard\'s reply when it refuses, the route\'s otherwise', async () => {
    const tls = await selfSignedCertificate('test');
    const endpoints = new HttpEndpoints(
      { '/metrics': async () => ({ status: 200, body: 'counters\n' }) },
      { tls, guard: async (req) => (req.headers.authorization === 'Bearer good' ? undefined : { status: 401, body: 'Unauthorized\n' }) },
    );
    const address = await endpoints.listen({ host: '127.0.0.1', port: 0 });
    const get = (path: string, authorization?: string) => new Promise<[number, string]>((resolve, reject) => {
      const req = request(`https://${address}${path}`, { ca: tls.cert, servername: 'localhost', headers: authorization ? { authorization } : {} }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve([res.statusCode ?? 0, body]));
      });
      req.on('error', reject);
      req.end();
    });
    try {
      expect(await get('/metrics')).toEqual([401, 'Unauthorized\n']);
      expect(await get('/metrics', 'Bearer good')).toEqual([200, 'counters\n']);
      expect((await get('/other', 'Bearer good'))[0]).toBe(404);
    } finally {
      await endpoints.close();
    }
  });
});
