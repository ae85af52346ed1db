// X.509 certificates shaped like the ones Talos's crypto library issues, so Talos accepts
// ours and tooling comparing the two sees the same subjects, extensions and validity.
//
// Certificate authority: v3, 128-bit random serial, subject with only the organisation,
// extensions (in Go's order) key usage {digitalSignature, keyCertSign} critical, extended key
// usage {serverAuth, clientAuth}, basic constraints CA:TRUE critical, and a 20-byte random
// subject key identifier. Client certificate: key usage digitalSignature (critical), extended
// key usage clientAuth only, the issuer's key identifier, no basic constraints.

// @peculiar/x509 resolves its parts through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { generateKey, importPrivateKey, signingAlgorithm, type KeyAlgorithm, type KeyPair } from './keys';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export interface IssuedCertificate {
  /** Certificate PEM. */
  crt: string;
  /** Private key PEM, labelled the way Talos labels it. */
  key: string;
}

export interface CertificateAuthorityOptions {
  algorithm: KeyAlgorithm;
  /** Subject organisation; none gives an empty subject (Talos's aggregator CA). */
  organization?: string;
  notBefore: Date;
  notAfter: Date;
}

/** Random positive serial below 2^128, DER-encoded as Go's big.Int would be. */
function serialNumber(): string {
  const value = BigInt(`0x${randomBytes(16).toString('hex')}`);
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  return /^[89a-f]/.test(hex) ? `00${hex}` : hex;
}

function subjectName(organizations: string[]): string {
  return organizations.map((o) => `O=${o.replace(/([,+"\\<>;=])/g, '\\$1')}`).join(', ');
}

/** Go writes certificate times with whole seconds. */
function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

async function selfSignedCA(options: CertificateAuthorityOptions, keys: KeyPair): Promise<string> {
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: subjectName(options.organization ? [options.organization] : []),
    notBefore: wholeSeconds(options.notBefore),
    notAfter: wholeSeconds(options.notAfter),
    signingAlgorithm: signingAlgorithm(options.algorithm),
    keys: { privateKey: keys.privateKey, publicKey: keys.publicKey },
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.SubjectKeyIdentifierExtension(randomBytes(20).toString('hex')),
    ],
  });
  return certificate.toString('pem');
}

/** A new self-signed certificate authority with a fresh key. */
export async function createCertificateAuthority(options: CertificateAuthorityOptions): Promise<IssuedCertificate> {
  const keys = await generateKey(options.algorithm);
  return { crt: await selfSignedCA(options, keys), key: keys.privateKeyPem };
}

export interface ClientCertificateOptions {
  /** Signing CA (certificate and key PEM). */
  ca: IssuedCertificate;
  /** One subject organisation per entry (Talos roles), written sorted. */
  organizations: string[];
  notBefore: Date;
  notAfter: Date;
}

export class CertificateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CertificateError';
  }
}

export function parseCertificate(pem: string): x509.X509Certificate {
  try {
    return new x509.X509Certificate(pem);
  } catch {
    throw new CertificateError('certificate PEM does not parse');
  }
}

/**
 * A client certificate signed by `ca`; its key has the CA key's type (Ed25519 under the
 * Ed25519 OS CA), as Talos does.
 */
export async function issueClientCertificate(options: ClientCertificateOptions): Promise<IssuedCertificate> {
  const caCertificate = parseCertificate(options.ca.crt);
  const caKey = await importPrivateKey(options.ca.key);
  const keys = await generateKey(caKey.algorithm);
  const caKeyId = caCertificate.getExtension(x509.SubjectKeyIdentifierExtension);
  const extensions: x509.Extension[] = [
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
  ];
  if (caKeyId) extensions.push(new x509.AuthorityKeyIdentifierExtension(caKeyId.keyId));
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: subjectName([...options.organizations].sort()),
    issuer: caCertificate.subjectName,
    notBefore: wholeSeconds(options.notBefore),
    notAfter: wholeSeconds(options.notAfter),
    signingAlgorithm: signingAlgorithm(caKey.algorithm),
    publicKey: keys.publicKey,
    signingKey: caKey.privateKey,
    extensions,
  });
  return { crt: certificate.toString('pem'), key: keys.privateKeyPem };
}
