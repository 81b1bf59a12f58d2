import fs from 'node:fs';
import type Database from 'better-sqlite3';
import { sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { dbObserver } from './observe.js';
import { type Store, txScope } from './store.js';

/**
 * Group commit of a flush: at most `maxInFlight` flushes at a time; callers arriving while that many run share
 * the next one, so a burst of ballots costs a few flushes, not one each. `durable()` resolves once everything
 * committed before the call is on disk (a flush that started after the call returned), rejects if it failed.
 */
abstract class GroupFlush {
  private inFlight = 0;
  private closed = false;
  private waiting: { resolve: () => void; reject: (e: Error) => void }[] = [];

  constructor(private readonly maxInFlight = 1) {}

  /** One flush: resolves once every commit made before it started is on disk. */
  protected abstract flushOnce(): Promise<void>;
  /** After the last flush once closed (release a descriptor). */
  protected release(): void {}

  /** Resolves once everything committed before this call is on disk; rejects if the flush failed. */
  durable(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.kick();
    });
  }

  /** No flush after the one in flight (server shutdown). */
  close(): void {
    this.closed = true;
    if (this.inFlight === 0) this.release();
  }

  private kick(): void {
    if (this.inFlight >= this.maxInFlight || this.waiting.length === 0) return;
    const group = this.waiting;
    this.waiting = [];
    this.inFlight++;
    let flushed: Promise<void>;
    try {
      flushed = this.flushOnce();
    } catch (e) {
      flushed = Promise.reject(e);
    }
    flushed.then(
      () => this.settle(group, null),
      (e: unknown) => this.settle(group, e instanceof Error ? e : new Error(String(e))),
    );
  }

  private settle(group: { resolve: () => void; reject: (e: Error) => void }[], err: Error | null): void {
    this.inFlight--;
    for (const w of group) {
      if (err) w.reject(err);
      else w.resolve();
    }
    if (this.closed) {
      if (this.inFlight === 0) this.release();
    } else this.kick();
  }
}

/**
 * Power-loss durability without blocking the event loop. The database runs WAL with
 * `synchronous = NORMAL`: a commit writes its WAL frames to the OS (so it survives `kill -9`) but does
 * not fsync. `durable()` then `fdatasync`s the WAL file on libuv's thread pool and resolves when the
 * frames of every transaction committed before the call are on disk — what `synchronous = FULL` does
 * inside the commit, where the fsync (measured 0.2–12 ms on this machine's disk) would stall every socket
 * of the process. One sync is in flight at a time; callers arriving meanwhile share the next one.
 *
 * Why it is equivalent: SQLite appends each commit's frames to the `-wal` file and, under FULL, syncs that
 * file before returning; fsync is per file (inode), so syncing it from our own descriptor makes the same
 * frames durable. A checkpoint restarts the WAL in place (same inode) and, at NORMAL, syncs the database
 * file before it does; if the file is ever replaced (new inode), the descriptor is reopened.
 */
export class WalSync extends GroupFlush {
  private fd: number | null = null;
  private ino = -1;

  constructor(private readonly sqlite: Database.Database) {
    super();
  }

  override durable(): Promise<void> {
    if (this.sqlite.memory) return Promise.resolve();
    return super.durable();
  }

  protected flushOnce(): Promise<void> {
    const fd = this.walFd();
    const start = performance.now();
    return new Promise((resolve, reject) =>
      fs.fdatasync(fd, (err) => {
        if (err) return reject(err);
        dbObserver(this.sqlite)?.walSync?.((performance.now() - start) / 1000);
        resolve();
      }),
    );
  }

  private walFd(): number {
    const file = `${this.sqlite.name}-wal`;
    const ino = fs.statSync(file).ino;
    if (this.fd === null || ino !== this.ino) {
      this.release();
      this.fd = fs.openSync(file, 'r');
      this.ino = ino;
    }
    return this.fd;
  }

  protected override release(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/**
 * The same on PostgreSQL, for commits made with `synchronous_commit = off` (visible at once, in the server's
 * WAL buffers, flushed by the WAL writer within `wal_writer_delay`): `durable()` resolves once they are on disk,
 * so a caller may acknowledge them as a synchronous commit would — without holding its connection and this
 * node's transaction turn through the flush (the ballot batch, issue #17: the next batch is written while this
 * one's WAL flushes, and PostgreSQL flushes several commits with one fsync).
 *
 * How: a transaction that writes WAL and commits synchronously waits until the WAL up to its commit record is
 * flushed (and, with synchronous replication, confirmed as the server's `synchronous_commit` says), which
 * covers every commit before it. Its WAL is one transactional logical-decoding message (prefix
 * `ecabinet.durable`, empty; ignored by anything not decoding it); a transaction that wrote nothing would
 * commit without a flush. Run on the pool, outside any transaction of the caller's call chain and outside the
 * transaction turn. {@link pgWalFlushAvailable} says whether the database lets us (else: commit synchronously).
 */
export class PgWalFlush extends GroupFlush {
  constructor(private readonly store: Store) {
    // Several at once: each batch's flush starts as soon as it committed, without waiting for the one before to
    // end (PostgreSQL merges concurrent flushes: one fsync serves every commit written before it); a slow disk
    // or a synchronous standby then costs a batch one flush, not the rest of the previous one too. Bounded so
    // the flushes never take the whole pool.
    super(3);
  }

  protected flushOnce(): Promise<void> {
    return txScope.exit(async () => {
      const start = performance.now();
      await pg(this.store).execute(sql`SELECT pg_logical_emit_message(true, 'ecabinet.durable', '')`);
      // The same histogram as SQLite's fdatasync: what a ballot's acknowledgement waits for after its commit.
      dbObserver(this.store)?.walSync?.((performance.now() - start) / 1000);
    });
  }
}

/**
 * Whether this PostgreSQL role may run {@link PgWalFlush}'s statement (PostgreSQL ≥ 9.6; not revoked by a hardened
 * set-up). @throws when the database did not answer (a connection error is no answer: the caller asks again later).
 */
export async function pgWalFlushAvailable(store: Store): Promise<boolean> {
  try {
    const { rows } = await txScope.exit(() => pg(store).execute<{ ok: boolean }>(sql`SELECT has_function_privilege('pg_logical_emit_message(boolean,text,text)', 'EXECUTE') AS ok`));
    return rows[0]?.ok === true;
  } catch (err) {
    if ((err as { code?: string }).code === '42883') return false; // undefined_function: no such function here
    throw err;
  }
}

/** The store's builder as node-postgres' Drizzle database (PostgreSQL only): `execute` of raw SQL. */
const pg = (store: Store) => store.q as unknown as NodePgDatabase;
