// The world's supervisor: `up --world --no-operator` starts each component as its own process
// group, `status` sees every process with its RSS, `down` stops exactly those and what they started.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from '../testbed/testbed';
import { readWorld, startWorld, stopWorld, worldStatus } from '../world/world';

jest.setTimeout(300_000);

it('starts a world without our operator, lists every process, and stops all of them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'talos-capi-world-supervisor-'));
  try {
    const state = await startWorld({ dir, operator: false });
    expect(state.operator).toBeUndefined();
    expect(readWorld(dir).capiCore.webhookUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

    const rows = worldStatus(dir);
    expect(rows.map((r) => r.name)).toEqual(['etcd', 'kube-apiserver', 'capi-core', 'sim-infra (simulator, workload clusters)']);
    for (const row of rows) {
      expect(row.alive).toBe(true);
      expect(row.rssMiB).toBeGreaterThan(0);
    }
    const infra = rows.find((r) => r.name.startsWith('sim-infra'))!;
    expect(infra.children.map((c) => c.command)).toContain('talos-sim');
    const every = rows.flatMap((r) => [r.pid, ...r.children.map((c) => c.pid)]);

    await stopWorld(dir);
    expect(every.filter(isAlive)).toEqual([]);
    expect(worldStatus(dir).every((r) => !r.alive)).toBe(true);
  } finally {
    await stopWorld(dir).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});

it('a part that fails to start stops the parts that did start with it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'talos-capi-world-supervisor-'));
  try {
    await expect(startWorld({ dir, operatorArgs: ['--no-such-flag'] })).rejects.toThrow(/talos-capi run did not become healthy/);
    const state = readWorld(dir);
    const records = [state.capiCore?.process, state.infra?.process].filter((r) => r !== undefined);
    expect(records).toHaveLength(2);
    expect(records.map((r) => r.pid).filter(isAlive)).toEqual([]);
  } finally {
    await stopWorld(dir).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});
