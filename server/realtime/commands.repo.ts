import { lt } from 'drizzle-orm';
import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { realtimeCommands } from '../db/schema/index.js';

/** How long an acknowledged command id is remembered in SQLite. */
const KEEP_MS = 24 * 3600_000;

/** The stored acknowledgement of an authoritative command, or undefined. */
export function findCommandAck(db: Db, userId: number, commandId: string): unknown {
  return db
    .select({ ack: realtimeCommands.ack })
    .from(realtimeCommands)
    .where(and(eq(realtimeCommands.userId, userId), eq(realtimeCommands.commandId, commandId)))
    .get()?.ack;
}

/** Records a command's acknowledgement; call inside the command's transaction. */
export function saveCommandAck(db: Db, userId: number, commandId: string, event: string, ack: unknown): void {
  db.insert(realtimeCommands).values({ userId, commandId, event, ack }).onConflictDoNothing().run();
}

/** Forgets command ids older than a day (a tablet does not retry after that). */
export function purgeOldCommands(db: Db): void {
  db.delete(realtimeCommands)
    .where(lt(realtimeCommands.createdAt, new Date(Date.now() - KEEP_MS).toISOString()))
    .run();
}
