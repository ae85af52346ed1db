// Builds the image's root filesystem from the Dockerfile without a Docker engine: each stage's
// instructions run in a host folder standing for that stage's root — COPY from the context (with
// .dockerignore) or from an earlier stage, RUN through sh with the given Node first on PATH (the
// base image's node) — so the tree is what `docker build` makes, by the same commands.
// Like Docker's build cache, the state of an earlier stage after each RUN is kept in
// ~/.cache/talos-capi under the hash of everything that led to it: a warm build copies the
// earlier stages' files instead of running npm ci and tsc again, and a change to src/ alone
// starts from the layer after `npm ci`.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, delimiter, dirname, join, posix, relative } from 'node:path';
import { cacheRoot } from '../../test/support/go-build';
import { isAlive } from '../../test/testbed/testbed';
import { type IgnoreRule, type Instruction, isIgnored, parseDockerfile, parseDockerignore, type Stage } from './dockerfile';

/** What a container of the image starts from: its files and the final stage's settings. */
export interface ImageConfig {
  /** Host folder standing for the image's root filesystem. */
  rootfs: string;
  /** WORKDIR, as a path inside the image. */
  workdir: string;
  /** The final stage's ENV. */
  env: Record<string, string>;
  user?: string;
  entrypoint: string[];
}

export interface StepReport {
  stage: string;
  step: string;
  /** Its files came from the layer cache. */
  cached: boolean;
  seconds: number;
}

export interface BuildOptions {
  /** The build context (the repository). */
  context: string;
  /** The Node.js binary that stands for the base image's `node`. */
  node: string;
  /** Where the final stage's root filesystem goes (must not exist yet). */
  out: string;
}

interface StageState {
  root: string;
  workdir: string;
  env: Record<string, string>;
  user?: string;
  entrypoint?: string[];
}

/** An earlier stage as a later COPY --from sees it. */
interface BuiltStage {
  root: string;
  key: string;
}

/** Layers kept per step of a stage (other helpers' working trees differ; each keeps its own). */
const LAYERS_KEPT = 3;

const instructionText = (i: Instruction): string => {
  switch (i.op) {
    case 'RUN': return `RUN ${i.command}`;
    case 'COPY': return `COPY ${i.from ? `--from=${i.from} ` : ''}${i.sources.join(' ')} ${i.dest}`;
    case 'WORKDIR': return `WORKDIR ${i.path}`;
    case 'ENV': return `ENV ${i.name}=${i.value}`;
    case 'USER': return `USER ${i.user}`;
    case 'EXPOSE': return `EXPOSE ${i.ports.join(' ')}`;
    case 'ENTRYPOINT': return `ENTRYPOINT ${JSON.stringify(i.argv)}`;
  }
};

/** PATH for RUN: the given Node first, the host's tools after it (not a project's node_modules/.bin). */
function runPath(node: string): string {
  const host = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir && !dir.includes('node_modules'));
  return [dirname(node), ...host].join(delimiter);
}

function toolVersion(command: string, path: string): string {
  const result = spawnSync(command, ['--version'], { encoding: 'utf8', env: { PATH: path, HOME: process.env.HOME } });
  if (result.status !== 0) throw new Error(`${command} --version failed: ${result.error?.message ?? result.stderr}`);
  return result.stdout.trim();
}

/** Every file below `path` (itself if a file) not excluded by .dockerignore, sorted. */
function contextFiles(context: string, path: string, ignored: (rel: string) => boolean): string[] {
  const stat = lstatSync(path);
  if (!stat.isDirectory()) return [path];
  return readdirSync(path).sort()
    .map((name) => join(path, name))
    .filter((child) => !ignored(relative(context, child)))
    .flatMap((child) => contextFiles(context, child, ignored));
}

function hashContextSources(hash: Hash, context: string, sources: string[], ignored: (rel: string) => boolean): void {
  for (const source of sources) {
    for (const file of contextFiles(context, join(context, source), ignored)) {
      const stat = lstatSync(file);
      hash.update(`${relative(context, file)}\0${stat.mode}\0`);
      hash.update(stat.isSymbolicLink() ? '' : readFileSync(file));
    }
  }
}

const layerPrefix = (stage: string, step: number) => `image-${stage}-${step}-`;
const layerDir = (stage: string, step: number, key: string) => join(cacheRoot(), `${layerPrefix(stage, step)}${key}`);
const isComplete = (dir: string) => existsSync(join(dir, '.complete'));
/** A layer being written (`.partial-PID`) or a stage being built on (`.work-PID`). */
const BUILDING = /\.(?:work|partial)-(\d+)$/;

