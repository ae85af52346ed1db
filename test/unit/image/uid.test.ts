// One uid for the image and every manifest: the Dockerfile's USER is what each Deployment flavour
// in deploy/ (Helm chart, kustomize base, clusterctl components) sets as runAsUser/runAsGroup.
// Running as that uid with a read-only tree is test/e2e/image.test.ts.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { lastOf, parseDockerfile } from '../../../scripts/image/dockerfile';

const REPO_ROOT = resolve(__dirname, '..', '..', '..');
const DEPLOY_DIR = join(REPO_ROOT, 'deploy');

function filesBelow(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesBelow(path) : [path];
  });
}

/** Every literal `runAsUser: N` / `runAsGroup: N` of a deploy flavour (templated values are the chart's values.yaml literals). */
function settings(flavour: string, field: 'runAsUser' | 'runAsGroup'): { file: string; value: number }[] {
  return filesBelow(join(DEPLOY_DIR, flavour)).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(new RegExp(`\\b${field}:\\s*(\\d+)\\b`, 'g'))].map((m) => ({ file: relative(REPO_ROOT, file), value: Number(m[1]) })),
  );
}

describe('the image uid', () => {
  const user = lastOf(parseDockerfile(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8')).stages.at(-1)!, 'USER')?.user;

  it('is numeric uid:gid 65532:65532 in the Dockerfile (a pod with runAsNonRoot cannot check a user name)', () => {
    expect(user).toBe('65532:65532');
  });

  it.each(['helm', 'kustomize', 'clusterctl'])('is the runAsUser and runAsGroup of deploy/%s', (flavour) => {
    const [uid, gid] = user!.split(':').map(Number);
    const users = settings(flavour, 'runAsUser');
    const groups = settings(flavour, 'runAsGroup');
    expect(users.length).toBeGreaterThan(0);
    expect(groups.length).toBeGreaterThan(0);
    expect(users.filter((s) => s.value !== uid)).toEqual([]);
    expect(groups.filter((s) => s.value !== gid)).toEqual([]);
  });
});
