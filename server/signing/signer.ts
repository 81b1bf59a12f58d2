import forge from 'node-forge';
import { P12Signer } from '@signpdf/signer-p12';

/**
 * Something that can produce a detached CMS (PKCS#7) signature with one person's certificate.
 * The PKCS#12 implementation below keeps the key in process memory for one signing; a hardware
 * token (PKCS#11) or a remote signing service implements the same interface so that
 * `signPdf()` and the minutes workflow do not change.
 */
export interface Signer {
  /** The signer's certificate, PEM. */
  readonly certificatePem: string;
  /** Human-readable subject common name (shown in the PDF signature dictionary). */
  readonly commonName: string;
  /**
   * Signs `content` (the PDF bytes covered by the ByteRange) and returns a DER-encoded CMS
   * SignedData, detached, with SHA-256 and the signing time as an authenticated attribute.
   */
  signDetached(content: Buffer, signingTime: Date): Promise<Buffer>;
}

/** Thrown when a PKCS#12 cannot be opened (wrong password, no key, no matching certificate). */
export class Pkcs12Error extends Error {}

/**
 * A `Signer` backed by a PKCS#12 file and its password. Opening it checks the password and that
 * the bundle holds a private key with its certificate; nothing is cached beyond this object.
 * @throws Pkcs12Error when the bundle cannot be opened
 */
export class Pkcs12Signer implements Signer {
  readonly certificatePem: string;
  readonly commonName: string;
  private readonly inner: P12Signer;

  constructor(p12: Buffer, passphrase: string) {
    const info = inspectPkcs12(p12, passphrase);
    this.certificatePem = info.certPem;
    this.commonName = info.commonName;
    this.inner = new P12Signer(p12, { passphrase });
  }

  signDetached(content: Buffer, signingTime: Date): Promise<Buffer> {
    return this.inner.sign(content, signingTime);
  }
}

export interface Pkcs12Info {
  certPem: string;
  commonName: string;
  subject: string;
  issuer: string;
  serial: string;
  notAfter: string;
}

/**
 * Opens a PKCS#12 and describes the certificate that matches its private key.
 * @throws Pkcs12Error on a wrong password, a malformed file, or a key without its certificate
 */
export function inspectPkcs12(p12: Buffer, passphrase: string): Pkcs12Info {
  let bundle: forge.pkcs12.Pkcs12Pfx;
  try {
    bundle = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.createBuffer(p12.toString('binary'))), false, passphrase);
  } catch {
    throw new Pkcs12Error('The PKCS#12 file could not be opened with this password');
  }
  const keyBag = bundle.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag })[forge.pki.oids.pkcs8ShroudedKeyBag]?.[0];
  const key = keyBag?.key as forge.pki.rsa.PrivateKey | undefined;
  if (!key) throw new Pkcs12Error('The PKCS#12 file holds no (encrypted) private key');
  const certs = (bundle.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag] ?? []).map((b) => b.cert).filter((c): c is forge.pki.Certificate => !!c);
  const cert = certs.find((c) => {
    const pub = c.publicKey as forge.pki.rsa.PublicKey;
    return pub.n?.compareTo(key.n) === 0 && pub.e?.compareTo(key.e) === 0;
  });
  if (!cert) throw new Pkcs12Error('The PKCS#12 file holds no certificate matching its private key');
  return describeCertificate(cert);
}

/** Subject, issuer, serial and expiry of a certificate, for display and storage. */
export function describeCertificate(cert: forge.pki.Certificate): Pkcs12Info {
  const dn = (attrs: forge.pki.CertificateField[]) => attrs.map((a) => `${a.shortName ?? a.name}=${utf8(a.value)}`).join(', ');
  return {
    certPem: forge.pki.certificateToPem(cert),
    commonName: utf8(cert.subject.getField('CN')?.value),
    subject: dn(cert.subject.attributes),
    issuer: dn(cert.issuer.attributes),
    serial: cert.serialNumber,
    notAfter: cert.validity.notAfter.toISOString(),
  };
}

/** forge hands attribute values over as binary strings of UTF-8 bytes. */
function utf8(v: unknown): string {
  const s = String(v ?? '');
  try {
    return forge.util.decodeUtf8(s);
  } catch {
    return s;
  }
}
