// The kubeconfig loader: merge order, paths relative to their file, every credential kind we
// support, the service account, and a clear refusal for what we do not support.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accessFor, accessFromKubeconfigs, inClusterAccess, KubeconfigError, loadClusterAccess } from '../../../../src/kube/client/kubeconfig';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kubeconfig-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const b64 = (text: string) => Buffer.from(text).toString('base64');

function kubeconfig(options: { current?: string; clusters?: string; users?: string; contexts?: string }): string {
  return [
    ...(options.current ? [`current-context: ${options.current}`] : []),
    `clusters:${options.clusters ?? ' []'}`,
    `users:${options.users ?? ' []'}`,
    `contexts:${options.contexts ?? ' []'}`,
  ].join('\n');
}

it('reads the current context: server, CA and client certificate data, namespace', async () => {
  const text = kubeconfig({
    current: 'admin',
    clusters: `\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443/\n    certificate-authority-data: ${b64('CA PEM')}\n    tls-server-name: api.local`,
    users: `\n- name: u\n  user:\n    client-certificate-data: ${b64('CERT PEM')}\n    client-key-data: ${b64('KEY PEM')}`,
    contexts: '\n- name: admin\n  context: {cluster: c, user: u, namespace: team}',
  });
  const access = accessFromKubeconfigs([{ path: join(dir, 'config'), text }]);
  expect(access).toMatchObject({
    server: 'https://127.0.0.1:6443',
    namespace: 'team',
    tls: { ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM', rejectUnauthorized: true, servername: 'api.local' },
  });
  expect(await access.authHeaders()).toEqual({});
});

it('merges files like kubectl: the first current-context and the first definition of a name win; paths are relative to their file', () => {
  const second = join(dir, 'second');
  writeFileSync(join(dir, 'ca.crt'), 'CA FROM FILE');
  const first = kubeconfig({
    current: 'x',
    users: '\n- name: u\n  user: {token: first-token}',
    contexts: '\n- name: x\n  context: {cluster: c, user: u}',
  });
  const other = kubeconfig({
    current: 'ignored',
    clusters: '\n- name: c\n  cluster: {server: "https://second:6443", certificate-authority: ca.crt, insecure-skip-tls-verify: true}',
    users: '\n- name: u\n  user: {token: second-token}',
  });
  const access = accessFromKubeconfigs([{ path: join(dir, 'first'), text: first }, { path: second, text: other }]);
  expect(access.server).toBe('https://second:6443');
  expect(access.tls).toMatchObject({ ca: 'CA FROM FILE', rejectUnauthorized: false });
  return expect(access.authHeaders()).resolves.toEqual({ Authorization: 'Bearer first-token' });
});

it('sends basic credentials, and reads a token file again after a minute', async () => {
  expect(await accessFor({ server: 'https://s' }, { username: 'a', password: 'b' }).authHeaders()).toEqual({ Authorization: `Basic ${b64('a:b')}` });
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'one\n');
  const now = jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
  try {
    const access = accessFor({ server: 'https://s' }, { tokenFile: 'token' }, { baseDir: dir });
    expect(await access.authHeaders()).toEqual({ Authorization: 'Bearer one' });
    writeFileSync(tokenFile, 'two');
    expect(await access.authHeaders()).toEqual({ Authorization: 'Bearer one' });
    now.mockReturnValue(1_061_000);
    expect(await access.authHeaders()).toEqual({ Authorization: 'Bearer two' });
  } finally {
    now.mockRestore();
  }
});

it('runs an exec credential plugin once until its token expires', async () => {
  const counter = join(dir, 'runs');
  const plugin = join(dir, 'plugin.sh');
  writeFileSync(plugin, `#!/bin/sh\necho x >> ${counter}\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"'$TOKEN_PREFIX'-exec","expirationTimestamp":"2999-01-01T00:00:00Z"}}'\n`);
  chmodSync(plugin, 0o755);
  const access = accessFor({ server: 'https://s' }, { exec: { command: plugin, env: [{ name: 'TOKEN_PREFIX', value: 'p' }] } });
  expect(await access.authHeaders()).toEqual({ Authorization: 'Bearer p-exec' });
  expect(await access.authHeaders()).toEqual({ Authorization: 'Bearer p-exec' });
  expect(readFileSync(counter, 'utf8').trim().split('\n')).toHaveLength(1);
});

it('refuses what it does not support, and a context that is not there, by name', () => {
  expect(() => accessFor({ server: 'https://s' }, { 'auth-provider': { name: 'gcp' } })).toThrow(/auth-provider/);
  expect(() => accessFor({ server: 'https://s', 'proxy-url': 'http://proxy' }, {})).toThrow(/proxy-url/);
  const text = kubeconfig({ current: 'missing' });
  expect(() => accessFromKubeconfigs([{ path: join(dir, 'c'), text }])).toThrow(new KubeconfigError('the kubeconfig has no context missing'));
});

it('uses the service account inside a Pod when no kubeconfig exists', async () => {
  const sa = join(dir, 'sa');
  mkdirSync(sa);
  writeFileSync(join(sa, 'token'), 'sa-token');
  writeFileSync(join(sa, 'ca.crt'), 'SA CA');
  writeFileSync(join(sa, 'namespace'), 'capi-system');
  const access = inClusterAccess({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, sa);
  expect(access).toMatchObject({ server: 'https://[fd00::1]:443', namespace: 'capi-system', tls: { ca: 'SA CA' } });
  expect(await access!.authHeaders()).toEqual({ Authorization: 'Bearer sa-token' });
  expect(inClusterAccess({}, sa)).toBeUndefined();
  expect(() => loadClusterAccess(undefined, { HOME: dir })).toThrow(/no kubeconfig/);
});
