// CertificatesAvailable's check of the secrets bundle Secret.
import { certificatesCheckOf } from '../../../src/controlplane/certificates';
import { BUNDLE_KEY } from '../../../src/cluster/bundle-secret';
import { toBase64, type SecretObject } from '../../../src/cluster/secrets';
import { encodeSecretsBundle, generateSecretsBundle, parseContract } from '../../../src/talos/config';

const NAME = 'ns/c-talos';
const secretWith = (bundle: string): SecretObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'c-talos', namespace: 'ns' }, data: { [BUNDLE_KEY]: toBase64(bundle) } });

describe('the certificates check', () => {
  it('finds a whole bundle available', async () => {
    const bundle = await generateSecretsBundle({ contract: parseContract('v1.13') });
    expect(certificatesCheckOf(secretWith(encodeSecretsBundle(bundle)), NAME, new Date())).toEqual({ available: true });
  });

  it('names the missing Secret, and what is wrong with a bundle that is not whole', async () => {
    expect(certificatesCheckOf(undefined, NAME, new Date())).toEqual({
      available: false, reason: 'SecretNotFound',
      message: 'Secret ns/c-talos does not exist yet (the bootstrap provider writes the secrets bundle when it renders the first Machine\'s config)',
    });
    const bundle = await generateSecretsBundle({ contract: parseContract('v1.13') });
    bundle.certs.etcd = undefined;
    expect(certificatesCheckOf(secretWith(encodeSecretsBundle(bundle)), NAME, new Date())).toEqual({
      available: false, reason: 'InvalidSecret', message: 'secrets bundle Secret ns/c-talos is not usable: certs.etcd: the certificate is missing',
    });
  });
});
