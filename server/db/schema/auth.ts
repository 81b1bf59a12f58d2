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
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
);

/** Append-only record of every change: who, what, on what, when. */
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
  },
  (t) => [index('audit_target_idx').on(t.targetType, t.targetId)],
);
