import crypto from 'node:crypto';
import forge from 'node-forge';

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
  private readonly opened: OpenedPkcs12;

  constructor(p12: Buffer, passphrase: string) {
    this.opened = openPkcs12(p12, passphrase);
    const info = describeCertificate(this.opened.cert);
    this.certificatePem = info.certPem;
    this.commonName = info.commonName;
  }

  async signDetached(content: Buffer, signingTime: Date): Promise<Buffer> {
    const p7 = forge.pkcs7.createSignedData();
    p7.content = forge.util.createBuffer(content.toString('binary'));
    for (const c of this.opened.chain) p7.addCertificate(c);
    p7.addSigner({
      key: nodeRsaKey(this.opened.keyPem) as unknown as forge.pki.rsa.PrivateKey,
      certificate: this.opened.cert,
      digestAlgorithm: forge.pki.oids.sha256,
      authenticatedAttributes: [
        { type: forge.pki.oids.contentType, value: forge.pki.oids.data },
        { type: forge.pki.oids.signingTime, value: signingTime as unknown as string },
        { type: forge.pki.oids.messageDigest },
      ],
    });
    p7.sign({ detached: true });
    return Buffer.from(forge.asn1.toDer(p7.toAsn1()).getBytes(), 'binary');
  }
}

/** DER prefix of a SHA-256 DigestInfo (RFC 8017 §9.2). */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

/**
 * A stand-in for a forge RSA private key whose `sign(md)` (RSASSA-PKCS1-v1_5 over forge's SHA-256
 * digest) runs in Node's native crypto: forge's pure-JS RSA takes about a second per signature on
 * a loaded machine. Used for CMS signatures and certificate issuance.
 */
export function nodeRsaKey(pem: string): { sign(md: forge.md.MessageDigest): string } {
  const key = crypto.createPrivateKey(pem);
  return {
    sign(md) {
      if (md.algorithm !== 'sha256') throw new Error(`unsupported digest ${md.algorithm}`);
      const digest = Buffer.from(md.digest().getBytes(), 'binary');
      return crypto.privateEncrypt({ key, padding: crypto.constants.RSA_PKCS1_PADDING }, Buffer.concat([SHA256_DIGEST_INFO, digest])).toString('binary');
    },
  };
}

interface OpenedPkcs12 {
  keyPem: string;
  cert: forge.pki.Certificate;
  chain: forge.pki.Certificate[];
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
  return describeCertificate(openPkcs12(p12, passphrase).cert);
}

function openPkcs12(p12: Buffer, passphrase: string): OpenedPkcs12 {
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
  return { keyPem: forge.pki.privateKeyToPem(key), cert, chain: certs };
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
