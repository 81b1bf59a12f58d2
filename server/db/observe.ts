import type Database from 'better-sqlite3';

/**
 * Timings of one database connection, reported to whoever observes it (server/metrics). Kept apart from
 * client.ts so the WAL syncer and `tx()` can report without importing the metrics module.
 */
export interface DbObserver {
  /** A `tx()` transaction took `seconds` from BEGIN to COMMIT (or rollback). */
  transaction?(seconds: number): void;
  /** One fdatasync of the WAL (server/db/wal-sync.ts) took `seconds`. */
  walSync?(seconds: number): void;
}

const observers = new WeakMap<Database.Database, DbObserver>();

/** Starts reporting the connection's timings to `o` (replaces an earlier observer). */
export function observeDb(sqlite: Database.Database, o: DbObserver): void {
  observers.set(sqlite, o);
}

/** The observer of a connection, if any. */
export function dbObserver(sqlite: Database.Database): DbObserver | undefined {
  return observers.get(sqlite);
}