/** Keeps the LAYERS_KEPT most recently used layers of one step; drops what dead builds left. */
function evictLayers(stage: string, step: number): void {
  const prefix = layerPrefix(stage, step);
  const names = readdirSync(cacheRoot()).filter((name) => name.startsWith(prefix));
  for (const name of names) {
    const owner = BUILDING.exec(name)?.[1];
    if (owner && !isAlive(Number(owner))) rmSync(join(cacheRoot(), name), { recursive: true, force: true });
  }
  const layers = names
    .filter((name) => !BUILDING.test(name) && isComplete(join(cacheRoot(), name)))
    .map((name) => ({ dir: join(cacheRoot(), name), used: statSync(join(cacheRoot(), name)).mtimeMs }))
    .sort((a, b) => b.used - a.used);
  for (const old of layers.slice(LAYERS_KEPT)) rmSync(old.dir, { recursive: true, force: true });
}

/** Copies `root` into a new layer (or moves it, when `move`), written aside and renamed. */
function storeLayer(root: string, stage: string, step: number, key: string, move: boolean): string {
  const dir = layerDir(stage, step, key);
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  if (move) renameSync(root, join(staging, 'root'));
  else cpSync(root, join(staging, 'root'), { recursive: true, verbatimSymlinks: true });
  writeFileSync(join(staging, '.complete'), new Date().toISOString());
  try {
    renameSync(staging, dir);
  } catch (error) {
    // Another build stored the same layer first: same key, same files.
    if (!isComplete(dir)) throw error;
    rmSync(staging, { recursive: true, force: true });
  }
  evictLayers(stage, step);
  return join(dir, 'root');
}

function run(command: string, cwd: string, env: Record<string, string>): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn('sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`RUN ${command} failed (exit ${code}) in ${cwd}:\n${output.slice(-4000)}`))));
  });
}

export class ImageBuilder {
  private readonly stages: Stage[];
  private readonly ignoreRules: IgnoreRule[];
  private readonly path: string;
  private readonly toolchain: string;
  private readonly built = new Map<string, BuiltStage>();
  readonly report: StepReport[] = [];

  constructor(private readonly options: BuildOptions) {
    this.stages = parseDockerfile(readFileSync(join(options.context, 'Dockerfile'), 'utf8')).stages;
    const ignoreFile = join(options.context, '.dockerignore');
    this.ignoreRules = parseDockerignore(existsSync(ignoreFile) ? readFileSync(ignoreFile, 'utf8') : '');
    this.path = runPath(options.node);
    this.toolchain = `${toolVersion(options.node, this.path)} npm ${toolVersion('npm', this.path)}`;
  }

  private ignored = (rel: string): boolean => rel !== '' && isIgnored(this.ignoreRules, rel);

  /** The instruction's part of the layer key (the files a COPY brings, not only its text). */
  private keyStep(previous: string, instruction: Instruction): string {
    const hash = createHash('sha256').update(previous).update(instructionText(instruction));
    if (instruction.op === 'COPY') {
      if (instruction.from) hash.update(this.source(instruction.from).key);
      else hashContextSources(hash, this.options.context, instruction.sources, this.ignored);
    }
    return hash.digest('hex').slice(0, 16);
  }

  private source(from: string): BuiltStage {
    const built = this.built.get(from) ?? this.built.get(this.stages[Number(from)]?.name ?? '');
    if (!built) throw new Error(`COPY --from=${from}: no earlier stage of that name`);
    return built;
  }

  private copy(state: StageState, instruction: Extract<Instruction, { op: 'COPY' }>): void {
    const dest = posix.resolve(state.workdir, instruction.dest);
    for (const source of instruction.sources) {
      let from: string;
      let filter: ((path: string) => boolean) | undefined;
      if (instruction.from) {
        from = join(this.source(instruction.from).root, posix.resolve('/', source));
      } else {
        if (this.ignored(posix.normalize(source))) throw new Error(`COPY ${source}: excluded by .dockerignore`);
        from = join(this.options.context, source);
        filter = (path) => !this.ignored(relative(this.options.context, path));
      }
      if (!existsSync(from)) throw new Error(`${instructionText(instruction)}: ${source} not found`);
      const into = lstatSync(from).isDirectory() || !instruction.dest.endsWith('/') ? dest : posix.join(dest, basename(from));
      mkdirSync(dirname(join(state.root, into)), { recursive: true });
      cpSync(from, join(state.root, into), { recursive: true, verbatimSymlinks: true, filter });
    }
  }

