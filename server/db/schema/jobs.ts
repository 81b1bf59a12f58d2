import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt } from './common.js';

/**
 * Durable scheduled work (reminders, e-mails). A job is claimed (lease), run, then marked done;
 * `key` is an idempotency key: enqueueing the same key twice keeps one job, and external side
 * effects carry it (e-mail Message-ID) so a retried send can be recognised. See server/jobs/.
 */
export const jobs = sqliteTable(
  'jobs',
  {
    id: integer().primaryKey({ autoIncrement: true }),
    kind: text().notNull(),
    key: text().notNull().unique(),
    payload: text({ mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    runAt: text().notNull(),
    status: text({ enum: ['pending', 'claimed', 'done', 'failed', 'cancelled'] }).notNull().default('pending'),
    attempts: integer().notNull().default(0),
    claimedBy: text(),
    claimedAt: text(),
    doneAt: text(),
    lastError: text(),
    createdAt: createdAt(),
  },
  (t) => [index('jobs_due_idx').on(t.status, t.runAt)],
);
