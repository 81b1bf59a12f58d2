import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { users } from './auth.js';
import { createdAt } from './common.js';

/**
 * A device (browser profile on a tablet or phone) a user has signed in from. The device keeps a random
 * token in its own storage and sends it with every request (`x-ec-device`); only its SHA-256 is stored.
 * An administrator revokes a device: at its next contact the server ends the session and answers
 * `device_revoked`, and the app wipes every offline copy on it (remote wipe).
 */
export const devices = sqliteTable(
  'devices',
  {
    tokenHash: text().notNull(),
    userId: integer()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** What the browser says it is (user agent, shortened), for the administrator's list. */
    label: text().notNull(),
    createdAt: createdAt(),
    lastSeenAt: text().notNull(),
    revokedAt: text(),
    revokedBy: integer().references(() => users.id),
  },
  (t) => [primaryKey({ columns: [t.tokenHash, t.userId] }), index('devices_user_idx').on(t.userId)],
);
