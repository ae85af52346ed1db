// The end-to-end world on one machine: the test bed (kube-apiserver + etcd), the real Cluster API
// core manager, our simulated infrastructure provider (Talos nodes, workload clusters, kubelets)
// and our operator, each its own process group. State lives in DIR/world.json next to the test
// bed's DIR/testbed.json, so `up`, `down` and `status` can run from different processes.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KubeClient } from '../../src/kube/client/client';
import { buildTalosSim } from '../support/talos-sim';
import { buildTestbedBinaries, isAlive, phaseTimer, type ProcessRecord, readState, startProcess, startTestbed, stopProcess, stopTestbed } from '../testbed/testbed';
import { buildCapiCore, startCapiCore } from './capi-core';
import { INFRA_STATE_FILE, type SimInfraState } from './infra/sim-infra';
import { installSimInfraCrds } from './infra/crds';
import { startWorldOperator, stopWorldOperator, type WorldOperator } from './operator';

const REPO_ROOT = resolve(__dirname, '..', '..');
const WORLD_FILE = 'world.json';
const INFRA_START_TIMEOUT_MS = 120_000;

export interface WorldState {
  dir: string;
  kubeconfig: string;
  server: string;
  capiCore: { process: ProcessRecord; webhookUrl: string; healthUrl: string };
  infra: { process: ProcessRecord; stateDir: string; simControlUrl: string };
  operator?: WorldOperator;
  startedAt: string;
  /** Seconds per phase of `up`. */
  timings: Record<string, number>;
}

