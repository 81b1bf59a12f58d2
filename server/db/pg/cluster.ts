import { integer, pgTable, text } from 'drizzle-orm/pg-core';
import { isoTimestamp } from './common.js';
import { meetings } from './meetings.js';

/** PostgreSQL twin of ../schema/cluster.ts. */
export const meetingOwners = pgTable('meeting_owners', {
  meetingId: integer()
    .primaryKey()
    .references(() => meetings.id, { onDelete: 'cascade' }),
  nodeId: text().notNull(),
  epoch: integer().notNull(),
  expiresAt: isoTimestamp().notNull(),
});
