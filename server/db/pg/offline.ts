import { index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { users } from './auth.js';
import { createdAt, isoTimestamp } from './common.js';

/** PostgreSQL twin of ../schema/offline.ts. */
export const devices = pgTable(
  'devices',
  {
    tokenHash: text().notNull(),
    userId: integer()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    label: text().notNull(),
    createdAt: createdAt(),
    lastSeenAt: isoTimestamp().notNull(),
    revokedAt: isoTimestamp(),
    revokedBy: integer().references(() => users.id),
  },
  (t) => [primaryKey({ columns: [t.tokenHash, t.userId] }), index('devices_user_idx').on(t.userId)],
);
