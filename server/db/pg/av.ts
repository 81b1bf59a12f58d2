import { integer, pgTable } from 'drizzle-orm/pg-core';
import { users } from './auth.js';
import { rooms } from './committees.js';
import { createdAt } from './common.js';

/** PostgreSQL twin of ../schema/av.ts. */
export const roomStations = pgTable('room_stations', {
  userId: integer()
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  roomId: integer()
    .notNull()
    .references(() => rooms.id, { onDelete: 'cascade' }),
  createdAt: createdAt(),
});
