import type { Q } from '../db/store.js';
import { committeeMembers, committees, roomStations, rooms } from '../db/tables.js';

/*
 * Writes of committees, their members, rooms and room stations: this domain's tables
 * (server/db/owners.ts), for its routes and for other domains (the demo seed). Each takes the query
 * builder of the caller's transaction (`store.q` or the `q` of `store.tx`).
 */

/** Inserts a committee; returns the row. */
export async function insertCommittee(q: Q, values: typeof committees.$inferInsert): Promise<typeof committees.$inferSelect> {
  const [row] = await q.insert(committees).values(values).returning();
  return row;
}

/** Adds member rows to a committee. */
export async function addMembers(q: Q, committeeId: number, members: Omit<typeof committeeMembers.$inferInsert, 'committeeId'>[]): Promise<void> {
  await q.insert(committeeMembers).values(members.map((m) => ({ committeeId, ...m })));
}

/** Inserts a meeting room; returns the row. */
export async function insertRoom(q: Q, values: typeof rooms.$inferInsert): Promise<typeof rooms.$inferSelect> {
  const [row] = await q.insert(rooms).values(values).returning();
  return row;
}

/** Records `userId` as the station PC of a room (its camera and microphones join A/V as the room). */
export async function addRoomStation(q: Q, userId: number, roomId: number): Promise<void> {
  await q.insert(roomStations).values({ userId, roomId });
}
