// Throw-away PKI for the test bed (envtest style): one CA that signs the
// apiserver's serving certificate and client certificates for test users, and
// a separate service-account signing key. ECDSA P-256 for everything made here: fast to make.
// A CA loaded from PEM may also be RSA (a cluster's Kubernetes CA from a machine config).
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { importPrivateKey, signingAlgorithm } from '../../src/talos/config/secrets/keys';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto);

const ecdsa = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const signing = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface PemPair {
  certPem: string;
  keyPem: string;
}

export interface CertificateAuthority extends PemPair {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
  /** How this CA signs: follows its key type. */
  signing: Algorithm;
}

type Algorithm = webcrypto.Algorithm | webcrypto.EcdsaParams;

async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ecdsa, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

export async function createCertificateAuthority(commonName: string): Promise<CertificateAuthority> {
  const keys = await newKeys();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${commonName}`,
    keys,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 30 * DAY_MS),
    signingAlgorithm: signing,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys, signing, certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey!) };
}

export interface LeafOptions {
  commonName: string;
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  usage: 'server' | 'client';
}

export async function issueCertificate(ca: CertificateAuthority, options: LeafOptions): Promise<PemPair> {
  const keys = await newKeys();
  const now = Date.now();
  const subject = [`CN=${options.commonName}`, ...(options.organizations ?? []).map((o) => `O=${o}`)].join(', ');
  const altNames = [
    ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const caKeyId = ca.cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([options.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
    // The CA's own key identifier when it has one (a CA made elsewhere may not derive it from its key).
    caKeyId ? new x509.AuthorityKeyIdentifierExtension(caKeyId.keyId) : await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
  ];
  if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames));
  const cert = await x509.X509CertificateGenerator.create({
    subject,
    issuer: ca.cert.subject,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey!,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 30 * DAY_MS),
    signingAlgorithm: ca.signing,
    extensions,
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey!) };
}

/** A key pair for service-account token signing, as PKCS#8 (private) and SPKI (public) PEM. */
export async function createSigningKey(): Promise<{ privatePem: string; publicPem: string }> {
  const keys = await newKeys();
  const spki = await webcrypto.subtle.exportKey('spki', keys.publicKey);
  return { privatePem: await privateKeyPem(keys.privateKey), publicPem: x509.PemConverter.encode(spki, 'PUBLIC KEY') };
}

/**
 * Rebuilds a CA object from PEM: the files written earlier (to add users later) or a CA made
 * elsewhere, e.g. Talos's Kubernetes CA (ECDSA as SEC1 "EC PRIVATE KEY", or RSA).
 */
export async function loadCertificateAuthority(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const key = await importPrivateKey(keyPem);
  return {
    cert: new x509.X509Certificate(certPem),
    keys: { privateKey: key.privateKey, publicKey: key.publicKey },
    signing: signingAlgorithm(key.algorithm),
    certPem,
    keyPem,
  };
}
