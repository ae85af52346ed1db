// Private keys in the PEM forms Talos writes and reads, and their WebCrypto counterparts for
// signing certificates.
//
// Key generation uses node:crypto's callback generateKeyPair, which runs on the libuv thread
// pool: an RSA-4096 key takes from a few hundred milliseconds to seconds and must not stall
// the event loop of the operator.

import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject, type webcrypto } from 'node:crypto';
import { promisify } from 'node:util';

const generateKeyPairAsync = promisify(generateKeyPair);

type CryptoKey = webcrypto.CryptoKey;
type SigningParams = webcrypto.Algorithm | webcrypto.EcdsaParams | webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;

export type KeyAlgorithm = 'ecdsa-p256' | 'ed25519' | 'rsa-4096';

/** PEM labels Talos uses (Go's siderolabs/crypto): Ed25519 gets a label of its own on a PKCS#8 body. */
const ED25519_LABEL = 'ED25519 PRIVATE KEY';

export interface KeyPair {
  algorithm: KeyAlgorithm;
  /** Private key PEM as Talos writes it (EC / RSA / ED25519 PRIVATE KEY). */
  privateKeyPem: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

export class KeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyError';
  }
}

function webCryptoAlgorithm(algorithm: KeyAlgorithm): SigningParams {
  switch (algorithm) {
    case 'ecdsa-p256':
      return { name: 'ECDSA', namedCurve: 'P-256' };
    case 'ed25519':
      return { name: 'Ed25519' };
    case 'rsa-4096':
      return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  }
}

/** The signature algorithm Talos's CAs use with this key type. */
export function signingAlgorithm(algorithm: KeyAlgorithm): SigningParams {
  return algorithm === 'ecdsa-p256' ? { name: 'ECDSA', hash: 'SHA-256' } : webCryptoAlgorithm(algorithm);
}

function talosPem(algorithm: KeyAlgorithm, key: KeyObject): string {
  switch (algorithm) {
    case 'ecdsa-p256':
      return key.export({ type: 'sec1', format: 'pem' }).toString();
    case 'rsa-4096':
      return key.export({ type: 'pkcs1', format: 'pem' }).toString();
    case 'ed25519':
      return key.export({ type: 'pkcs8', format: 'pem' }).toString().replaceAll('PRIVATE KEY-----', `${ED25519_LABEL}-----`);
  }
}

async function toKeyPair(algorithm: KeyAlgorithm, privateKey: KeyObject, publicKey: KeyObject): Promise<KeyPair> {
  const params = webCryptoAlgorithm(algorithm);
  return {
    algorithm,
    privateKeyPem: talosPem(algorithm, privateKey),
    privateKey: privateKey.toCryptoKey(params, true, ['sign']),
    publicKey: publicKey.toCryptoKey(params, true, ['verify']),
  };
}

/** Generates a key pair off the main thread. */
export async function generateKey(algorithm: KeyAlgorithm): Promise<KeyPair> {
  const { privateKey, publicKey } =
    algorithm === 'ecdsa-p256'
      ? await generateKeyPairAsync('ec', { namedCurve: 'P-256' })
      : algorithm === 'ed25519'
        ? await generateKeyPairAsync('ed25519')
        : await generateKeyPairAsync('rsa', { modulusLength: 4096, publicExponent: 0x10001 });
  return toKeyPair(algorithm, privateKey, publicKey);
}

function algorithmOf(key: KeyObject): KeyAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ecdsa-p256';
  if (key.asymmetricKeyType === 'rsa') return 'rsa-4096';
  throw new KeyError(`unsupported key type ${key.asymmetricKeyType ?? 'unknown'}`);
}

/** The private key of a PEM in any form Talos accepts, as a node:crypto key (no WebCrypto import). */
export function parsePrivateKey(pem: string): KeyObject {
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)?.[1];
  if (!label || !['EC PRIVATE KEY', 'RSA PRIVATE KEY', ED25519_LABEL, 'PRIVATE KEY'].includes(label)) {
    throw new KeyError('unsupported key type: expected an EC, RSA, ED25519 or PKCS#8 private key PEM');
  }
  try {
    return createPrivateKey(label === ED25519_LABEL ? pem.replaceAll(ED25519_LABEL, 'PRIVATE KEY') : pem);
  } catch {
    throw new KeyError('private key PEM does not parse');
  }
}

/**
 * Reads a private key in any PEM form Talos accepts (EC, RSA, ED25519 or PKCS#8 PRIVATE KEY).
 * Node does not know the ED25519 label, so that one is read as the PKCS#8 it is.
 */
export async function importPrivateKey(pem: string): Promise<KeyPair> {
  const privateKey = parsePrivateKey(pem);
  const algorithm = algorithmOf(privateKey);
  const pair = await toKeyPair(algorithm, privateKey, createPublicKey(privateKey));
  return { ...pair, privateKeyPem: pem };
}
