// `talos-capi run` through bin/talos-capi.cjs: the operator's own flags, on Node 24 and on an
// older Node (the machine's own), which the launcher hands over to the Node 24 dependency.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..', '..');
const LAUNCHER = join(ROOT, 'bin', 'talos-capi.cjs');

/** Every `node` on PATH that is not the project's own Node 24 from node_modules. */
function machineNodes(): string[] {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => !dir.includes('node_modules'))
    .map((dir) => join(dir, 'node'))
    .filter((path) => existsSync(path));
}

const nodes = [process.execPath, ...machineNodes().slice(0, 1)];

function launch(node: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(node, [LAUNCHER, ...args], { encoding: 'utf8', env: { ...process.env, TALOS_CAPI_SOURCE: '1', ...env }, timeout: 60_000 });
}

describe.each(nodes)('talos-capi run with %s', (node) => {
  it('prints the operator flags for --help and exits 0', () => {
    const result = launch(node, ['run', '--help']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: talos-capi run [flags]');
    expect(result.stdout).toContain('--leader-elect');
  });

  it('refuses an unknown operator flag with exit code 2', () => {
    const result = launch(node, ['run', '--no-such-flag']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--no-such-flag');
  });
});

it('the CLI overview lists run', () => {
  const result = launch(process.execPath, ['--help']);
  expect(result.status).toBe(0);
  expect(result.stdout).toMatch(/^\s+run\s+run the operator/m);
});
