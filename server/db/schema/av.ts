import { integer, sqliteTable } from 'drizzle-orm/sqlite-core';
import { users } from './auth.js';
import { rooms } from './committees.js';
import { createdAt } from './common.js';

/**
 * Room stations: accounts of a smart meeting room's PC, whose conference camera and microphones
 * are the room's. In a meeting held in that room the station joins A/V as the room itself: its
 * microphones are open unless the chair mutes them (people in the room speak through them).
 */
export const roomStations = sqliteTable('room_stations', {
  userId: integer()
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  roomId: integer()
    .notNull()
    .references(() => rooms.id, { onDelete: 'cascade' }),
  createdAt: createdAt(),
});
