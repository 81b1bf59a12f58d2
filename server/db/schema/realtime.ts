import { integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt } from './common.js';
import { users } from './auth.js';

/**
 * Acknowledgements of authoritative socket commands, by caller and client-generated command id:
 * a command retried after a reconnect or a server restart is answered from here, not applied twice.
 * Rows older than a day are purged at start.
 */
export const realtimeCommands = sqliteTable(
  'realtime_commands',
  {
    userId: integer()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    commandId: text().notNull(),
    event: text().notNull(),
    /** The JSON acknowledgement sent the first time. */
    ack: text({ mode: 'json' }).$type<unknown>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.commandId] })],
);
