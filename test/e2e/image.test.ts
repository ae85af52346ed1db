// The image without a Docker engine: the Dockerfile's own steps assemble its root filesystem
// (scripts/image/build.ts, with Node 24 of the `node` devDependency for the base image's node;
// the build stage comes from the layer cache when nothing changed), which is then made read-only.
// Its ENTRYPOINT — `talos-capi run` through node with the image's flags — runs in the image's
// WORKDIR against a world without our operator, as a pod would run it: the Dockerfile's USER when
// this test may switch to it (as root), HOME=/ (a uid without passwd entry), a TMPDIR it cannot
// write (readOnlyRootFilesystem, no emptyDir), loopback webhooks registered as the world does.
// It has to bring a cluster up and leave every file of the tree as it found it.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { type ImageConfig, ImageBuilder, hostEntrypoint } from '../../scripts/image/build';
import type { TalosConfig } from '../../src/api/bootstrap/v1beta1/types';
import { V1BETA1 } from '../../src/api/bootstrap/resources';
import type { TalosControlPlane } from '../../src/api/controlplane/v1alpha3/types';
import type { Cluster } from '../../src/api/capi/v1beta2/types';
import { KubeClient } from '../../src/kube/client/client';
import type { KubeObject } from '../../src/kube/meta/object';
import { findLogField } from '../support/operator-process';
import { TalosSimControl } from '../support/talos-sim';
import { generateWebhookCerts, registerWebhooks, writeWebhookCerts } from '../support/webhook-certs';
import { freePort } from '../testbed/testbed';
import { worldWithoutOperator, type WorldWithoutOperator } from '../world/own-world';
import { descendants } from '../world/world';
import {
  createClusterWithControlPlane, createMachine, createNamespace, decode, eventually, SecretKind, TalosControlPlaneKind,
  waitForRunningMachines, type World, workloadClient,
} from './world-fixtures';
import { NodeKind } from '../../src/kube/client/resource';

jest.setTimeout(900_000);

const REPO_ROOT = resolve(__dirname, '..', '..');
const NODE_24 = join(REPO_ROOT, 'node_modules', 'node', 'bin', 'node');
const START_TIMEOUT_MS = 120_000;
const lockfile = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };

/** Lock-file paths (node_modules/a, node_modules/@s/b, node_modules/a/node_modules/c) of what is installed below `dir`. */
function installedPackages(dir: string, prefix = 'node_modules'): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((name) => !name.startsWith('.'))
    .flatMap((name) => (name.startsWith('@') ? readdirSync(join(dir, name)).map((scoped) => `${name}/${scoped}`) : [name]))
    .flatMap((name) => [`${prefix}/${name}`, ...installedPackages(join(dir, name, 'node_modules'), `${prefix}/${name}/node_modules`)]);
}

/** Every path below `root` with what a write, a replacement or a chmod would change. */
function treeSnapshot(root: string): string[] {
  const out: string[] = [];
  const walk = (path: string) => {
    const stat = lstatSync(path);
    out.push(`${relative(root, path)} ${stat.mode.toString(8)} ${stat.size} ${stat.mtimeMs} ${stat.ino}`);
    if (stat.isDirectory()) for (const name of readdirSync(path).sort()) walk(join(path, name));
  };
  walk(root);
  return out;
}

/** `uid:gid` of the Dockerfile's USER, numbers only (a name would need the image's /etc/passwd). */
function numericUser(user: string | undefined): { uid: number; gid: number } {
  const match = /^(\d+):(\d+)$/.exec(user ?? '');
  if (!match) throw new Error(`USER ${user} is not uid:gid`);
  return { uid: Number(match[1]), gid: Number(match[2]) };
}

function idsOf(pid: number): { uid: number; gid: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const first = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
  return { uid: first('Uid'), gid: first('Gid') };
}

async function waitHealthy(child: ChildProcess, log: string): Promise<string> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const text = readFileSync(log, 'utf8');
    const health = findLogField(text, 'healthProbeAddress');
    if (health && (await fetch(`http://${health}/healthz`).then((r) => r.ok, () => false))) return health;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the image's entrypoint did not become healthy:\n${text.slice(-3000)}`);
    await new Promise((done) => setTimeout(done, 200));
  }
}

