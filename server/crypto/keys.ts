import crypto from 'node:crypto';

/**
 * Key material derived from the server secret (`ECABINET_SECRET`, never written to the database):
 * HKDF-SHA-256 with `purpose` as the salt (one per use: the secret ballot box, TOTP secrets, …) and
 * `context` as the info (e.g. `vote 12`), so every use and every object gets its own independent keys
 * from the one secret. Deterministic: the same inputs give the same key after a restart.
 * @param length bytes of key material (32 for one AES-256 key; 64 for a key and a MAC key)
 */
export function deriveKey(secret: string, purpose: string, context: string, length = 32): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', secret, purpose, context, length));
}
