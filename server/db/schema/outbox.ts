import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt } from './common.js';

/**
 * Domain events other server nodes must hear (issue #18, server/cluster/outbox.ts): written in the transaction of
 * the change that made them, read by every node after the commit. Used only in cluster mode (PostgreSQL); the table
 * exists on SQLite so that both schemas stay twins. `nodeId`: the node that wrote it (it delivered the event in
 * process already). Rows are pruned once every node had time to read them.
 */
export const eventOutbox = sqliteTable(
  'event_outbox',
  {
    id: integer().primaryKey({ autoIncrement: true }),
    nodeId: text().notNull(),
    topic: text().notNull(),
    payload: text({ mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('event_outbox_created_idx').on(t.createdAt)],
);