export interface StartWorldOptions {
  dir: string;
  /** Start our operator too (default true); false leaves it to a test or benchmark. */
  operator?: boolean;
  /** Extra `talos-capi run` flags. */
  operatorArgs?: string[];
  /** Workload clusters: seconds without a heartbeat before a Node is NotReady. */
  nodeMonitorGracePeriodSeconds?: number;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export function worldFile(dir: string): string {
  return join(resolve(dir), WORLD_FILE);
}

export function readWorld(dir: string): WorldState {
  const path = worldFile(dir);
  if (!existsSync(path)) throw new Error(`no world in ${dir} (run \`npm run testbed -- up --world --dir ${dir}\` first)`);
  return JSON.parse(readFileSync(path, 'utf8')) as WorldState;
}

function writeWorld(state: WorldState): void {
  writeFileSync(worldFile(state.dir), JSON.stringify(state, null, 2));
}

async function waitForInfra(stateDir: string, record: ProcessRecord): Promise<SimInfraState> {
  const path = join(stateDir, INFRA_STATE_FILE);
  const deadline = Date.now() + INFRA_START_TIMEOUT_MS;
  for (;;) {
    if (existsSync(path)) {
      const state = JSON.parse(readFileSync(path, 'utf8')) as SimInfraState;
      if (state.pid === record.pid) return state;
    }
    if (!isAlive(record.pid) || Date.now() > deadline) {
      const log = existsSync(record.log) ? readFileSync(record.log, 'utf8').slice(-3000) : '';
      throw new Error(`simulated infrastructure provider did not start (${isAlive(record.pid) ? 'timed out' : 'exited'}):\n${log}`);
    }
    await sleep(200);
  }
}

async function startInfra(dir: string, kubeconfig: string, options: StartWorldOptions): Promise<WorldState['infra']> {
  const stateDir = join(dir, 'infra');
  const args = [
    '--import', 'tsx', join(REPO_ROOT, 'test', 'world', 'infra', 'main.ts'),
    `--kubeconfig=${kubeconfig}`, `--state-dir=${stateDir}`, '--health-addr=127.0.0.1:0',
    ...(options.nodeMonitorGracePeriodSeconds ? [`--node-monitor-grace-period=${options.nodeMonitorGracePeriodSeconds}s`] : []),
  ];
  const record = startProcess(process.execPath, args, join(dir, 'sim-infra.log'));
  const state = await waitForInfra(stateDir, record);
  return { process: record, stateDir, simControlUrl: state.simControlUrl };
}

/** Brings the whole world up; on failure stops what it started. */
export async function startWorld(options: StartWorldOptions): Promise<WorldState> {
  const dir = resolve(options.dir);
  const timings: Record<string, number> = {};
  const time = phaseTimer(timings);
  // The three Go builds (cached by source hash) at once: their download and link phases overlap.
  await time('build', () => Promise.all([buildTestbedBinaries(), buildCapiCore(), buildTalosSim()]));
  const testbed = await time('testbed', () => startTestbed({ dir }));
  const state: Partial<WorldState> & Pick<WorldState, 'dir' | 'timings'> = {
    dir, kubeconfig: testbed.kubeconfig, server: testbed.server, startedAt: new Date().toISOString(), timings,
  };
  try {
    const client = KubeClient.load(testbed.kubeconfig, { qps: 100, burst: 200 });
    await time('infra-crds', () => installSimInfraCrds(client));
    // CAPI core, the infrastructure provider and our operator start side by side.
    // Each is recorded as soon as it is up, so that a failure of another still stops it.
    const started = await Promise.allSettled([
      time('capi-core', () => startCapiCore({ testbed, dir: join(dir, 'capi-core') })).then((capi) => {
        state.capiCore = { process: capi.process, webhookUrl: capi.webhookUrl, healthUrl: capi.healthUrl };
      }),
      time('infra', () => startInfra(dir, testbed.kubeconfig, options)).then((infra) => {
        state.infra = infra;
      }),
      options.operator === false
        ? Promise.resolve()
        : time('operator', () => startWorldOperator({ dir, kubeconfig: testbed.kubeconfig, args: options.operatorArgs })).then((operator) => {
            state.operator = operator;
          }),
    ]);
    const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
    writeWorld(state as WorldState);
    return state as WorldState;
  } catch (error) {
    writeWorld(state as WorldState);
    await stopWorld(dir).catch(() => undefined);
    throw error;
  }
}

/** Pids of every process below `pid` (children, grandchildren…), from /proc. */
export function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 (ppid) follows the parenthesised command, which may itself hold spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of parents.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function forceKill(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Stops exactly what `startWorld` started (and what those processes started), newest first. */
export async function stopWorld(dir: string): Promise<void> {
  const state = readWorld(dir);
  const records = [state.operator?.process, state.infra?.process, state.capiCore?.process].filter((r): r is ProcessRecord => r !== undefined);
  const started = records.flatMap((record) => (isAlive(record.pid) ? descendants(record.pid) : []));
  if (state.operator) await stopWorldOperator(state.operator);
  // The infrastructure provider stops its kubelets, workload clusters and simulator on SIGTERM.
  if (state.infra) await stopProcess(state.infra.process, 30_000);
  if (state.capiCore) await stopProcess(state.capiCore.process);
  forceKill(started.filter(isAlive));
  if (existsSync(join(state.dir, 'testbed.json'))) await stopTestbed(state.dir);
}

export interface ProcessStatus {
  name: string;
  pid: number;
  alive: boolean;
  /** Resident memory of the process and everything it started, MiB. */
  rssMiB: number;
  /** How many processes that is. */
  processes: number;
  /** Each process it started (simulator, workload etcd/apiserver/controller manager…). */
  children: { pid: number; command: string; rssMiB: number }[];
}

function commandOf(pid: number): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return (argv[0] ?? '').split('/').pop() ?? '';
  } catch {
    return '';
  }
}

function rssKiB(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** Every component of the world with its RSS (its own and its descendants'). */
export function worldStatus(dir: string): ProcessStatus[] {
  const state = readWorld(dir);
  const testbed = readState(dir);
  const components: [string, ProcessRecord | undefined][] = [
    ['etcd', testbed.etcd],
    ['kube-apiserver', testbed.apiserver],
    ['capi-core', state.capiCore?.process],
    ['sim-infra (simulator, workload clusters)', state.infra?.process],
    ['talos-capi', state.operator?.process],
  ];
  return components
    .filter((entry): entry is [string, ProcessRecord] => entry[1] !== undefined)
    .map(([name, record]) => {
      const alive = isAlive(record.pid);
      const below = alive ? descendants(record.pid) : [];
      const pids = alive ? [record.pid, ...below] : [];
      const kib = pids.reduce((sum, pid) => sum + rssKiB(pid), 0);
      const children = below.map((pid) => ({ pid, command: commandOf(pid), rssMiB: Math.round(rssKiB(pid) / 1024) }));
      return { name, pid: record.pid, alive, rssMiB: Math.round(kib / 1024), processes: pids.length, children };
    });
}
