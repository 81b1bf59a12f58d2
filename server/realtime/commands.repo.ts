import { AsyncLocalStorage } from 'node:async_hooks';
import type { Database, Statement } from 'better-sqlite3';
import { type SQL, and, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Q, Store } from '../db/store.js';
import { tickBatch } from '../db/tick-batch.js';
import { realtimeCommands } from '../db/tables.js';

/** How long an acknowledged command id is remembered. */
const KEEP_MS = 24 * 3600_000;

/** A command's acknowledgement as it is recorded (`ack` is what a retry of the same commandId is answered with). */
export interface CommandAckRecord {
  userId: number;
  commandId: string;
  event: string;
  ack: unknown;
}

interface Statements {
  find: Statement<[number, string], { ack: string }>;
  save: Statement<[number, string, string, string]>;
  complete: Statement<[string, number, string]>;
}

// Every authoritative command (each ballot) passes here twice. On SQLite: prepared statements, not the
// query builder (measured ~2.6× cheaper per command on the votes bench path); on PostgreSQL the builder.
const prepared = new WeakMap<object, Statements>();
function statements(db: Database): Statements {
  let s = prepared.get(db);
  if (!s) {
    s = {
      find: db.prepare('select ack from realtime_commands where user_id = ? and command_id = ?'),
      save: db.prepare('insert into realtime_commands (user_id, command_id, event, ack) values (?, ?, ?, ?) on conflict do nothing'),
      complete: db.prepare('update realtime_commands set ack = ? where user_id = ? and command_id = ?'),
    };
    prepared.set(db, s);
  }
  return s;
}

// PostgreSQL: the look-ups of one event-loop turn in one query (a miss, the usual answer, costs no more).
const lookups = new WeakMap<Store, (key: { userId: number; commandId: string }) => Promise<unknown>>();
function ackLookup(store: Store) {
  let find = lookups.get(store);
  if (!find) {
    find = tickBatch(async (keys: { userId: number; commandId: string }[]) => {
      const rows = await store.q
        .select({ userId: realtimeCommands.userId, commandId: realtimeCommands.commandId, ack: realtimeCommands.ack })
        .from(realtimeCommands)
        .where(and(inArray(realtimeCommands.userId, [...new Set(keys.map((k) => k.userId))]), inArray(realtimeCommands.commandId, [...new Set(keys.map((k) => k.commandId))])));
      const found = new Map(rows.map((r) => [`${r.userId}:${r.commandId}`, r.ack]));
      return keys.map((k) => found.get(`${k.userId}:${k.commandId}`));
    });
    lookups.set(store, find);
  }
  return find;
}

/** The stored acknowledgement of an authoritative command, or undefined. */
export async function findCommandAck(store: Store, userId: number, commandId: string): Promise<unknown> {
  if (store.dialect === 'sqlite') {
    const row = await store.sqlite((db) => statements(db).find.get(userId, commandId));
    return row ? JSON.parse(row.ack) : undefined;
  }
  return ackLookup(store)({ userId, commandId });
}

/**
 * The authoritative command a call chain is running: set by the hub's wrapper (server/realtime/hub.commands.ts)
 * around the handler of a command that carries a `commandId`, read by {@link commandTx}.
 * `state`: `open` until a transaction recorded it (`recorded`), the handler took the recording over
 * (`taken`, the ballot batch) or the handler finished (`done`: timers and batches that inherited this
 * async context later are not the command's).
 */
export interface CommandScope {
  userId: number;
  commandId: string;
  event: string;
  state: 'open' | 'recorded' | 'taken' | 'done';
}

/** The command scope of the current async call chain (see {@link CommandScope}). */
export const commandScope = new AsyncLocalStorage<CommandScope>();

/**
 * Thrown inside a command's transaction when the same `(user, commandId)` was already recorded by another
 * run (a retry, here or on another node sharing the database): the transaction rolls back and the hub
 * answers `ack`, the acknowledgement committed with the first run's effect.
 */
export class CommandReplayed extends Error {
  constructor(readonly ack: unknown) {
    super('command already applied');
  }
}

// Never committed: the claim's acknowledgement is replaced in the same transaction before its commit. A valid
// acknowledgement all the same, should a reader ever meet one.
const CLAIMED = JSON.stringify({ ok: false, error: { code: 'internal', message: 'The command is being applied' } });

/** Inserts the command's row; false when the key exists (committed by another run: PostgreSQL waits for a concurrent one to end). */
async function insertCommand(store: Store, s: CommandScope, ackJson: string): Promise<boolean> {
  if (store.dialect === 'sqlite') return (await store.sqlite((db) => statements(db).save.run(s.userId, s.commandId, s.event, ackJson))).changes === 1;
  const rows = await store.q
    .insert(realtimeCommands)
    .values({ userId: s.userId, commandId: s.commandId, event: s.event, ack: JSON.parse(ackJson) as unknown })
    .onConflictDoNothing()
    .returning({ userId: realtimeCommands.userId });
  return rows.length === 1;
}

