import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { meetings } from './meetings.js';

/**
 * Who owns a meeting in a cluster (issue #18, server/cluster): one row per meeting that a node has run,
 * its lease by the database's clock. `epoch` grows by one at every change of owner, and every write of the
 * meeting's authoritative state checks (node, epoch, unexpired) in its own transaction, so a former owner
 * cannot write once another took over. Written only in cluster mode, which runs on PostgreSQL: on SQLite
 * the table exists (one schema for both dialects) and stays empty.
 */
export const meetingOwners = sqliteTable('meeting_owners', {
  meetingId: integer()
    .primaryKey()
    .references(() => meetings.id, { onDelete: 'cascade' }),
  nodeId: text().notNull(),
  epoch: integer().notNull(),
  expiresAt: text().notNull(),
});
