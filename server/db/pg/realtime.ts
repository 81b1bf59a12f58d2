import { integer, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { users } from './auth.js';
import { createdAt } from './common.js';

/** PostgreSQL twin of ../schema/realtime.ts. */
export const realtimeCommands = pgTable(
  'realtime_commands',
  {
    userId: integer()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    commandId: text().notNull(),
    event: text().notNull(),
    ack: jsonb().$type<unknown>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.commandId] })],
);
