import { generateSecretsBundle, parseContract, CA_VALIDITY_MS } from '../../../src/talos/config';
import { keyPairProblems } from '../../../src/talos/config/secrets/key-pairs';

const contract = parseContract('v1.6');

test('a freshly generated bundle is whole', async () => {
  const bundle = await generateSecretsBundle({ contract });
  expect(keyPairProblems(bundle, new Date())).toEqual([]);
});

test('each CA pair with a foreign key, a missing certificate, an unparseable key, an expired CA', async () => {
  const [bundle, other] = await Promise.all([generateSecretsBundle({ contract }), generateSecretsBundle({ contract })]);
  bundle.certs.os = { ...bundle.certs.os!, key: other.certs.os!.key };
  bundle.certs.etcd = { ...bundle.certs.etcd!, crt: '' };
  bundle.certs.k8sAggregator = { ...bundle.certs.k8sAggregator!, key: '-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n' };
  bundle.certs.k8sServiceAccount = undefined;
  expect(keyPairProblems(bundle, new Date())).toEqual([
    { pair: 'certs.os', problem: 'the private key does not belong to the certificate' },
    { pair: 'certs.etcd', problem: 'the certificate is missing' },
    { pair: 'certs.k8saggregator', problem: 'the private key does not parse (private key PEM does not parse)' },
    { pair: 'certs.k8sserviceaccount', problem: 'the private key is missing' },
  ]);
  const later = new Date(Date.now() + CA_VALIDITY_MS + 60_000);
  expect(keyPairProblems(other, later).map((p) => p.pair)).toEqual(['certs.os', 'certs.k8s', 'certs.etcd', 'certs.k8saggregator']);
  expect(keyPairProblems(other, later)[0]!.problem).toMatch(/^the certificate expired on \d{4}-/);
});
