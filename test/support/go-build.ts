// Builds one of our Go programs (test bed, Talos oracle, Talos simulator) into a
// cache outside the clone, keyed by everything that can change the output, so a
// fresh clone on a machine that built it before starts in seconds.
import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';

export interface GoBuildSpec {
  /** Short name used in the cache folder, e.g. "testbed". */
  name: string;
  /** Folder holding the module's go.mod. */
  moduleDir: string;
  /** Package patterns to build, e.g. ["./cmd/..."]; each main package becomes one binary. */
  packages: string[];
  ldflags?: string;
  /** Extra environment for `go build` (CGO_ENABLED=0 is the default). */
  env?: Record<string, string>;
  /** Extra `go build` flags, e.g. `-tags` or `-overlay`; part of the cache key. */
  buildFlags?: string[];
}

export interface GoBuildResult {
  binDir: string;
  /** True when the binaries came from the cache. */
  cached: boolean;
  seconds: number;
}

export function cacheRoot(): string {
  const base = process.env.TALOS_CAPI_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'talos-capi');
  mkdirSync(base, { recursive: true });
  return base;
}

function goVersion(): string {
  const result = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new Error(`Go toolchain not usable: ${result.error?.message ?? result.stderr}`);
  }
  return result.stdout.trim();
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'bin' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(go|mod|sum|proto)$/.test(entry.name)) out.push(path);
  }
  return out.sort();
}

/** The cache key: Go version, build flags and the content of every source file of the module. */
export function buildKey(spec: GoBuildSpec): string {
  const hash = createHash('sha256');
  hash.update(goVersion());
  // buildFlags only when set, so the keys of builds without them stay as they were.
  const flags = spec.buildFlags ? { buildFlags: spec.buildFlags } : {};
  hash.update(JSON.stringify({ packages: spec.packages, ldflags: spec.ldflags ?? '', env: spec.env ?? {}, ...flags }));
  for (const file of sourceFiles(spec.moduleDir)) {
    hash.update(relative(spec.moduleDir, file));
    hash.update(readFileSync(file));
  }
  return hash.digest('hex').slice(0, 16);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A lock folder so two test runs (or two helpers) never build the same thing at once. */
async function withLock<T>(lockDir: string, work: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch {
      const owner = Number(readFileSafe(join(lockDir, 'pid')));
      if (owner && !pidAlive(owner)) rmSync(lockDir, { recursive: true, force: true });
      else await sleep(1000);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function runGo(args: string[], cwd: string, env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('go', args, { cwd, env: { ...process.env, CGO_ENABLED: '0', ...env }, stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      process.stderr.write(chunk);
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`go ${args.join(' ')} failed (exit ${code}) in ${cwd}:\n${stderr.slice(-4000)}`)),
    );
  });
}

export async function buildGoModule(spec: GoBuildSpec): Promise<GoBuildResult> {
  const started = Date.now();
  const key = buildKey(spec);
  const binDir = join(cacheRoot(), `${spec.name}-${key}`);
  const complete = join(binDir, '.complete');
  if (existsSync(complete)) return { binDir, cached: true, seconds: (Date.now() - started) / 1000 };

  return withLock(join(cacheRoot(), `${spec.name}.lock`), async () => {
    if (existsSync(complete)) return { binDir, cached: true, seconds: (Date.now() - started) / 1000 };
    const staging = `${binDir}.partial-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    const args = ['build', '-o', staging + '/'];
    if (spec.ldflags) args.push('-ldflags', spec.ldflags);
    args.push(...(spec.buildFlags ?? []), ...spec.packages);
    process.stderr.write(`[go-build] building ${spec.name} (${key}); a cold build can take minutes\n`);
    await runGo(args, spec.moduleDir, spec.env ?? {});
    writeFileSync(join(staging, '.complete'), new Date().toISOString());
    rmSync(binDir, { recursive: true, force: true });
    renameSync(staging, binDir);
    const seconds = (Date.now() - started) / 1000;
    process.stderr.write(`[go-build] ${spec.name} built in ${seconds.toFixed(1)} s\n`);
    return { binDir, cached: false, seconds };
  });
}
