import { integer, pgTable, text } from 'drizzle-orm/pg-core';
import { users } from './auth.js';
import { createdAt, isoTimestamp } from './common.js';

/** PostgreSQL twin of ../schema/signing.ts. */
export const signingIdentities = pgTable('signing_identities', {
  userId: integer()
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  source: text({ enum: ['demo', 'installed'] }).notNull(),
  certPem: text().notNull(),
  subject: text().notNull(),
  issuer: text().notNull(),
  serial: text().notNull(),
  notAfter: isoTimestamp().notNull(),
  sealed: text().notNull(),
  failedAttempts: integer().notNull().default(0),
  lockedUntil: isoTimestamp(),
  createdAt: createdAt(),
});

/** One row, id 1 (written with its id: no identity). */
export const signingCa = pgTable('signing_ca', {
  id: integer().primaryKey(),
  certPem: text().notNull(),
  sealedKey: text().notNull(),
  createdAt: createdAt(),
});
