import type { Statement } from 'better-sqlite3';
import { and, eq, lt } from 'drizzle-orm';
import type { Store } from '../db/store.js';
import { realtimeCommands } from '../db/tables.js';

/** How long an acknowledged command id is remembered. */
const KEEP_MS = 24 * 3600_000;

interface Statements {
  find: Statement<[number, string], { ack: string }>;
  save: Statement<[number, string, string, string]>;
}

// Every authoritative command (each ballot) passes here twice. On SQLite: prepared statements, not the
// query builder (measured ~2.6× cheaper per command on the votes bench path); on PostgreSQL the builder.
const prepared = new WeakMap<object, Statements>();
function statements(db: import('better-sqlite3').Database): Statements {
  let s = prepared.get(db);
  if (!s) {
    s = {
      find: db.prepare('select ack from realtime_commands where user_id = ? and command_id = ?'),
      save: db.prepare('insert into realtime_commands (user_id, command_id, event, ack) values (?, ?, ?, ?) on conflict do nothing'),
    };
    prepared.set(db, s);
  }
  return s;
}

/** The stored acknowledgement of an authoritative command, or undefined. */
export async function findCommandAck(store: Store, userId: number, commandId: string): Promise<unknown> {
  if (store.dialect === 'sqlite') {
    const row = await store.sqlite((db) => statements(db).find.get(userId, commandId));
    return row ? JSON.parse(row.ack) : undefined;
  }
  const [row] = await store.q
    .select({ ack: realtimeCommands.ack })
    .from(realtimeCommands)
    .where(and(eq(realtimeCommands.userId, userId), eq(realtimeCommands.commandId, commandId)));
  return row?.ack;
}

/** Records a command's acknowledgement; call inside the command's transaction. */
export async function saveCommandAck(store: Store, userId: number, commandId: string, event: string, ack: unknown): Promise<void> {
  if (store.dialect === 'sqlite') {
    await store.sqlite((db) => statements(db).save.run(userId, commandId, event, JSON.stringify(ack)));
    return;
  }
  await store.q.insert(realtimeCommands).values({ userId, commandId, event, ack }).onConflictDoNothing();
}

/** Forgets command ids older than a day (a tablet does not retry after that). */
export async function purgeOldCommands(store: Store): Promise<void> {
  await store.q.delete(realtimeCommands).where(lt(realtimeCommands.createdAt, new Date(Date.now() - KEEP_MS).toISOString()));
}