  /** Applies an instruction; `files` false replays only what it does to the stage's settings. */
  private async apply(state: StageState, instruction: Instruction, files: boolean): Promise<void> {
    switch (instruction.op) {
      case 'WORKDIR':
        state.workdir = posix.resolve(state.workdir, instruction.path);
        if (files) mkdirSync(join(state.root, state.workdir), { recursive: true });
        return;
      case 'ENV': state.env[instruction.name] = instruction.value; return;
      case 'USER': state.user = instruction.user; return;
      case 'ENTRYPOINT': state.entrypoint = instruction.argv; return;
      case 'EXPOSE': return;
      case 'COPY': if (files) this.copy(state, instruction); return;
      case 'RUN':
        if (state.user) throw new Error(`RUN after USER is not reproduced: ${instruction.command}`);
        if (files) await run(instruction.command, join(state.root, state.workdir), { PATH: this.path, HOME: process.env.HOME ?? '/', ...state.env });
        return;
    }
  }

  /**
   * An earlier stage: from the latest cached layer on its way (after a RUN, or its end), running
   * only the steps after it; each RUN's result and the end are stored as layers.
   */
  private async buildCachedStage(stage: Stage, index: number): Promise<BuiltStage> {
    const name = stage.name ?? String(index);
    const keys: string[] = [];
    let key = createHash('sha256').update(`${this.toolchain}\0${stage.base}`).digest('hex').slice(0, 16);
    for (const instruction of stage.instructions) keys.push((key = this.keyStep(key, instruction)));
    const last = stage.instructions.length - 1;
    const layerSteps = stage.instructions.map((i, step) => (i.op === 'RUN' || step === last ? step : -1)).filter((step) => step >= 0);
    const reused = layerSteps.filter((step) => isComplete(layerDir(name, step, keys[step]!))).at(-1) ?? -1;

    const state: StageState = { root: '', workdir: '/', env: {} };
    for (const instruction of stage.instructions.slice(0, reused + 1)) await this.apply(state, instruction, false);
    if (reused === last) {
      const dir = layerDir(name, last, keys[last]!);
      const now = new Date();
      utimesSync(dir, now, now);
      this.report.push({ stage: name, step: instructionText(stage.instructions[last]!), cached: true, seconds: 0 });
      return { root: join(dir, 'root'), key: keys[last]! };
    }
    state.root = `${layerDir(name, last, keys[last]!)}.work-${process.pid}`;
    rmSync(state.root, { recursive: true, force: true });
    const started = Date.now();
    if (reused >= 0) cpSync(join(layerDir(name, reused, keys[reused]!), 'root'), state.root, { recursive: true, verbatimSymlinks: true });
    else mkdirSync(state.root, { recursive: true });
    if (reused >= 0) this.report.push({ stage: name, step: `(layer after) ${instructionText(stage.instructions[reused]!)}`, cached: true, seconds: (Date.now() - started) / 1000 });
    for (let step = reused + 1; step <= last; step++) {
      const instruction = stage.instructions[step]!;
      const stepStarted = Date.now();
      await this.apply(state, instruction, true);
      if (step < last && instruction.op === 'RUN') storeLayer(state.root, name, step, keys[step]!, false);
      this.report.push({ stage: name, step: instructionText(instruction), cached: false, seconds: (Date.now() - stepStarted) / 1000 });
    }
    return { root: storeLayer(state.root, name, last, keys[last]!, true), key: keys[last]! };
  }

  /** Every stage; the last one's files into `out`, fresh each time. */
  async build(): Promise<ImageConfig> {
    const earlier = this.stages.slice(0, -1);
    for (const [index, stage] of earlier.entries()) {
      const built = await this.buildCachedStage(stage, index);
      this.built.set(stage.name ?? String(index), built);
    }
    const final = this.stages.at(-1)!;
    const state: StageState = { root: this.options.out, workdir: '/', env: {} };
    if (existsSync(state.root)) throw new Error(`${state.root} exists already`);
    mkdirSync(state.root, { recursive: true });
    const started = Date.now();
    for (const instruction of final.instructions) await this.apply(state, instruction, true);
    this.report.push({ stage: final.name ?? 'final', step: 'all steps', cached: false, seconds: (Date.now() - started) / 1000 });
    if (!state.entrypoint) throw new Error('the final stage has no ENTRYPOINT');
    return { rootfs: state.root, workdir: state.workdir, env: state.env, user: state.user, entrypoint: state.entrypoint };
  }
}

/**
 * The entrypoint as a host command: `node` is the given Node (the base image's), an absolute path
 * that exists in the image is that file in the rootfs.
 */
export function hostEntrypoint(image: ImageConfig, node: string): string[] {
  const [program, ...args] = image.entrypoint;
  if (program !== 'node') throw new Error(`the entrypoint runs ${program}, not node`);
  return [node, ...args.map((arg) => (arg.startsWith('/') && existsSync(join(image.rootfs, arg)) ? join(image.rootfs, arg) : arg))];
}
