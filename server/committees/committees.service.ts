import type { Db } from '../db/client.js';
import { committeeMembers, committees, roomStations, rooms } from '../db/schema/index.js';

/*
 * Writes of committees, their members, rooms and room stations: this domain's tables
 * (server/db/owners.ts), for its routes and for other domains (the demo seed). Each takes the `Db` of
 * the caller's transaction.
 */

/** Inserts a committee; returns the row. */
export function insertCommittee(db: Db, values: typeof committees.$inferInsert): typeof committees.$inferSelect {
  return db.insert(committees).values(values).returning().get();
}

/** Adds member rows to a committee. */
export function addMembers(db: Db, committeeId: number, members: Omit<typeof committeeMembers.$inferInsert, 'committeeId'>[]): void {
  db.insert(committeeMembers)
    .values(members.map((m) => ({ committeeId, ...m })))
    .run();
}

/** Inserts a meeting room; returns the row. */
export function insertRoom(db: Db, values: typeof rooms.$inferInsert): typeof rooms.$inferSelect {
  return db.insert(rooms).values(values).returning().get();
}

/** Records `userId` as the station PC of a room (its camera and microphones join A/V as the room). */
export function addRoomStation(db: Db, userId: number, roomId: number): void {
  db.insert(roomStations).values({ userId, roomId }).run();
}
