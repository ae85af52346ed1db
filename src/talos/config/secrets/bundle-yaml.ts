// secrets.yaml in the layout `talosctl gen secrets` writes (go-yaml of Talos's secrets.Bundle:
// lower-cased Go field names, certificates and keys as base64 of their PEM text), so bundles
// move freely between talosctl, CABPT and us. Also reads CABPT's older three-part layout.

import type { TalosContract } from '../contract';
import { emitDocument } from '../yaml/emitter';
import { parseYamlValue } from '../yaml/parse';
import { isYamlMap, type YamlMap, type YamlValue } from '../yaml/values';
import { parseCertificate } from './certificates';
import { importPrivateKey } from './keys';
import type { CertificateAndKey, SecretsBundle } from './bundle';

/** Talos keeps this marker literally in place of a redacted key. */
const REDACTED = '******';

export class SecretsBundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretsBundleError';
  }
}

const toBase64 = (pem: string): string => (pem === REDACTED ? pem : Buffer.from(pem, 'utf8').toString('base64'));

function fromBase64(value: YamlValue | undefined, path: string): string {
  if (value === undefined || value === null || value === '') return '';
  if (typeof value !== 'string') throw new SecretsBundleError(`${path}: expected a base64 string`);
  if (value === REDACTED) return value;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
    throw new SecretsBundleError(`${path}: illegal base64 data`);
  }
  return Buffer.from(value, 'base64').toString('utf8');
}

function encodePair(pair: CertificateAndKey | undefined): YamlValue {
  return pair ? { crt: toBase64(pair.crt), key: toBase64(pair.key) } : null;
}

/** The bundle as secrets.yaml text. */
export function encodeSecretsBundle(bundle: SecretsBundle): string {
  const secrets: YamlMap = { bootstraptoken: bundle.secrets.bootstrapToken };
  if (bundle.secrets.aescbcEncryptionSecret) secrets.aescbcencryptionsecret = bundle.secrets.aescbcEncryptionSecret;
  if (bundle.secrets.secretboxEncryptionSecret) secrets.secretboxencryptionsecret = bundle.secrets.secretboxEncryptionSecret;
  const serviceAccount = bundle.certs.k8sServiceAccount;
  return emitDocument({
    cluster: { id: bundle.cluster.id, secret: bundle.cluster.secret },
    secrets,
    trustdinfo: { token: bundle.trustdInfo.token },
    certs: {
      etcd: encodePair(bundle.certs.etcd),
      k8s: encodePair(bundle.certs.k8s),
      k8saggregator: encodePair(bundle.certs.k8sAggregator),
      k8sserviceaccount: serviceAccount ? { key: toBase64(serviceAccount.key) } : null,
      os: encodePair(bundle.certs.os),
    },
  });
}

function section(value: YamlValue | undefined, path: string): YamlMap | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isYamlMap(value)) throw new SecretsBundleError(`${path}: expected a mapping`);
  return value;
}

function text(value: YamlValue | undefined, path: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new SecretsBundleError(`${path}: expected a string`);
}

function decodePair(value: YamlValue | undefined, path: string): CertificateAndKey | undefined {
  const pair = section(value, path);
  return pair ? { crt: fromBase64(pair.crt, `${path}.crt`), key: fromBase64(pair.key, `${path}.key`) } : undefined;
}

function decodeCerts(certs: YamlMap | undefined): SecretsBundle['certs'] {
  if (!certs) return {};
  const out: SecretsBundle['certs'] = {};
  const etcd = decodePair(certs.etcd, 'certs.etcd');
  const k8s = decodePair(certs.k8s, 'certs.k8s');
  const k8sAggregator = decodePair(certs.k8saggregator, 'certs.k8saggregator');
  const os = decodePair(certs.os, 'certs.os');
  const serviceAccount = section(certs.k8sserviceaccount, 'certs.k8sserviceaccount');
  if (etcd) out.etcd = etcd;
  if (k8s) out.k8s = k8s;
  if (k8sAggregator) out.k8sAggregator = k8sAggregator;
  if (serviceAccount) out.k8sServiceAccount = { key: fromBase64(serviceAccount.key, 'certs.k8sserviceaccount.key') };
  if (os) out.os = os;
  return out;
}

function decodeSecrets(secrets: YamlMap | undefined): SecretsBundle['secrets'] {
  const out: SecretsBundle['secrets'] = { bootstrapToken: text(secrets?.bootstraptoken, 'secrets.bootstraptoken') };
  const secretbox = text(secrets?.secretboxencryptionsecret, 'secrets.secretboxencryptionsecret');
  const aescbc = text(secrets?.aescbcencryptionsecret, 'secrets.aescbcencryptionsecret');
  if (secretbox) out.secretboxEncryptionSecret = secretbox;
  if (aescbc) out.aescbcEncryptionSecret = aescbc;
  return out;
}

