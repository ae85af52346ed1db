import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isIgnored, lastOf, parseDockerfile, parseDockerignore } from '../../../scripts/image/dockerfile';

const REPO_ROOT = resolve(__dirname, '..', '..', '..');
const read = (name: string) => readFileSync(join(REPO_ROOT, name), 'utf8');

describe('the repository Dockerfile', () => {
  const text = read('Dockerfile');
  const dockerfile = parseDockerfile(text);
  const final = dockerfile.stages.at(-1)!;

  it('has its syntax directive on line 1, where BuildKit reads it', () => {
    expect(text.split('\n')[0]).toBe('# syntax=docker/dockerfile:1');
    expect(dockerfile.directives).toEqual({ syntax: 'docker/dockerfile:1' });
  });

  it('starts `talos-capi run` (the package bin) through node with the image flags, from its WORKDIR', () => {
    const bin = (JSON.parse(read('package.json')) as { bin: Record<string, string> }).bin['talos-capi']!;
    const workdir = lastOf(final, 'WORKDIR')!.path;
    expect(lastOf(final, 'ENTRYPOINT')!.argv).toEqual(['node', '--max-semi-space-size=1', '--heap-growing-percent=50', `${workdir}/${bin}`, 'run']);
  });

  it('builds with npm ci and ships only what npm prune --omit=dev left, with no RUN in the final stage', () => {
    const runs = dockerfile.stages.flatMap((s) => s.instructions).filter((i) => i.op === 'RUN').map((i) => i.command);
    expect(runs.join(' && ')).toMatch(/^npm ci .*npx tsc .*npm prune --omit=dev/);
    expect(final.instructions.filter((i) => i.op === 'RUN')).toEqual([]);
    expect(final.instructions).toContainEqual({ op: 'COPY', from: 'build', sources: ['/src/node_modules'], dest: './node_modules' });
  });

  it('copies nothing that .dockerignore keeps out of the build context', () => {
    const rules = parseDockerignore(read('.dockerignore'));
    const sources = dockerfile.stages.flatMap((s) => s.instructions).flatMap((i) => (i.op === 'COPY' && !i.from ? i.sources : []));
    expect(sources.length).toBeGreaterThan(4);
    expect(sources.filter((source) => isIgnored(rules, source))).toEqual([]);
    expect(['node_modules', 'dist', '.git', 'test/e2e/image.test.ts', 'coverage'].filter((path) => !isIgnored(rules, path))).toEqual([]);
  });
});

describe('parseDockerfile', () => {
  it('takes parser directives only above every other line (a comment first ends them)', () => {
    expect(parseDockerfile('# syntax=docker/dockerfile:1\nFROM a\n').directives).toEqual({ syntax: 'docker/dockerfile:1' });
    expect(parseDockerfile('# the image\n# syntax=docker/dockerfile:1\nFROM a\n').directives).toEqual({});
  });

  it('joins continued lines, drops comments inside them, and reads stages, COPY --from, ENV pairs, USER, EXPOSE and ENTRYPOINT', () => {
    const dockerfile = parseDockerfile([
      'FROM base:1 AS build',
      'WORKDIR /src',
      'RUN one \\',
      '# a comment inside the continuation',
      '    && two',
      'FROM base:1',
      'ENV A=1 B=two',
      'COPY --from=build /src/out ./out',
      'COPY a b ./',
      'USER 10:20',
      'EXPOSE 80 443',
      'ENTRYPOINT ["node", "x.js"]',
    ].join('\n'));
    expect(dockerfile.stages).toEqual([
      { base: 'base:1', name: 'build', instructions: [{ op: 'WORKDIR', path: '/src' }, { op: 'RUN', command: 'one && two' }] },
      {
        base: 'base:1',
        instructions: [
          { op: 'ENV', name: 'A', value: '1' }, { op: 'ENV', name: 'B', value: 'two' },
          { op: 'COPY', from: 'build', sources: ['/src/out'], dest: './out' },
          { op: 'COPY', sources: ['a', 'b'], dest: './' },
          { op: 'USER', user: '10:20' },
          { op: 'EXPOSE', ports: ['80', '443'] },
          { op: 'ENTRYPOINT', argv: ['node', 'x.js'] },
        ],
      },
    ]);
  });

  it.each([
    ['an instruction it cannot reproduce', 'FROM a\nADD x /x', /ADD is not reproduced/],
    ['COPY --chown', 'FROM a\nCOPY --chown=1:1 x /x', /--chown=1:1 is not reproduced/],
    ['COPY with a wildcard', 'FROM a\nCOPY *.json ./', /wildcards/],
    ['several sources into a file', 'FROM a\nCOPY a b dest', /ending in \//],
    ['a shell-form ENTRYPOINT (sh as PID 1 keeps SIGTERM from node)', 'FROM a\nENTRYPOINT node x.js', /exec form/],
    ['ENV with quotes', 'FROM a\nENV A="x y"', /without quotes/],
    ['an instruction before FROM', 'RUN x\nFROM a', /before the first FROM/],
    ['no FROM', '# nothing\n', /no FROM/],
  ])('refuses %s', (_, text, message) => {
    expect(() => parseDockerfile(text)).toThrow(message);
  });
});

describe('.dockerignore rules', () => {
  it('an allow list: * excludes every top-level entry and what is below it, ! brings one back with its contents', () => {
    const rules = parseDockerignore('# comment\n*\n!src\n!package.json\n');
    expect(['src', 'src/a/b.ts', 'package.json'].filter((p) => isIgnored(rules, p))).toEqual([]);
    expect(['test', 'test/x.ts', 'node_modules/a/index.js', 'package-lock.json'].filter((p) => !isIgnored(rules, p))).toEqual([]);
  });

  it('the last matching rule decides; ** spans folders, * and ? stay within one; a leading / is the context root', () => {
    const rules = parseDockerignore('/src/**/*.test.ts\n!src/keep.test.ts\n*.lo?\n');
    expect(isIgnored(rules, 'src/a/b.test.ts')).toBe(true);
    expect(isIgnored(rules, 'src/keep.test.ts')).toBe(false);
    expect(isIgnored(rules, 'src/a.ts')).toBe(false);
    expect(isIgnored(rules, 'run.log')).toBe(true);
    expect(isIgnored(rules, 'logs/run.log')).toBe(false);
  });
});
