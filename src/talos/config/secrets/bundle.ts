// The cluster secrets bundle: everything machine configs of one cluster share (CAs, tokens,
// cluster identity), generated once, like `talosctl gen secrets`.

import { randomBytes, randomInt } from 'node:crypto';
import type { TalosContract } from '../contract';
import { createCertificateAuthority, type IssuedCertificate } from './certificates';
import { generateKey, type KeyAlgorithm } from './keys';

/** Certificate and private key, both PEM text. */
export type CertificateAndKey = IssuedCertificate;

export interface SecretsBundle {
  cluster: {
    /** Cluster identity shared through discovery (base64 of 32 random bytes). */
    id: string;
    /** Discovery encryption key (std base64 of 32 random bytes). */
    secret: string;
  };
  secrets: {
    /** Kubernetes bootstrap token `[0-9a-z]{6}.[0-9a-z]{16}`. */
    bootstrapToken: string;
    /** etcd secret encryption key for contracts ≥ 1.3 (std base64 of 32 bytes). */
    secretboxEncryptionSecret?: string;
    /** The same for contracts ≤ 1.2 (only found in old bundles). */
    aescbcEncryptionSecret?: string;
  };
  trustdInfo: {
    /** Token workers use to obtain certificates from trustd. */
    token: string;
  };
  certs: {
    /** etcd CA (ECDSA P-256, O=etcd). */
    etcd?: CertificateAndKey;
    /** Kubernetes CA (ECDSA P-256, O=kubernetes). */
    k8s?: CertificateAndKey;
    /** Front-proxy CA (ECDSA P-256, empty subject). */
    k8sAggregator?: CertificateAndKey;
    /** Service-account signing key: RSA-4096 for contracts ≥ 1.7, ECDSA P-256 before. */
    k8sServiceAccount?: { key: string };
    /** Talos API CA (Ed25519, O=talos). */
    os?: CertificateAndKey;
  };
}

/** CA validity: 87600h, ten years of 365 days. */
export const CA_VALIDITY_MS = 87_600 * 3_600_000;

const TOKEN_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

function randomTokenPart(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += TOKEN_ALPHABET[randomInt(TOKEN_ALPHABET.length)];
  return out;
}

/** `[0-9a-z]{6}.[0-9a-z]{16}`, the Kubernetes bootstrap token format Talos uses for both tokens. */
export function generateToken(): string {
  return `${randomTokenPart(6)}.${randomTokenPart(16)}`;
}

/** 32 random bytes in standard base64 (encryption keys, cluster id and secret). */
export function generateSecret32(): string {
  return randomBytes(32).toString('base64');
}

export interface GenerateSecretsOptions {
  contract: TalosContract;
  /** Start of the CAs' validity (default: now). */
  now?: Date;
  /**
   * Where the service-account key's PEM comes from (default: a new key). A caller may hand out
   * keys generated ahead of need, so that an RSA-4096 key is not on the path of a new cluster.
   */
  serviceAccountKey?: (algorithm: KeyAlgorithm) => Promise<string>;
}

/**
 * Generates a complete bundle for `contract`. The CAs are created concurrently; the RSA-4096
 * service-account key (contracts ≥ 1.7) is generated on the thread pool.
 */
export async function generateSecretsBundle(options: GenerateSecretsOptions): Promise<SecretsBundle> {
  const now = options.now ?? new Date();
  const notAfter = new Date(now.getTime() + CA_VALIDITY_MS);
  const ca = (algorithm: 'ecdsa-p256' | 'ed25519', organization?: string): Promise<IssuedCertificate> =>
    createCertificateAuthority({ algorithm, notBefore: now, notAfter, ...(organization ? { organization } : {}) });
  const features = options.contract.features;
  const serviceAccountAlgorithm = features.useRSAServiceAccountKey ? 'rsa-4096' : 'ecdsa-p256';

  const [etcd, k8s, k8sAggregator, os, serviceAccountKey] = await Promise.all([
    ca('ecdsa-p256', 'etcd'),
    ca('ecdsa-p256', 'kubernetes'),
    ca('ecdsa-p256'),
    ca('ed25519', 'talos'),
    options.serviceAccountKey ? options.serviceAccountKey(serviceAccountAlgorithm) : generateKey(serviceAccountAlgorithm).then((key) => key.privateKeyPem),
  ]);

  const encryptionSecret = generateSecret32();
  return {
    cluster: { id: generateSecret32(), secret: generateSecret32() },
    secrets: {
      bootstrapToken: generateToken(),
      ...(features.secretboxEncryptionSupported
        ? { secretboxEncryptionSecret: encryptionSecret }
        : { aescbcEncryptionSecret: encryptionSecret }),
    },
    trustdInfo: { token: generateToken() },
    certs: { etcd, k8s, k8sAggregator, k8sServiceAccount: { key: serviceAccountKey }, os },
  };
}
