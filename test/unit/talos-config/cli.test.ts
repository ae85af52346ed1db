import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main';
import { processIO, type CommandIO } from '../../../src/cli/io';
import { loadSecretsBundle, parseConfig, parseTalosconfig } from '../../../src/talos/config';

const ROOT = join(__dirname, '..', '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

let dir: string;
let secrets: string;

/** Runs the CLI in-process, capturing its output. */
async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CommandIO = { ...processIO, stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

/** Runs the CLI as a process, the way users do. */
function spawnCli(...args: string[]) {
  const result = spawnSync(TSX, [join(ROOT, 'src', 'cli', 'main.ts'), ...args], { cwd: dir, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const configArgs = (...extra: string[]) => [
  'gen', 'config', '--cluster-name', 'demo', '--endpoint', 'https://10.0.0.1:6443', '--kubernetes-version', 'v1.30.0',
  '--talos-version', 'v1.13', '--type', 'controlplane', '--secrets', secrets, ...extra,
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'talos-capi-cli-'));
  secrets = join(dir, 'secrets.yaml');
  expect((await run('gen', 'secrets', '-o', secrets, '--talos-version', 'v1.6')).code).toBe(0);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('talos-capi gen', () => {
  it('writes secrets.yaml readable by the owner only and refuses to overwrite it', async () => {
    expect(statSync(secrets).mode & 0o777).toBe(0o600);
    expect(loadSecretsBundle(readFileSync(secrets, 'utf8')).certs.os).toBeDefined();
    const again = await run('gen', 'secrets', '-o', secrets);
    expect(again).toMatchObject({ code: 1, stderr: `talos-capi: ${secrets} already exists (use --force to overwrite)\n` });
  });

  it('prints the machine config with patches from flags and @files', async () => {
    const patchFile = join(dir, 'time.yaml');
    writeFileSync(patchFile, 'machine:\n  time:\n    servers: [time.example]\n');
    const result = await run(
      ...configArgs('--pod-cidr', '10.244.0.0/16', '--pod-cidr', 'fd00:10:244::/56', '--hostname', 'cp-1',
        '--config-patch', '{"op": "add", "path": "/machine/install/disk", "value": "/dev/vda"}', '--strategic-patch', `@${patchFile}`),
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [v1alpha1, hostname] = parseConfig(result.stdout);
    expect(v1alpha1).toMatchObject({
      machine: { install: { disk: '/dev/vda' }, time: { servers: ['time.example'] } },
      cluster: { network: { podSubnets: ['10.244.0.0/16', 'fd00:10:244::/56'] } },
    });
    expect(hostname).toEqual({ apiVersion: 'v1alpha1', kind: 'HostnameConfig', auto: 'off', hostname: 'cp-1' });
  });

  it('prints a talosconfig for the given endpoints', async () => {
    const result = await run('gen', 'talosconfig', '--secrets', secrets, '--endpoint', '10.0.0.1', '10.0.0.2', '--context', 'demo');
    expect(result.code).toBe(0);
    expect(parseTalosconfig(result.stdout).contexts.demo!.endpoints).toEqual(['10.0.0.1', '10.0.0.2']);
  });
});

describe('bad input: non-zero exit and one line on stderr', () => {
  it.each([
    [['gen'], 2, 'talos-capi: "gen" is incomplete: use one of gen secrets, gen config, gen talosconfig'],
    [['frobnicate'], 2, 'talos-capi: unknown command "frobnicate"'],
    [['gen', 'config', '--cluster-name', 'x'], 2, 'talos-capi: --endpoint is required'],
    [['gen', 'secrets', '--bogus'], 2, 'talos-capi: unknown flag --bogus'],
  ])('%j', async (args, code, line) => {
    expect(await run(...args)).toMatchObject({ code, stderr: `${line}\n` });
  });

  it('reports input errors from the engine in one line', async () => {
    expect(await run(...configArgs('--type', 'router'))).toMatchObject({ code: 2 });
    const missing = await run(...configArgs().map((a) => (a === secrets ? '/nonexistent/secrets.yaml' : a)));
    expect(missing.stderr).toBe('talos-capi: cannot read secrets bundle /nonexistent/secrets.yaml: no such file\n');
    const badPatch = await run(...configArgs('--config-patch', '[{"op": "replace", "path": "/machine/nope/disk", "value": "/dev/sda"}]'));
    expect(badPatch).toMatchObject({ code: 1, stderr: 'talos-capi: configPatches[0] (replace /machine/nope/disk): path not found\n' });
  });

  it('behaves the same as a spawned process: exit code, single stderr line, no stack trace', () => {
    const bad = spawnCli(...configArgs().map((a) => (a === 'https://10.0.0.1:6443' ? 'fd00::1:6443' : a)));
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr.trimEnd().split('\n')).toEqual([
      'talos-capi: invalid endpoint "fd00::1:6443": expected a URL such as https://10.0.0.1:6443 (IPv6 hosts in brackets, https://[fd00::1]:6443)',
    ]);
    const badYaml = spawnCli(...configArgs('--strategic-patch', 'machine: [\n'));
    expect(badYaml.code).toBe(1);
    expect(badYaml.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(badYaml.stderr).not.toMatch(/\n\s+at /);
  });
});
