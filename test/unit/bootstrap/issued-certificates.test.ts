// The talosconfig certificate is read once per Secret version and cluster, again when the
// Secret changes, and forgotten with the Cluster.
import { IssuedCertificates, TALOSCONFIG_KEY } from '../../../src/bootstrap/client-config';
import type { SecretObject } from '../../../src/cluster/secrets';
import { generateSecretsBundle, generateTalosconfig, parseContract } from '../../../src/talos/config';

async function talosconfigSecret(resourceVersion: string, now: Date): Promise<SecretObject> {
  const bundle = await generateSecretsBundle({ contract: parseContract('v1.6'), now });
  const text = await generateTalosconfig({ bundle, contextName: 'c', endpoints: ['10.0.0.1'], now });
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'c-talosconfig', namespace: 'ns', resourceVersion }, data: { [TALOSCONFIG_KEY]: Buffer.from(text).toString('base64') } };
}

it('parses a version once, reads a new version, and starts over after forget', async () => {
  const first = await talosconfigSecret('1', new Date('2026-01-01T00:00:00Z'));
  const renewed = await talosconfigSecret('2', new Date('2026-06-01T00:00:00Z'));
  const cache = new IssuedCertificates();
  const issued = cache.of('uid', first, 'c');
  expect(issued).toMatchObject({ notBefore: new Date('2026-01-01T00:00:00Z'), endpoints: ['10.0.0.1'] });
  // Same version, other bytes: the held reading is used (a version never changes its content).
  expect(cache.of('uid', { ...renewed, metadata: first.metadata }, 'c')).toBe(issued);
  expect(cache.of('uid', renewed, 'c')?.notBefore).toEqual(new Date('2026-06-01T00:00:00Z'));
  cache.forget('uid');
  expect(cache.of('uid', { ...first, metadata: renewed.metadata }, 'c')?.notBefore).toEqual(new Date('2026-01-01T00:00:00Z'));
});
