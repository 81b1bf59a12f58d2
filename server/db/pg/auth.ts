import { sql } from 'drizzle-orm';
import { boolean, index, integer, json, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { createdAt, id, isoTimestamp } from './common.js';

/** PostgreSQL twin of ../schema/auth.ts (see the comments there for what each column means). */
export const users = pgTable(
  'users',
  {
    id: id(),
    username: text().notNull().unique(),
    passwordHash: text().notNull(),
    fullName: text().notNull(),
    title: text(),
    unit: text(),
    systemRole: text({ enum: ['admin', 'user'] }).notNull().default('user'),
    locale: text({ enum: ['vi', 'en'] }).notNull().default('vi'),
    active: boolean().notNull().default(true),
    email: text(),
    mustChangePassword: boolean().notNull().default(false),
    totpSecret: text(),
    /** A TOTP time step (unix time / 30): fits a 4-byte integer until the year 6053. */
    totpLastStep: integer(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('users_email_lower_idx').on(sql`lower(${t.email})`)],
);

export const sessions = pgTable(
  'sessions',
  {
    tokenHash: text().primaryKey(),
    userId: integer()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
    expiresAt: isoTimestamp().notNull(),
    stage: text({ enum: ['active', 'mfa'] }).notNull().default('active'),
    userAgent: text(),
    ip: text(),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
);

/**
 * `details` is `json`, not `jsonb`: the chain hash covers the stored text, which jsonb would reorder.
 * The SQLite trigger `audit_log_chain` (migration 0015, calling the app function ec_audit_hash) has no
 * PostgreSQL twin yet: on PostgreSQL it becomes a plpgsql trigger (sha256() is built in since 11) or the
 * hash is computed in the inserting transaction under a lock on the chain's tail — left for issue #17.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: id(),
    actorId: integer(),
    action: text().notNull(),
    targetType: text().notNull(),
    targetId: text(),
    details: json().$type<Record<string, unknown>>(),
    at: createdAt(),
    prevHash: text(),
    hash: text(),
  },
  (t) => [index('audit_target_idx').on(t.targetType, t.targetId)],
);
