// /metrics on the real apiserver of the test bed, the way a cluster serves it: the manager runs as a
// ServiceAccount (a TokenRequest token) that may only create TokenReviews and SubjectAccessReviews,
// and scrapers are ServiceAccounts too, one bound to the metrics-reader rules the install ships.
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { KubeClient } from '../../../src/kube/client/client';
import type { ResourceKind } from '../../../src/kube/client/resource';
import { Manager } from '../../../src/kube/manager/manager';
import { selfSignedCertificate } from '../../../src/kube/http/self-signed';
import { METRICS_READER_RULES, metricsAuthRules } from '../../../scripts/deploy/rbac';
import { NamespaceKind, createNamespace, eventually, testClient } from './helpers';
import { scrapeMetrics, serviceAccountToken as tokenOf } from '../../support/service-account';

const ServiceAccountKind: ResourceKind = { group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true };
const ClusterRoleKind: ResourceKind = { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', plural: 'clusterroles', namespaced: false };
const ClusterRoleBindingKind: ResourceKind = {
  group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', namespaced: false,
};

const admin = testClient();
let namespace: string;
let manager: Manager | undefined;
const clusterScoped: [ResourceKind, string][] = [];

async function serviceAccountToken(name: string): Promise<string> {
  await admin.create(ServiceAccountKind, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
  return tokenOf(admin, namespace, name, 600);
}

/** A ClusterRole with these rules, bound to one ServiceAccount of the test namespace. */
async function grant(serviceAccount: string, rules: unknown[]): Promise<void> {
  const name = `${namespace}-${serviceAccount}`;
  await admin.create(ClusterRoleKind, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules } as never);
  clusterScoped.push([ClusterRoleKind, name]);
  await admin.create(ClusterRoleBindingKind, {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
    subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace }],
  } as never);
  clusterScoped.push([ClusterRoleBindingKind, name]);
}

/** A client of the test bed authenticated only by a bearer token (no client certificate). */
function tokenClient(token: string): KubeClient {
  const { server, tls } = admin.access;
  return new KubeClient({ server, tls: { ca: tls.ca, rejectUnauthorized: tls.rejectUnauthorized, servername: tls.servername }, authHeaders: async () => ({ Authorization: `Bearer ${token}` }) });
}

/** GET /metrics as a scraper with insecureSkipVerify does it (the certificate is self-signed, made at start). */
beforeAll(async () => {
  namespace = await createNamespace(admin, 'metrics-auth');
});

afterAll(async () => {
  await manager?.stop();
  for (const [kind, name] of clusterScoped) await admin.delete(kind, '', name).catch(() => undefined);
  await admin.delete(NamespaceKind, '', namespace).catch(() => undefined);
});

it('HTTPS /metrics: 401 without or with a bad token, 403 for an identity RBAC does not allow, 200 for one bound to the metrics reader rules', async () => {
  const [operatorToken, readerToken, strangerToken] = await Promise.all(['operator', 'prometheus', 'stranger'].map(serviceAccountToken));
  await grant('prometheus', METRICS_READER_RULES);
  manager = new Manager({ client: tokenClient(operatorToken!), healthAddr: '', metricsAddr: '127.0.0.1:0' });
  await manager.start();
  const address = manager.metricsAddress!;

  // The manager's identity may not review tokens yet: the scrape fails on our side, it is not let in.
  expect(await scrapeMetrics(address, readerToken)).toEqual({ status: 500, body: 'Authentication failed\n' });
  await grant('operator', metricsAuthRules());

  const allowed = await eventually(async () => {
    const reply = await scrapeMetrics(address, readerToken);
    return reply.status === 200 ? reply : undefined;
  });
  expect(allowed!.body).toContain('# TYPE leader_election_master_status gauge');
  expect(await scrapeMetrics(address)).toEqual({ status: 401, body: 'Unauthorized\n' });
  expect(await scrapeMetrics(address, 'not-a-token')).toEqual({ status: 401, body: 'Unauthorized\n' });
  expect(await scrapeMetrics(address, `${readerToken}x`)).toEqual({ status: 401, body: 'Unauthorized\n' });
  expect(await scrapeMetrics(address, strangerToken)).toEqual({
    status: 403, body: `Authorization denied for user system:serviceaccount:${namespace}:stranger\n`,
  });

  const started = performance.now();
  const rounds = 10;
  for (let i = 0; i < rounds; i += 1) expect((await scrapeMetrics(address, readerToken)).status).toBe(200);
  process.stderr.write(`[figures] authorized /metrics scrape (TokenReview + SubjectAccessReview): ${((performance.now() - started) / rounds).toFixed(1)} ms each over ${rounds}\n`);
});

it('serves the certificate it is given (--metrics-cert-dir) instead of making one', async () => {
  const given = await selfSignedCertificate('given-metrics-cert');
  const withCert = new Manager({ client: admin, healthAddr: '', metricsAddr: '127.0.0.1:0', metricsCertificate: given });
  await withCert.start();
  try {
    const subject = await new Promise<string>((resolve, reject) => {
      const req = request(`https://${withCert.metricsAddress}/metrics`, { ca: given.cert, servername: 'localhost' }, (res) => {
        resolve(String((res.socket as TLSSocket).getPeerCertificate().subject.CN));
        res.resume();
      });
      req.on('error', reject);
      req.end();
    });
    expect(subject).toBe('given-metrics-cert');
  } finally {
    await withCert.stop();
  }
});

it('plain HTTP /metrics for anyone only when asked (--insecure-diagnostics)', async () => {
  const insecure = new Manager({ client: admin, healthAddr: '', metricsAddr: '127.0.0.1:0', insecureMetrics: true });
  await insecure.start();
  try {
    const response = await fetch(`http://${insecure.metricsAddress}/metrics`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('controller_runtime');
  } finally {
    await insecure.stop();
  }
});
