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
 * The chain is computed by the `audit_log_chain` trigger of migrations-pg/0001_audit_chain.sql (the twin
 * of SQLite's, same encoding as server/audit/audit.chain.ts), serialised by an advisory lock taken before
 * the rows get their ids; `bash scripts/pg-throwaway.sh check` verifies it under concurrent writers.
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
