import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt } from './common.js';
import { users } from './auth.js';

/**
 * One signing identity per user: a PKCS#12 (certificate + private key) sealed with AES-256-GCM under
 * a key derived from the server secret and the user's signing PIN. The plaintext key never leaves
 * server/signing/ and is never logged or sent to a client.
 */
export const signingIdentities = sqliteTable('signing_identities', {
  userId: integer()
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  /** `demo`: issued by the built-in demo CA; `installed`: a PKCS#12 installed by an administrator. */
  source: text({ enum: ['demo', 'installed'] }).notNull(),
  certPem: text().notNull(),
  subject: text().notNull(),
  issuer: text().notNull(),
  serial: text().notNull(),
  notAfter: text().notNull(),
  /** base64 of salt(16) | iv(12) | tag(16) | ciphertext. */
  sealed: text().notNull(),
  failedAttempts: integer().notNull().default(0),
  lockedUntil: text(),
  createdAt: createdAt(),
});

/** The demo certificate authority (non-production only); its key is sealed with the server secret. */
export const signingCa = sqliteTable('signing_ca', {
  id: integer().primaryKey(),
  certPem: text().notNull(),
  sealedKey: text().notNull(),
  createdAt: createdAt(),
});
