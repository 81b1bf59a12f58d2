import type Database from 'better-sqlite3';

/**
 * Timings of one database connection, reported to whoever observes it (server/metrics). Kept apart from
 * client.ts so the WAL syncer and `tx()` can report without importing the metrics module.
 */
export interface DbObserver {
  /** A `tx()` transaction took `seconds` from BEGIN to COMMIT (or rollback). */
  transaction?(seconds: number): void;
  /**
   * One WAL flush that ballots wait for (server/db/wal-sync.ts) took `seconds`: SQLite's fdatasync, or on
   * PostgreSQL the synchronous commit of an empty logical message (round trip included).
   */
  walSync?(seconds: number): void;
}

const observers = new WeakMap<object, DbObserver>();

/**
 * Starts reporting the timings of `db` to `o` (replaces an earlier observer): a SQLite connection, or a
 * PostgreSQL store (server/db/store.pg.ts reports its transactions under the store object).
 */
export function observeDb(db: Database.Database | object, o: DbObserver): void {
  observers.set(db, o);
}

/** The observer of a connection (or PostgreSQL store), if any. */
export function dbObserver(db: Database.Database | object): DbObserver | undefined {
  return observers.get(db);
}
