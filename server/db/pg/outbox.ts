import { index, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, id } from './common.js';

/**
 * PostgreSQL twin of ../schema/outbox.ts. A statement trigger (migrations-pg) calls `pg_notify('ecabinet_events')`
 * on every insert, so the wake-up is sent by the commit of the transaction that wrote the rows, and never by one
 * that rolled back.
 */
export const eventOutbox = pgTable(
  'event_outbox',
  {
    id: id(),
    nodeId: text().notNull(),
    topic: text().notNull(),
    payload: jsonb().$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('event_outbox_created_idx').on(t.createdAt)],
);