function parseYamlText(yamlText: string, what: string): YamlValue {
  try {
    return parseYamlValue(yamlText);
  } catch (err) {
    throw new SecretsBundleError(`${what} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** CABPT's pre-bundle Secret: three keys holding the YAML of certs, secrets and trustd info. */
export interface LegacySecretsParts {
  certs: string | YamlMap;
  kubeSecrets: string | YamlMap;
  trustdInfo: string | YamlMap;
}

function legacyPart(value: string | YamlValue | undefined, name: string): YamlMap {
  const parsed = typeof value === 'string' ? parseYamlText(value, `legacy secrets ${name}`) : value;
  const map = section(parsed, name);
  if (!map) throw new SecretsBundleError(`legacy secrets: ${name} is missing`);
  return map;
}

function fromLegacy(parts: LegacySecretsParts | YamlMap): SecretsBundle {
  return {
    // The legacy layout predates cluster discovery: no cluster id or secret.
    cluster: { id: '', secret: '' },
    secrets: decodeSecrets(legacyPart(parts.kubeSecrets as YamlValue, 'kubeSecrets')),
    trustdInfo: { token: text(legacyPart(parts.trustdInfo as YamlValue, 'trustdInfo').token, 'trustdInfo.token') },
    certs: decodeCerts(legacyPart(parts.certs as YamlValue, 'certs')),
  };
}

/**
 * Reads secrets.yaml as talosctl/CABPT write it; also the legacy CABPT layout, given either as
 * its three parts or as one YAML mapping with keys `certs`, `kubeSecrets` and `trustdInfo`.
 * Unknown keys are ignored, as Talos's loader ignores them.
 */
export function loadSecretsBundle(input: string | LegacySecretsParts): SecretsBundle {
  if (typeof input !== 'string') return fromLegacy(input);
  const root = section(parseYamlText(input, 'secrets bundle'), 'secrets bundle');
  if (!root) throw new SecretsBundleError('secrets bundle is empty');
  if ('kubeSecrets' in root || 'trustdInfo' in root) return fromLegacy(root);
  const cluster = section(root.cluster, 'cluster');
  const trustd = section(root.trustdinfo, 'trustdinfo');
  return {
    cluster: { id: text(cluster?.id, 'cluster.id'), secret: text(cluster?.secret, 'cluster.secret') },
    secrets: decodeSecrets(section(root.secrets, 'secrets')),
    trustdInfo: { token: text(trustd?.token, 'trustdinfo.token') },
    certs: decodeCerts(section(root.certs, 'certs')),
  };
}

async function pairProblem(pair: CertificateAndKey): Promise<string | undefined> {
  try {
    await importPrivateKey(pair.key);
    parseCertificate(pair.crt);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * What Talos's Bundle.Validate would reject, in its words (empty when the bundle is usable
 * for `contract`).
 */
export async function validateSecretsBundle(bundle: SecretsBundle, contract: TalosContract): Promise<string[]> {
  void contract; // every contract we support needs Kubernetes and etcd secrets alike
  const problems: string[] = [];
  if (!bundle.cluster.id) problems.push('cluster.id is required');
  if (!bundle.cluster.secret) problems.push('cluster.secret is required');
  if (!bundle.secrets.bootstrapToken) problems.push('secrets.bootstraptoken is required');
  const { secretboxEncryptionSecret: secretbox, aescbcEncryptionSecret: aescbc } = bundle.secrets;
  if (!secretbox && !aescbc) problems.push('one of [secrets.secretboxencryptionsecret, secrets.aescbcencryptionsecret] is required');
  if (secretbox && aescbc) problems.push('only one of [secrets.secretboxencryptionsecret, secrets.aescbcencryptionsecret] is allowed');
  if (!bundle.trustdInfo.token) problems.push('trustdinfo.token is required');
  const pairs: Array<[string, CertificateAndKey | undefined]> = [
    ['certs.etcd', bundle.certs.etcd],
    ['certs.k8s', bundle.certs.k8s],
    ['certs.k8saggregator', bundle.certs.k8sAggregator],
  ];
  for (const [name, pair] of pairs) {
    const problem = pair ? await pairProblem(pair) : 'missing';
    if (problem === 'missing') problems.push(`${name} is required`);
    else if (problem) problems.push(`${name} is invalid: ${problem}`);
  }
  if (!bundle.certs.k8sServiceAccount) {
    problems.push('certs.k8sserviceaccount is required');
  } else {
    try {
      await importPrivateKey(bundle.certs.k8sServiceAccount.key);
    } catch (err) {
      problems.push(`certs.k8sserviceaccount.key is invalid: ${(err as Error).message}`);
    }
  }
  const osProblem = bundle.certs.os ? await pairProblem(bundle.certs.os) : 'missing';
  if (osProblem === 'missing') problems.push('certs.os is required');
  else if (osProblem) problems.push(`certs.os is invalid: ${osProblem}`);
  return problems;
}
