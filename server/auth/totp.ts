import crypto from 'node:crypto';
import { generate, generateSecret, generateURI } from 'otplib';

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