describe('the image, assembled by its Dockerfile steps, on a read-only root filesystem', () => {
  const sandbox = mkdtempSync(join(tmpdir(), 'talos-capi-image-'));
  const rootfs = join(sandbox, 'rootfs');
  const tmp = join(sandbox, 'tmp');
  const log = join(sandbox, 'operator.log');
  // Root may become the image's user; anyone else runs it as itself.
  const asImageUser = process.getuid?.() === 0;
  let image: ImageConfig;
  let world: WorldWithoutOperator;
  let w: World;
  let operator: ChildProcess;
  let exited: Promise<number | null>;
  let before: string[];

  beforeAll(async () => {
    const started = Date.now();
    const builder = new ImageBuilder({ context: REPO_ROOT, node: NODE_24, out: rootfs });
    image = await builder.build();
    const steps = builder.report.map((s) => `${s.stage}: ${s.step.slice(0, 60)} ${s.cached ? `cached (${s.seconds.toFixed(1)} s to copy)` : `${s.seconds.toFixed(1)} s`}`).join('; ');
    process.stderr.write(`[figures] image assembled in ${((Date.now() - started) / 1000).toFixed(1)} s (${steps})\n`);

    world = await worldWithoutOperator('image');
    w = { client: KubeClient.load(world.state.kubeconfig, { qps: 50, burst: 100 }), sim: new TalosSimControl(world.state.infra.simControlUrl), dir: world.state.dir };

    // What the pod would have mounted: the webhook certificate Secret and (here) a kubeconfig, readable, not writable.
    const certDir = join(sandbox, 'certs');
    mkdirSync(certDir);
    const certs = await generateWebhookCerts();
    writeWebhookCerts(certDir, certs);
    const kubeconfig = join(sandbox, 'kubeconfig');
    copyFileSync(world.state.kubeconfig, kubeconfig);
    for (const file of [...readdirSync(certDir).map((f) => join(certDir, f)), kubeconfig]) chmodSync(file, 0o444);
    mkdirSync(tmp);
    chmodSync(tmp, 0o555);
    chmodSync(sandbox, 0o755);
    if (spawnSync('chmod', ['-R', 'a-w', rootfs]).status !== 0) throw new Error(`chmod -R a-w ${rootfs} failed`);
    before = treeSnapshot(rootfs);

    const webhookPort = await freePort();
    const [program, ...args] = hostEntrypoint(image, NODE_24);
    const fd = openSync(log, 'a');
    operator = spawn(program!, [
      ...args,
      `--kubeconfig=${kubeconfig}`, '--leader-elect', '--leader-election-namespace=default',
      '--health-addr=127.0.0.1:0', '--metrics-bind-address=127.0.0.1:0',
      '--webhook-host=127.0.0.1', `--webhook-port=${webhookPort}`, `--webhook-cert-dir=${certDir}`,
    ], {
      cwd: join(rootfs, image.workdir),
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', ...image.env, HOME: '/', TMPDIR: tmp },
      ...(asImageUser ? numericUser(image.user) : {}),
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    exited = new Promise((done) => operator.once('exit', (code) => done(code)));
    const startedAt = Date.now();
    await waitHealthy(operator, log);
    await registerWebhooks(kubeconfig, { url: `https://127.0.0.1:${webhookPort}`, caBundle: certs.caPem });
    process.stderr.write(`[figures] entrypoint healthy and webhooks registered ${((Date.now() - startedAt) / 1000).toFixed(1)} s after start\n`);
  });

  afterAll(async () => {
    if (operator?.exitCode === null) {
      process.kill(-operator.pid!, 'SIGKILL');
      await exited;
    }
    await world?.stop();
    spawnSync('chmod', ['-R', 'u+w', sandbox]);
    rmSync(sandbox, { recursive: true, force: true });
  });

  it('holds the production tree: package.json, bin, dist/src, protos, and exactly the lock file\'s non-dev packages', () => {
    const app = join(rootfs, image.workdir);
    expect(readdirSync(app).sort()).toEqual(['bin', 'dist', 'node_modules', 'package.json', 'protos']);
    expect(readdirSync(join(app, 'dist'))).toEqual(['src']);
    const production = Object.entries(lockfile.packages).filter(([path, entry]) => path && !entry.dev).map(([path]) => path);
    expect(installedPackages(join(app, 'node_modules')).sort()).toEqual(production.sort());
  });

  it(`runs as the Dockerfile's USER${asImageUser ? '' : ' (not root here: as this test\'s own uid)'}, in one process with the image's node flags`, () => {
    expect(idsOf(operator.pid!)).toEqual(asImageUser ? numericUser(image.user) : { uid: process.getuid!(), gid: process.getgid!() });
    // bin/talos-capi.cjs runs the operator in its own process on Node 24: the ENTRYPOINT's flags apply to it.
    expect(descendants(operator.pid!)).toEqual([]);
    const cmdline = readFileSync(`/proc/${operator.pid}/cmdline`, 'utf8').split('\0');
    expect(cmdline.slice(0, image.entrypoint.length)).toEqual(hostEntrypoint(image, NODE_24));
  });

  it('brings a TalosControlPlane of 1 and a worker Machine up: the worker\'s bootstrap data Secret, etcd bootstrapped, Machines Running, Nodes through the kubeconfig', async () => {
    const appliedAt = Date.now();
    const namespace = await createNamespace(w.client, 'e2e-image');
    const cluster: Cluster = await createClusterWithControlPlane(w.client, namespace, 'image', 1);
    await createMachine(w.client, cluster, 'image-worker-0');

    const secretName = await eventually('the worker TalosConfig has its data Secret', async () => {
      const config = await w.client.get<TalosConfig>(V1BETA1.talosConfig, namespace, 'image-worker-0');
      return config.status?.dataSecretName;
    }, { timeoutMs: 240_000, intervalMs: 250 });
    const secretAt = Date.now();
    const secret = await w.client.get<KubeObject & { data?: Record<string, string> }>(SecretKind, namespace, secretName);
    expect(decode(secret.data?.value)).toMatch(/^\s+type: worker$/m);

    await waitForRunningMachines(w.client, namespace, 'image', 2);
    const runningAt = Date.now();
    // etcd bootstrapped through the Talos machine API (its protos read from the tree), the kubeconfig from it.
    await eventually('TalosControlPlane bootstrapped', async () => {
      const tcp = await w.client.get<TalosControlPlane>(TalosControlPlaneKind, namespace, 'image-control-plane');
      return tcp.status?.bootstrapped;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    const workload = await workloadClient(w, namespace, 'image');
    expect((await workload.list(NodeKind, {})).items).toHaveLength(2);
    const since = (at: number) => `${((at - appliedAt) / 1000).toFixed(1)} s`;
    process.stderr.write(`[figures] apply -> worker data Secret ${since(secretAt)}, 2 Machines Running ${since(runningAt)}, 2 Nodes through the kubeconfig ${since(Date.now())}\n`);
  });

  it('stops on SIGTERM with exit code 0, having written nothing to its tree or its TMPDIR', async () => {
    process.kill(operator.pid!, 'SIGTERM');
    expect(await exited).toBe(0);
    expect(treeSnapshot(rootfs)).toEqual(before);
    expect(readdirSync(tmp)).toEqual([]);
  });
});
