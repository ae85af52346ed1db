// The `<cluster>-talos` Secret: the cluster's Talos secrets bundle under key
// `bundle` (or CABPT's older certs/kubeSecrets/trustdInfo layout). A bundle is
// trusted only once it reads whole: it parses and every CA key belongs to its
// certificate and nothing has expired. Faults are the Secret's, not the
// config's, and say which Secret and which pair.
import { loadSecretsBundle, type SecretsBundle } from '../talos/config';
import { keyPairProblems } from '../talos/config/secrets/key-pairs';
import { fromBase64, type SecretObject } from './secrets';

export const BUNDLE_KEY = 'bundle';

/** The bundle Secret is missing, unreadable or not whole: fixing the Secret fixes it. */
export class InvalidSecretsBundle extends Error {
  constructor(readonly secretName: string, detail: string) {
    super(`secrets bundle Secret ${secretName} ${detail}`);
    this.name = 'InvalidSecretsBundle';
  }
}

const nameOf = (secret: SecretObject) => `${secret.metadata.namespace}/${secret.metadata.name}`;

/** The bundle in the Secret, checked whole at `now`; throws InvalidSecretsBundle naming what is wrong. */
export function bundleFromSecret(secret: SecretObject, now: Date): SecretsBundle {
  const data = secret.data ?? {};
  let bundle: SecretsBundle;
  try {
    bundle = data[BUNDLE_KEY] !== undefined
      ? loadSecretsBundle(fromBase64(data[BUNDLE_KEY]))
      : loadSecretsBundle({ certs: fromBase64(data.certs), kubeSecrets: fromBase64(data.kubeSecrets), trustdInfo: fromBase64(data.trustdInfo) });
  } catch (error) {
    throw new InvalidSecretsBundle(nameOf(secret), `cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  const problems = keyPairProblems(bundle, now);
  if (problems.length > 0) {
    throw new InvalidSecretsBundle(nameOf(secret), `is not usable: ${problems.map((p) => `${p.pair}: ${p.problem}`).join('; ')}`);
  }
  return bundle;
}
