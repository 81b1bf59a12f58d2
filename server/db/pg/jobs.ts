import { index, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, id, isoTimestamp } from './common.js';

/**
 * PostgreSQL twin of ../schema/jobs.ts. On PostgreSQL a worker claims due jobs with
 * `SELECT … FOR UPDATE SKIP LOCKED` (several server nodes; issue #17), which `jobs_due_idx` serves.
 */
export const jobs = pgTable(
  'jobs',
  {
    id: id(),
    kind: text().notNull(),
    key: text().notNull().unique(),
    payload: jsonb().$type<Record<string, unknown>>().notNull(),
    runAt: isoTimestamp().notNull(),
    status: text({ enum: ['pending', 'claimed', 'done', 'failed', 'cancelled'] }).notNull().default('pending'),
    attempts: integer().notNull().default(0),
    claimedBy: text(),
    claimedAt: isoTimestamp(),
    doneAt: isoTimestamp(),
    lastError: text(),
    createdAt: createdAt(),
  },
  (t) => [index('jobs_due_idx').on(t.status, t.runAt)],
);