/** The stored acknowledgement, read in the current transaction (committed rows included at once, unlike {@link findCommandAck}'s batch). */
async function storedAck(store: Store, s: CommandScope): Promise<unknown> {
  if (store.dialect === 'sqlite') {
    const row = await store.sqlite((db) => statements(db).find.get(s.userId, s.commandId));
    return row ? JSON.parse(row.ack) : undefined;
  }
  const [row] = await store.q
    .select({ ack: realtimeCommands.ack })
    .from(realtimeCommands)
    .where(and(eq(realtimeCommands.userId, s.userId), eq(realtimeCommands.commandId, s.commandId)))
    .limit(1);
  return row?.ack;
}

/**
 * `store.tx(fn)` that, inside an authoritative command with a `commandId` ({@link commandScope}) not yet
 * recorded, records the command in the same transaction as its effect: its row first — so a second run of the
 * same command, concurrent on another node, waits on that key and then finds it taken (PostgreSQL's unique
 * index; SQLite has one process) — then `fn`, then the acknowledgement `{ ok: true, data: ackData(result) }`
 * before the commit. A crash can therefore never leave the effect without its acknowledgement: a retry is
 * answered the original one. When the key is already recorded the transaction rolls back and
 * {@link CommandReplayed} carries the stored acknowledgement. Outside such a command (REST, timers) it is
 * `store.tx(fn)`; `ackData` is only called inside one.
 */
export async function commandTx<T>(store: Store, fn: (q: Q) => Promise<T>, ackData: (result: T) => unknown): Promise<T> {
  const scope = commandScope.getStore();
  if (!scope || scope.state !== 'open') return store.tx(fn);
  // Taken before the first await: another transaction of this command (or one it starts) is not its record.
  scope.state = 'recorded';
  try {
    return await store.tx(async (q) => {
      if (!(await insertCommand(store, scope, CLAIMED))) throw new CommandReplayed(await storedAck(store, scope));
      const result = await fn(q);
      const ack = JSON.stringify({ ok: true, data: (await ackData(result)) ?? null });
      if (store.dialect === 'sqlite') await store.sqlite((db) => statements(db).complete.run(ack, scope.userId, scope.commandId));
      else
        await q
          .update(realtimeCommands)
          .set({ ack: JSON.parse(ack) as unknown })
          .where(and(eq(realtimeCommands.userId, scope.userId), eq(realtimeCommands.commandId, scope.commandId)));
      return result;
    }, scope.event);
  } catch (err) {
    // Rolled back: nothing of the command was recorded.
    if (scope.state === 'recorded') scope.state = 'open';
    throw err;
  }
}

/**
 * Records the acknowledgement of a command that wrote nothing (no {@link commandTx} ran): one insert.
 * @returns the acknowledgement to send — `ack`, or the one another run recorded first under the same key
 */
export async function recordCommandAck(store: Store, scope: CommandScope, ack: unknown): Promise<unknown> {
  if (await insertCommand(store, scope, JSON.stringify(ack))) return ack;
  return (await storedAck(store, scope)) ?? ack;
}

/**
 * Records acknowledgements inside a transaction written by their handler (the ballot batch,
 * server/votes/votes.repo.ts), so each is committed with what it acknowledges. SQLite: on the
 * connection, inside its open transaction (synchronous).
 */
export function saveCommandAcksSqlite(db: Database, acks: CommandAckRecord[]): void {
  const s = statements(db).save;
  for (const a of acks) s.run(a.userId, a.commandId, a.event, JSON.stringify(a.ack));
}

/**
 * PostgreSQL: the acknowledgement recorded for a command, as a scalar subquery over two columns of the caller's
 * statement (a command that checks for its own retry in the statement that writes it: the ballot batch).
 */
export function storedAckPg(userId: SQL, commandId: SQL): SQL {
  return sql`(SELECT ack FROM realtime_commands WHERE user_id = ${userId} AND command_id = ${commandId})`;
}

/** SQLite, inside the caller's transaction: the acknowledgement recorded for the command (undefined: none). */
export function storedAckSqlite(db: Database, userId: number, commandId: string): unknown {
  const row = statements(db).find.get(userId, commandId);
  return row ? JSON.parse(row.ack) : undefined;
}

/**
 * PostgreSQL: as {@link saveCommandAcksSqlite}, the acknowledgements `select` yields (columns in order:
 * user_id, command_id, event, ack as jsonb) — one data-modifying part of the statement that writes what
 * they acknowledge (the ballot batch, server/votes/votes.repo.ts).
 */
export function saveCommandAcksPg(select: SQL): SQL {
  return sql`INSERT INTO realtime_commands (user_id, command_id, event, ack) ${select} ON CONFLICT DO NOTHING`;
}

/** Forgets command ids older than a day (a tablet does not retry after that). */
export async function purgeOldCommands(store: Store): Promise<void> {
  await store.q.delete(realtimeCommands).where(lt(realtimeCommands.createdAt, new Date(Date.now() - KEEP_MS).toISOString()));
}
