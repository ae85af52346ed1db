// X.509 certificates shaped like the ones Talos's crypto library issues, so Talos accepts
// ours and tooling comparing the two sees the same subjects, extensions and validity.
//
// Certificate authority: v3, 128-bit random serial, subject with only the organisation,
// extensions (in Go's order) key usage {digitalSignature, keyCertSign} critical, extended key
// usage {serverAuth, clientAuth}, basic constraints CA:TRUE critical, and a 20-byte random
// subject key identifier. Client certificate: key usage digitalSignature (critical), extended
// key usage clientAuth only, the issuer's key identifier, no basic constraints.

import { KeyObject, X509Certificate, randomBytes, sign } from 'node:crypto';
import {
  bitString, booleanTrue, children, directoryString, element, explicit, flagBits, implicitPrimitive, integerFromHex,
  octetString, oid, sequence, set, smallInteger, time, tlv,
} from './der';
import { generateKey, importPrivateKey, type KeyAlgorithm, type KeyPair } from './keys';

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

/** A Name with one RDN per organisation (Talos's subjects carry nothing else). */
function subjectName(organizations: string[]): Buffer {
  return sequence(...organizations.map((o) => set(sequence(oid(OID.organization), directoryString(o)))));
}

/** Go writes certificate times with whole seconds. */
function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

const OID = {
  organization: '2.5.4.10',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  ed25519: '1.3.101.112',
  keyUsage: '2.5.29.15',
  extendedKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** Key usage bits, numbered as RFC 5280 does. */
const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5 } as const;

function extension(id: string, value: Buffer, critical = false): Buffer {
  return sequence(oid(id), ...(critical ? [booleanTrue()] : []), octetString(value));
}

interface Signer {
  key: KeyObject;
  algorithm: KeyAlgorithm;
}

function signatureAlgorithm(algorithm: KeyAlgorithm): Buffer {
  if (algorithm === 'ecdsa-p256') return sequence(oid(OID.ecdsaWithSha256));
  if (algorithm === 'ed25519') return sequence(oid(OID.ed25519));
  // RSA CAs (older bundles): PKCS#1 v1.5 with SHA-256, whose parameters are an explicit NULL.
  return sequence(oid(OID.sha256WithRSAEncryption), tlv(0x05, Buffer.alloc(0)));
}

interface CertificateFields {
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  extensions: Buffer[];
}

/** tbsCertificate, signed: Go's field order and encodings (v3, random serial). */
function signedCertificate(fields: CertificateFields, signer: Signer): string {
  const algorithm = signatureAlgorithm(signer.algorithm);
  const tbs = sequence(
    explicit(0, smallInteger(2)),
    integerFromHex(serialNumber()),
    algorithm,
    fields.issuer,
    sequence(time(wholeSeconds(fields.notBefore)), time(wholeSeconds(fields.notAfter))),
    fields.subject,
    fields.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...fields.extensions)),
  );
  const signature = sign(signer.algorithm === 'ed25519' ? null : 'sha256', tbs, signer.key);
  const der = sequence(tbs, algorithm, bitString(signature));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return ['-----BEGIN CERTIFICATE-----', ...lines, '-----END CERTIFICATE-----'].join('\n');
}

function selfSignedCA(options: CertificateAuthorityOptions, keys: KeyPair): string {
  const name = subjectName(options.organization ? [options.organization] : []);
  return signedCertificate(
    {
      issuer: name,
      subject: name,
      notBefore: options.notBefore,
      notAfter: options.notAfter,
      publicKey: KeyObject.from(keys.publicKey),
      extensions: [
        extension(OID.keyUsage, flagBits([KEY_USAGE.digitalSignature, KEY_USAGE.keyCertSign]), true),
        extension(OID.extendedKeyUsage, sequence(oid(OID.serverAuth), oid(OID.clientAuth))),
        extension(OID.basicConstraints, sequence(booleanTrue()), true),
        extension(OID.subjectKeyIdentifier, octetString(randomBytes(20))),
      ],
    },
    { key: KeyObject.from(keys.privateKey), algorithm: options.algorithm },
  );
}

/** A new self-signed certificate authority with a fresh key. */
export async function createCertificateAuthority(options: CertificateAuthorityOptions): Promise<IssuedCertificate> {
  const keys = await generateKey(options.algorithm);
  return { crt: selfSignedCA(options, keys), key: keys.privateKeyPem };
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

export function parseCertificate(pem: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new CertificateError('certificate PEM does not parse');
  }
}

/** The subject Name (DER) and subject key identifier of a certificate, read from its DER. */
function issuerParts(certificate: X509Certificate): { subject: Buffer; keyId?: Buffer } {
  const tbs = children(element(certificate.raw).contents)[0]!;
  const fields = children(tbs.contents);
  // [0] version, serial, signature, issuer, validity, subject, spki, [3] extensions
  const subject = fields[5]!.encoded;
  const extensions = fields.find((f) => f.tag === 0xa3);
  for (const ext of extensions ? children(element(extensions.contents).contents) : []) {
    const [id, ...rest] = children(ext.contents);
    if (id!.encoded.equals(oid(OID.subjectKeyIdentifier))) return { subject, keyId: element(rest[rest.length - 1]!.contents).contents };
  }
  return { subject };
}

/**
 * A client certificate signed by `ca`; its key has the CA key's type (Ed25519 under the
 * Ed25519 OS CA), as Talos does.
 */
export async function issueClientCertificate(options: ClientCertificateOptions): Promise<IssuedCertificate> {
  const caCertificate = parseCertificate(options.ca.crt);
  const caKey = await importPrivateKey(options.ca.key);
  const keys = await generateKey(caKey.algorithm);
  const issuer = issuerParts(caCertificate);
  const extensions = [
    extension(OID.keyUsage, flagBits([KEY_USAGE.digitalSignature]), true),
    extension(OID.extendedKeyUsage, sequence(oid(OID.clientAuth))),
    ...(issuer.keyId ? [extension(OID.authorityKeyIdentifier, sequence(implicitPrimitive(0, issuer.keyId)))] : []),
  ];
  const crt = signedCertificate(
    {
      issuer: issuer.subject,
      subject: subjectName([...options.organizations].sort()),
      notBefore: options.notBefore,
      notAfter: options.notAfter,
      publicKey: KeyObject.from(keys.publicKey),
      extensions,
    },
    { key: KeyObject.from(caKey.privateKey), algorithm: caKey.algorithm },
  );
  return { crt, key: keys.privateKeyPem };
}
