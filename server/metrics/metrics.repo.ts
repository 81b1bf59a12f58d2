import fs from 'node:fs';
import { and, count, eq, inArray, lte, sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { type DbObserver, observeDb } from '../db/observe.js';
import type { Store } from '../db/store.js';
import { jobs, votes } from '../db/tables.js';

/** Votes open now. */
export async function openVoteCount(store: Store): Promise<number> {
  const [r] = await store.q.select({ n: count() }).from(votes).where(eq(votes.state, 'open'));
  return r?.n ?? 0;
}

/** Durable jobs pending, claimed or failed, by status. */
export async function jobCounts(store: Store): Promise<Map<string, number>> {
  const rows = await store.q
    .select({ status: jobs.status, n: count() })
    .from(jobs)
    .where(inArray(jobs.status, ['pending', 'claimed', 'failed']))
    .groupBy(jobs.status);
  return new Map(rows.map((r) => [r.status, r.n]));
}

/** Durable jobs due by `now` and not yet claimed. */
export async function dueJobCount(store: Store, now: string): Promise<number> {
  const [r] = await store.q.select({ n: count() }).from(jobs).where(and(eq(jobs.status, 'pending'), lte(jobs.runAt, now)));
  return r?.n ?? 0;
}

/**
 * The database's files, for the size gauge and the readiness check: SQLite's file (its WAL beside it);
 * none on PostgreSQL (the database server keeps its own: `databaseSizes`).
 */
export async function databaseFile(store: Store): Promise<string | null> {
  if (store.dialect !== 'sqlite') return null;
  return store.sqlite((c) => (c.name && c.name !== ':memory:' ? c.name : null));
}

/**
 * Readiness' database probe; throws when the database cannot take a write now. On SQLite: the file and
 * its WAL are writable and the write lock is taken and released (BEGIN IMMEDIATE/ROLLBACK), in this call
 * chain's turn, so never inside another chain's open transaction. On PostgreSQL: one statement on the pool,
 * outside this node's transaction turn — the server answers, a connection is free, and it is a primary that
 * takes writes (not a standby in recovery). Not behind this node's own writers: a busy node's queue is not a
 * database fault, and HAProxy's check, queued behind it under load, took live nodes out and cut their meetings.
 */
export async function probeDatabase(store: Store): Promise<void> {
  if (store.dialect === 'sqlite') {
    await store.sqlite((c) => {
      if (c.name && c.name !== ':memory:') {
        fs.accessSync(c.name, fs.constants.W_OK);
        if (fs.existsSync(`${c.name}-wal`)) fs.accessSync(`${c.name}-wal`, fs.constants.W_OK);
      }
      c.prepare('BEGIN IMMEDIATE').run();
      c.prepare('ROLLBACK').run();
    });
    return;
  }
  const { rows } = await (store.q as unknown as NodePgDatabase).execute<{ standby: boolean }>(sql`SELECT pg_is_in_recovery() AS standby`);
  if (rows[0]?.standby !== false) throw Object.assign(new Error('the database is a standby in recovery'), { code: 'read_only' });
}

/**
 * Reports the database's transaction timings to `o`, and on SQLite its WAL fsyncs (PostgreSQL's WAL is the
 * database server's own).
 */
export async function observeDatabase(store: Store, o: DbObserver): Promise<void> {
  if (store.dialect === 'sqlite') await store.sqlite((c) => observeDb(c, o));
  else observeDb(store, o);
}

/**
 * The database's size in bytes by part: on SQLite its file (`db`, `dbFile` from {@link databaseFile}) and its WAL
 * (`wal`); on PostgreSQL this app's database on the server's disk (`db`: tables, indexes, TOAST).
 */
export async function databaseSizes(store: Store, dbFile: string | null): Promise<{ file: 'db' | 'wal'; bytes: number }[]> {
  if (store.dialect === 'postgres') {
    const { rows } = await (store.q as unknown as NodePgDatabase).execute<{ bytes: string }>(sql`select pg_database_size(current_database())::text as bytes`);
    return [{ file: 'db', bytes: Number(rows[0].bytes) }];
  }
  if (!dbFile) return [];
  const size = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
  return [
    { file: 'db', bytes: size(dbFile) },
    { file: 'wal', bytes: size(`${dbFile}-wal`) },
  ];
}
