import crypto from 'node:crypto';
import { and, eq, isNull, lt, lte, or, sql } from 'drizzle-orm';
import forge from 'node-forge';
import type { Config } from '../config.js';
import type { Store } from '../db/store.js';
import { signingCa, signingIdentities, users } from '../db/tables.js';
import { AppError, notFound } from '../http/errors.js';
import { audit } from '../audit/audit.repo.js';
import { Pkcs12Error, Pkcs12Signer, describeCertificate, inspectPkcs12, nodeRsaKey, type Signer } from './signer.js';

/** What the keystore works with: the store and the server secret's config. The app's context (`ctx`) is one. */
export interface Keys {
  store: Store;
  config: Config;
}

/** The PIN of every demo identity (non-production only), printed in README next to the demo password. */
export const DEMO_SIGNING_PIN = '123456';
/** Wrong PINs in a row before the identity is locked. */
export const MAX_PIN_ATTEMPTS = 5;
/** How long a locked identity stays locked. */
export const PIN_LOCK_MINUTES = 15;

/** Derives the sealing key from the server secret and a PIN (scrypt, per-identity salt). */
function deriveKey(secret: string, pin: string, salt: Buffer): Promise<Buffer> {
  // Asynchronous: scrypt runs on the libuv pool, not on the event loop.
  return new Promise((resolve, reject) =>
    crypto.scrypt(`${secret}\u0000${pin}`, salt, 32, { N: 1 << 14, r: 8, p: 1 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** AES-256-GCM seal: base64(salt | iv | tag | ciphertext). */
export async function seal(secret: string, pin: string, plaintext: Buffer): Promise<string> {
  const salt = crypto.randomBytes(16);
  const iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', await deriveKey(secret, pin, salt), iv);
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([salt, iv, c.getAuthTag(), ct]).toString('base64');
}

/** Opens a `seal()`ed blob; null when the PIN (or secret) is wrong — GCM authentication fails. */
export async function unseal(secret: string, pin: string, sealed: string): Promise<Buffer | null> {
  const b = Buffer.from(sealed, 'base64');
  if (b.length < 45) return null;
  const salt = b.subarray(0, 16);
  const iv = b.subarray(16, 28);
  const tag = b.subarray(28, 44);
  const key = await deriveKey(secret, pin, salt);
  try {
    const d = crypto.createDecipheriv('aes-256-gcm', key, iv);
    d.setAuthTag(tag);
    return Buffer.concat([d.update(b.subarray(44)), d.final()]);
  } catch {
    return null;
  }
}

/** What a sealed identity holds: the PKCS#12 and its own password. */
interface Envelope {
  p12: string;
  passphrase: string;
}

async function rsaKeyPair(): Promise<{ privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey }> {
  // Node's native generator, off the event loop: forge's pure-JS RSA generation takes seconds.
  const pem = await new Promise<string>((resolve, reject) =>
    crypto.generateKeyPair('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }, (err, _pub, priv) =>
      err ? reject(err) : resolve(priv),
    ),
  );
  const priv = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  return { privateKey: priv, publicKey: forge.pki.setRsaPublicKey(priv.n, priv.e) };
}

function serial(): string {
  // Positive, 16 bytes.
  const b = crypto.randomBytes(16);
  b[0] &= 0x7f;
  return b.toString('hex');
}

/** The demo CA, created on first use and kept (key sealed with the server secret) in the database. */
async function demoCa(keys: Keys): Promise<{ cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey }> {
  const { store, config } = keys;
  const [row] = await store.q.select().from(signingCa).where(eq(signingCa.id, 1)).limit(1);
  if (row) {
    const keyPem = await unseal(config.secret, 'demo-ca', row.sealedKey);
    if (!keyPem) throw new AppError('signing_unavailable', 'The demo certificate authority cannot be opened with this server secret', 500);
    return { cert: forge.pki.certificateFromPem(row.certPem), key: forge.pki.privateKeyFromPem(keyPem.toString()) as forge.pki.rsa.PrivateKey };
  }
  const { privateKey, publicKey } = await rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 86400_000);
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 86400_000);
  const name = [
    { shortName: 'C', value: 'VN' },
    { shortName: 'O', value: 'E-Cabinet Demo' },
    { shortName: 'CN', value: 'E-Cabinet Demo CA (not for production)' },
  ];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(nodeRsaKey(forge.pki.privateKeyToPem(privateKey)) as unknown as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  const sealedKey = await seal(config.secret, 'demo-ca', Buffer.from(forge.pki.privateKeyToPem(privateKey)));
  // Another request may have created it meanwhile; keep whichever landed first.
  await store.q.insert(signingCa).values({ id: 1, certPem, sealedKey }).onConflictDoNothing();
  return demoCa(keys);
}

/** PEM of the demo CA certificate (to import into a verifier's trust store). */
export async function demoCaPem(keys: Keys): Promise<string> {
  return forge.pki.certificateToPem((await demoCa(keys)).cert);
}

/**
 * Issues a demo certificate for `userId` from the demo CA and stores it sealed with `pin`.
 * Refused in production: there, each person installs the PKCS#12 issued to them.
 */
export async function issueDemoIdentity(keys: Keys, userId: number, pin = DEMO_SIGNING_PIN, actorId: number | null = null): Promise<void> {
  if (keys.config.env === 'production') throw new AppError('no_certificate', 'No signing certificate is installed for this user', 409);
  const [user] = await keys.store.q.select().from(users).where(eq(users.id, userId)).limit(1);
  if (!user) throw notFound('User');
  const ca = await demoCa(keys);
  const { privateKey, publicKey } = await rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 86400_000);
  cert.validity.notAfter = new Date(Date.now() + 2 * 365 * 86400_000);
  cert.setSubject([
    { shortName: 'C', value: 'VN' },
    { shortName: 'O', value: user.unit ?? 'E-Cabinet Demo', valueTagClass: forge.asn1.Type.UTF8 } as unknown as forge.pki.CertificateField,
    { shortName: 'CN', value: user.fullName, valueTagClass: forge.asn1.Type.UTF8 } as unknown as forge.pki.CertificateField,
  ]);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, nonRepudiation: true, critical: true },
    { name: 'extKeyUsage', emailProtection: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(nodeRsaKey(forge.pki.privateKeyToPem(ca.key)) as unknown as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  const passphrase = crypto.randomBytes(18).toString('base64url');
  const p12Asn1 = forge.pkcs12.toPkcs12Asn1(privateKey, [cert, ca.cert], passphrase, { algorithm: 'aes256', friendlyName: user.fullName });
  const p12 = Buffer.from(forge.asn1.toDer(p12Asn1).getBytes(), 'binary');
  await storeIdentity(keys, userId, 'demo', p12, passphrase, pin, actorId);
}

async function storeIdentity(keys: Keys, userId: number, source: 'demo' | 'installed', p12: Buffer, passphrase: string, pin: string, actorId: number | null): Promise<void> {
  const info = inspectPkcs12(p12, passphrase);
  const envelope: Envelope = { p12: p12.toString('base64'), passphrase };
  const sealed = await seal(keys.config.secret, pin, Buffer.from(JSON.stringify(envelope)));
  const values = { source, certPem: info.certPem, subject: info.subject, issuer: info.issuer, serial: info.serial, notAfter: info.notAfter, sealed, failedAttempts: 0, lockedUntil: null };
  await keys.store.tx(async (q) => {
    await q
      .insert(signingIdentities)
      .values({ userId, ...values })
      .onConflictDoUpdate({ target: signingIdentities.userId, set: values });
    await audit(q, { actorId, action: source === 'demo' ? 'signing.demo_issued' : 'signing.installed', targetType: 'user', targetId: userId, details: { subject: info.subject, serial: info.serial, fingerprint: certificateFingerprint(info.certPem) } });
  });
}

/** SHA-256 fingerprint (lowercase hex) of a certificate's DER encoding: what the audit log records per signature. */
export function certificateFingerprint(certPem: string): string {
  return new crypto.X509Certificate(certPem).fingerprint256.replace(/:/g, '').toLowerCase();
}

/** Names compared the way people write them: NFC, spaces collapsed, case-insensitive. */
const sameName = (a: string, b: string) => {
  const norm = (x: string) => x.normalize('NFC').trim().replace(/\s+/g, ' ').toLocaleLowerCase('vi');
  return norm(a) === norm(b);
};

/**
 * A signing identity belongs to the person it names, and only that person puts it in place: the
 * signed-in user installs a PKCS#12 issued to them (subject CN = their full name) under a PIN of
 * their own. No route lets anyone install or generate an identity for someone else (an administrator
 * may only remove one, `removeIdentity`). Replacing an existing identity needs its current PIN, so
 * someone who took over the account (e.g. after an administrator's password reset) cannot swap in a
 * certificate of their own choosing either.
 * @throws AppError invalid_certificate (file or password), certificate_mismatch (not their name),
 *   invalid_payload (oldPin missing), wrong_pin / pin_locked (oldPin wrong)
 */
export async function installOwnIdentity(keys: Keys, userId: number, p12: Buffer, passphrase: string, pin: string, oldPin?: string): Promise<CertificateInfo> {
  const [user] = await keys.store.q.select().from(users).where(eq(users.id, userId)).limit(1);
  if (!user) throw notFound('User');
  let info;
  try {
    info = inspectPkcs12(p12, passphrase);
  } catch (e) {
    if (e instanceof Pkcs12Error) throw new AppError('invalid_certificate', e.message, 400);
    throw e;
  }
  if (!sameName(info.commonName, user.fullName)) {
    throw new AppError('certificate_mismatch', 'The certificate does not name you: its subject must be your full name', 422);
  }
  await requireCurrentPin(keys, userId, oldPin);
  await storeIdentity(keys, userId, 'installed', p12, passphrase, pin, userId);
  return (await certificateInfo(keys.store, userId))!;
}

/**
 * Non-production: the signed-in user generates their own demo certificate (demo CA) under their own
 * PIN; replacing an existing identity needs its current PIN.
 * @throws AppError no_certificate (production), invalid_payload / wrong_pin / pin_locked
 */
export async function issueOwnDemoIdentity(keys: Keys, userId: number, pin: string, oldPin?: string): Promise<CertificateInfo> {
  if (keys.config.env === 'production') throw new AppError('no_certificate', 'Demo certificates do not exist in production: install the certificate issued to you', 409);
  await requireCurrentPin(keys, userId, oldPin);
  await issueDemoIdentity(keys, userId, pin, userId);
  return (await certificateInfo(keys.store, userId))!;
}

async function requireCurrentPin(keys: Keys, userId: number, oldPin: string | undefined): Promise<void> {
  const [has] = await keys.store.q.select({ u: signingIdentities.userId }).from(signingIdentities).where(eq(signingIdentities.userId, userId)).limit(1);
  if (!has) return;
  if (oldPin === undefined) throw new AppError('invalid_payload', 'Replacing your certificate needs its current PIN (oldPin)', 400);
  await unlockSigner(keys, userId, oldPin);
}

/**
 * Admin: removes a user's signing identity (lost token, forgotten PIN, person left). It cannot be
 * replaced by the administrator: the person installs their own again.
 */
export async function removeIdentity(keys: Pick<Keys, 'store'>, actorId: number, userId: number): Promise<void> {
  await keys.store.tx(async (q) => {
    const [r] = await q.select().from(signingIdentities).where(eq(signingIdentities.userId, userId)).limit(1);
    if (!r) throw notFound('Signing certificate');
    await q.delete(signingIdentities).where(eq(signingIdentities.userId, userId));
    await audit(q, { actorId, action: 'signing.removed', targetType: 'user', targetId: userId, details: { serial: r.serial, fingerprint: certificateFingerprint(r.certPem) } });
  });
}

export interface CertificateInfo {
  source: 'demo' | 'installed';
  subject: string;
  /** SHA-256 of the certificate (DER), lowercase hex. */
  fingerprint: string;
  issuer: string;
  serial: string;
  notAfter: string;
  locked: boolean;
  attemptsLeft: number;
}

/** Public facts about a user's signing identity (never the key), or null. */
export async function certificateInfo(store: Store, userId: number, now = new Date()): Promise<CertificateInfo | null> {
  const [r] = await store.q.select().from(signingIdentities).where(eq(signingIdentities.userId, userId)).limit(1);
  if (!r) return null;
  const locked = !!r.lockedUntil && Date.parse(r.lockedUntil) > now.getTime();
  return { source: r.source, subject: r.subject, fingerprint: certificateFingerprint(r.certPem), issuer: r.issuer, serial: r.serial, notAfter: r.notAfter, locked, attemptsLeft: locked ? 0 : MAX_PIN_ATTEMPTS - r.failedAttempts };
}

/**
 * Opens a user's signer with their PIN. A wrong PIN counts; after MAX_PIN_ATTEMPTS wrong PINs in a
 * row the identity is locked for PIN_LOCK_MINUTES (even the right PIN is refused meanwhile).
 * In non-production, a user without an identity gets a demo certificate on first use.
 * @throws AppError wrong_pin (403, details.attemptsLeft), pin_locked (423), no_certificate (409)
 */
export async function unlockSigner(keys: Keys, userId: number, pin: string, now = new Date()): Promise<Signer> {
  const { store, config } = keys;
  const identity = () => store.q.select().from(signingIdentities).where(eq(signingIdentities.userId, userId)).limit(1);
  let [r] = await identity();
  if (!r) {
    await issueDemoIdentity(keys, userId);
    [r] = await identity();
  }
  // Count the attempt BEFORE the PIN is evaluated, in one statement that also checks the lock and the
  // limit: parallel guesses each take one of the MAX_PIN_ATTEMPTS slots or are refused unevaluated, so
  // 30 concurrent wrong PINs evaluate at most MAX_PIN_ATTEMPTS. A right PIN gives its slot back (reset).
  const reserved = await reservePinAttempt(store, userId, now);
  if (reserved === null) {
    const [current] = await store.q.select({ lockedUntil: signingIdentities.lockedUntil }).from(signingIdentities).where(eq(signingIdentities.userId, userId)).limit(1);
    const until = current?.lockedUntil && Date.parse(current.lockedUntil) > now.getTime() ? current.lockedUntil : null;
    throw new AppError('pin_locked', until ? `Too many wrong PINs; signing is locked until ${until}` : 'Too many PIN attempts at once; try again', 423, { lockedUntil: until });
  }
  const opened = await unseal(config.secret, pin, r.sealed);
  if (!opened) {
    const left = Math.max(0, MAX_PIN_ATTEMPTS - reserved);
    if (left === 0) {
      const lockedUntil = new Date(now.getTime() + PIN_LOCK_MINUTES * 60_000).toISOString();
      await store.tx(async (q) => {
        await q.update(signingIdentities).set({ lockedUntil, failedAttempts: 0 }).where(eq(signingIdentities.userId, userId));
        await audit(q, { actorId: userId, action: 'signing.pin_locked', targetType: 'user', targetId: userId, details: { lockedUntil } });
      });
      throw new AppError('pin_locked', `Too many wrong PINs; signing is locked until ${lockedUntil}`, 423, { lockedUntil });
    }
    throw new AppError('wrong_pin', 'Wrong signing PIN', 403, { attemptsLeft: left });
  }
  await store.q.update(signingIdentities).set({ failedAttempts: 0, lockedUntil: null }).where(eq(signingIdentities.userId, userId));
  const env = JSON.parse(opened.toString()) as Envelope;
  return new Pkcs12Signer(Buffer.from(env.p12, 'base64'), env.passphrase);
}

/**
 * Takes one of the MAX_PIN_ATTEMPTS slots of a user's identity before a PIN is evaluated: one UPDATE
 * that checks the lock and the limit and counts the attempt (atomic on both dialects, also across
 * server nodes on PostgreSQL). Returns the attempts counted so far, or null when the identity is locked
 * or its slots are taken (then the PIN must not be evaluated).
 */
export async function reservePinAttempt(store: Store, userId: number, now: Date): Promise<number | null> {
  const [row] = await store.q
    .update(signingIdentities)
    .set({ failedAttempts: sql`${signingIdentities.failedAttempts} + 1` })
    .where(
      and(
        eq(signingIdentities.userId, userId),
        or(isNull(signingIdentities.lockedUntil), lte(signingIdentities.lockedUntil, now.toISOString())),
        lt(signingIdentities.failedAttempts, MAX_PIN_ATTEMPTS),
      ),
    )
    .returning({ failedAttempts: signingIdentities.failedAttempts });
  return row ? row.failedAttempts : null;
}

/**
 * Changes a user's signing PIN (the old one must be right; wrong ones count towards the lock).
 * @throws AppError wrong_pin / pin_locked / no_certificate
 */
export async function changePin(keys: Keys, userId: number, oldPin: string, newPin: string): Promise<void> {
  const { store, config } = keys;
  await unlockSigner(keys, userId, oldPin);
  const [r] = await store.q.select().from(signingIdentities).where(eq(signingIdentities.userId, userId)).limit(1);
  const opened = (await unseal(config.secret, oldPin, r!.sealed))!;
  const sealed = await seal(config.secret, newPin, opened);
  await store.tx(async (q) => {
    await q.update(signingIdentities).set({ sealed }).where(eq(signingIdentities.userId, userId));
    await audit(q, { actorId: userId, action: 'signing.pin_changed', targetType: 'user', targetId: userId });
  });
}

export { describeCertificate };
