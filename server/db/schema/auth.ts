import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt } from './common.js';

export const users = sqliteTable(
  'users',
  {
    id: integer().primaryKey({ autoIncrement: true }),
    username: text().notNull().unique(),
    passwordHash: text().notNull(),
    fullName: text().notNull(),
    title: text(),
    unit: text(),
    systemRole: text({ enum: ['admin', 'user'] }).notNull().default('user'),
    locale: text({ enum: ['vi', 'en'] }).notNull().default('vi'),
    active: integer({ mode: 'boolean' }).notNull().default(true),
    /** Where reminders are e-mailed when SMTP is configured (server/mail); null = in-app only. Personal data: never log it. */
    email: text(),
    /** Set by an administrator's password reset: the next sign-in may only change the password. */
    mustChangePassword: integer({ mode: 'boolean' }).notNull().default(false),
    /** Base32 TOTP secret (RFC 6238) once the user enrolled a second factor; null = none. Never log or send it after enrolment. */
    totpSecret: text(),
    /** The last accepted TOTP time step: a code is accepted once (no replay within its window). */
    totpLastStep: integer(),
    createdAt: createdAt(),
  },
  // One account per address whatever its case (NULLs never collide).
  (t) => [uniqueIndex('users_email_lower_idx').on(sql`lower(${t.email})`)],
);

/** Server-side sessions; the cookie carries a random token, the table only its SHA-256. */
export const sessions = sqliteTable(
  'sessions',
  {
    tokenHash: text().primaryKey(),
    userId: integer()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
    expiresAt: text().notNull(),
    /**
     * `active`: a full session. `mfa`: the password was right, the TOTP code is still owed — only
     * the account routes accept it (never sockets, Yjs or any other route).
     */
    stage: text({ enum: ['active', 'mfa'] }).notNull().default('active'),
    /** Shown to the user in their list of sessions (never to anyone else). */
    userAgent: text(),
    ip: text(),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
);

/**
 * Append-only record of every change: who, what, on what, when. Tamper-evident: `hash` is the
 * SHA-256 of the previous entry's hash and this entry's canonical encoding (server/audit/audit.chain.ts),
 * filled by the `audit_log_chain` trigger inside the inserting transaction; `npm run audit:verify` checks it.
 */
export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer().primaryKey({ autoIncrement: true }),
    actorId: integer(),
    action: text().notNull(),
    targetType: text().notNull(),
    targetId: text(),
    details: text({ mode: 'json' }).$type<Record<string, unknown>>(),
    at: createdAt(),
    prevHash: text(),
    hash: text(),
  },
  (t) => [index('audit_target_idx').on(t.targetType, t.targetId)],
);
