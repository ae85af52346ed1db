// Runs the oracle's own Go tests (test/talos-oracle/*_test.go: it reproduces
// Talos's stability golden files, hostname/patch/validation behaviour, serve
// mode), so CI checks the reference before the matrix trusts it.
import { spawnSync } from 'node:child_process';
import { ORACLE_BUILD_TIMEOUT_MS, ORACLE_MODULE_DIR, TalosOracle } from '../support/talos-oracle';

test(
  'go test in test/talos-oracle passes',
  async () => {
    // Build (or reuse) the binary first: go test then reuses the compiled packages.
    await (await TalosOracle.start()).close();
    const result = spawnSync('go', ['test', '-count=1', '.'], {
      cwd: ORACLE_MODULE_DIR,
      env: { ...process.env, CGO_ENABLED: '0' },
      encoding: 'utf8',
    });
    expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({
      status: 0,
      output: expect.stringMatching(/^ok\s/m),
    });
  },
  ORACLE_BUILD_TIMEOUT_MS,
);
