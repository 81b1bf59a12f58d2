import crypto from 'node:crypto';
import { generate, generateSecret, generateURI } from 'otplib';
import { deriveKey } from '../crypto/keys.js';

/** RFC 6238 defaults every authenticator app understands: SHA-1, 6 digits, 30 s steps. */
const PERIOD = 30;
/** Steps either side of now that are still accepted (clock drift of a tablet): ±30 s. */
const DRIFT_STEPS = 1;

/** A new random TOTP secret (Base32, 160 bits). */
export const newTotpSecret = (): string => generateSecret();

/** The `otpauth://` URI an authenticator app imports (shown as text and as a link; no QR library needed). */
export const totpUri = (username: string, secret: string): string => generateURI({ issuer: 'E-Cabinet', label: username, secret });

/** The code of a secret at a time (tests and the enrolment check). */
export const totpCode = (secret: string, at = Date.now()): Promise<string> => generate({ secret, epoch: Math.floor(at / 1000) });

/**
 * Checks a 6-digit code against the secret within ±1 step and refuses a step at or before
 * `lastStep` (a code is accepted once: no replay within its window). Returns the matched step, or null.
 */
export async function verifyTotp(secret: string, code: string, lastStep: number | null, now = Date.now()): Promise<number | null> {
  if (!/^\d{6}$/.test(code)) return null;
  const step = Math.floor(now / 1000 / PERIOD);
  let matched: number | null = null;
  for (let s = step - DRIFT_STEPS; s <= step + DRIFT_STEPS; s++) {
    const expected = await generate({ secret, epoch: s * PERIOD });
    // Compare every candidate in constant time, whatever matched before.
    if (crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(code)) && matched === null) matched = s;
  }
  if (matched === null || (lastStep !== null && matched <= lastStep)) return null;
  return matched;
}

/** Prefix of a sealed TOTP secret as stored in `users.totp_secret` (after `pending:` while enrolling). */
export const SEALED = 'v1.';
export const PENDING = 'pending:';
const keys = new Map<string, Buffer>();
const keyOf = (serverSecret: string) => {
  let k = keys.get(serverSecret);
  if (!k) keys.set(serverSecret, (k = deriveKey(serverSecret, 'e-cabinet totp secret v1', 'users.totp_secret')));
  return k;
};
const aadOf = (userId: number) => Buffer.from(`totp user ${userId}`);

/**
 * Seals a TOTP secret for storage: AES-256-GCM under a key derived from the server secret
 * (`deriveKey`), bound to the user (AAD), so the database — its file, WAL, backups — never holds a
 * secret that generates codes, and a sealed value copied onto another user's row does not open.
 * `pending` marks an enrolment not confirmed yet (`pending:` + sealed).
 */
export function sealTotpSecret(serverSecret: string, userId: number, base32: string, pending = false): string {
  const iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', keyOf(serverSecret), iv);
  c.setAAD(aadOf(userId));
  const sealed = Buffer.concat([iv, c.update(base32, 'utf8'), c.final(), c.getAuthTag()]);
  return `${pending ? PENDING : ''}${SEALED}${sealed.toString('base64url')}`;
}

/**
 * Opens a stored TOTP secret: `{ secret, pending }`, or null when there is none or it does not open
 * (another server secret, another user's row, tampered) — then no code is accepted.
 */
export function openTotpSecret(serverSecret: string, userId: number, stored: string | null): { secret: string; pending: boolean } | null {
  if (!stored) return null;
  const pending = stored.startsWith(PENDING);
  const body = pending ? stored.slice(PENDING.length) : stored;
  if (!body.startsWith(SEALED)) return null;
  const raw = Buffer.from(body.slice(SEALED.length), 'base64url');
  if (raw.length < 12 + 16 + 1) return null;
  try {
    const d = crypto.createDecipheriv('aes-256-gcm', keyOf(serverSecret), raw.subarray(0, 12));
    d.setAAD(aadOf(userId));
    d.setAuthTag(raw.subarray(raw.length - 16));
    return { secret: Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString('utf8'), pending };
  } catch {
    return null;
  }
}
