// The Dockerfile steps run without Docker on a small context: COPY (context with .dockerignore,
// --from an earlier stage), RUN, WORKDIR, ENV, USER, ENTRYPOINT, and the layer cache — a stage
// whose inputs did not change is not run again, a change reruns only the steps after it.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageBuilder, hostEntrypoint } from '../../../scripts/image/build';

jest.setTimeout(30_000);

const dir = mkdtempSync(join(tmpdir(), 'talos-capi-image-build-'));
const context = join(dir, 'context');
const runs = join(dir, 'runs.log');
let builds = 0;

beforeAll(() => {
  process.env.TALOS_CAPI_CACHE = join(dir, 'cache');
  mkdirSync(join(context, 'assets'), { recursive: true });
  writeFileSync(join(context, 'Dockerfile'), [
    'FROM base:1 AS build',
    'WORKDIR /w',
    'COPY a.txt ./',
    'COPY assets ./assets',
    `RUN echo first >> ${runs} && cat a.txt > first && ls assets >> first`,
    'COPY b.txt ./',
    `RUN echo second >> ${runs} && cat first b.txt > second`,
    'FROM base:1',
    'ENV MODE=production',
    'WORKDIR /app',
    'COPY --from=build /w/second ./',
    'COPY assets ./assets',
    'USER 7:8',
    'ENTRYPOINT ["node", "/app/second", "run"]',
  ].join('\n'));
  writeFileSync(join(context, '.dockerignore'), 'assets/*.tmp\n');
  writeFileSync(join(context, 'a.txt'), 'A\n');
  writeFileSync(join(context, 'b.txt'), 'B\n');
  writeFileSync(join(context, 'assets', 'keep.txt'), 'kept');
  writeFileSync(join(context, 'assets', 'scratch.tmp'), 'ignored');
});

afterAll(() => {
  delete process.env.TALOS_CAPI_CACHE;
  rmSync(dir, { recursive: true, force: true });
});

async function build() {
  const out = join(dir, `rootfs-${++builds}`);
  writeFileSync(runs, '');
  const builder = new ImageBuilder({ context, node: process.execPath, out });
  const image = await builder.build();
  return { image, out, runs: readFileSync(runs, 'utf8').split('\n').filter(Boolean), cached: builder.report.filter((s) => s.cached).map((s) => s.step) };
}

it('runs every step the first time: the final stage gets the earlier stage\'s file, the context minus .dockerignore, and its settings', async () => {
  const { image, out, runs } = await build();
  expect(runs).toEqual(['first', 'second']);
  expect(readFileSync(join(out, 'app', 'second'), 'utf8')).toBe('A\nkeep.txt\nB\n');
  expect(existsSync(join(out, 'app', 'assets', 'keep.txt'))).toBe(true);
  expect(existsSync(join(out, 'app', 'assets', 'scratch.tmp'))).toBe(false);
  expect(image).toEqual({ rootfs: out, workdir: '/app', env: { MODE: 'production' }, user: '7:8', entrypoint: ['node', '/app/second', 'run'] });
  expect(hostEntrypoint(image, '/opt/node24')).toEqual(['/opt/node24', join(out, 'app', 'second'), 'run']);
});

it('runs nothing again when nothing changed (the earlier stage comes from the cache)', async () => {
  const { out, runs, cached } = await build();
  expect(runs).toEqual([]);
  expect(cached).toEqual([expect.stringMatching(/^RUN echo second/)]);
  expect(readFileSync(join(out, 'app', 'second'), 'utf8')).toBe('A\nkeep.txt\nB\n');
});

it('after a change to what the second RUN copies, starts from the layer after the first RUN', async () => {
  writeFileSync(join(context, 'b.txt'), 'B2\n');
  const { out, runs, cached } = await build();
  expect(runs).toEqual(['second']);
  expect(cached).toEqual([expect.stringMatching(/^\(layer after\) RUN echo first/)]);
  expect(readFileSync(join(out, 'app', 'second'), 'utf8')).toBe('A\nkeep.txt\nB2\n');
});

it('runs nothing again for a change to a file .dockerignore leaves out; after a change to what the first RUN copies, runs both', async () => {
  writeFileSync(join(context, 'assets', 'scratch.tmp'), 'changed');
  expect((await build()).runs).toEqual([]);
  writeFileSync(join(context, 'a.txt'), 'A2\n');
  const { out, runs } = await build();
  expect(runs).toEqual(['first', 'second']);
  expect(readFileSync(join(out, 'app', 'second'), 'utf8')).toBe('A2\nkeep.txt\nB2\n');
});
