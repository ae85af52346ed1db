// Running the CLI in-process with its output captured, and the seed TalosControlPlanes with
// their placeholder etcd CA replaced, for the render tests (unit and integration).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../../src/cli/main';
import { processIO, type CommandIO } from '../../../src/cli/io';
import { loadSecretsBundle } from '../../../src/talos/config';

export const SEEDS = join(__dirname, '..', '..', 'fixtures', 'seeds');

export async function runCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CommandIO = { ...processIO, stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

export const base64 = (text: string): string => Buffer.from(text).toString('base64');

/**
 * A seed TalosControlPlane's text with the etcd CA it pins (a truncated placeholder Talos
 * refuses) replaced by the one in the secrets bundle file; nothing else changed.
 */
export function seedWithEtcdCA(seedFile: string, secretsFile: string): string {
  const etcd = loadSecretsBundle(readFileSync(secretsFile, 'utf8')).certs.etcd!;
  return readFileSync(join(SEEDS, seedFile), 'utf8')
    .replace('crt: LS0tLS1CRUdJTi0tLS0t...', `crt: ${base64(etcd.crt)}`)
    .replace('key: LS0tLS1CRUdJTi0tLS0t...', `key: ${base64(etcd.key)}`);
}
