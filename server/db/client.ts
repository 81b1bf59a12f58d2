import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { registerAuditFunctions, sealUnchainedEntries } from '../audit/audit.chain.js';
import { dbObserver } from './observe.js';
import * as schema from './schema/index.js';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

const MIGRATIONS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

/**
 * Opens (creating if needed) the SQLite database in `dataDir`, in WAL mode, and applies migrations.
 * Durability: WAL with synchronous=NORMAL — a committed transaction survives a process crash or
 * `kill -9` (what we promise for acknowledged data); only an OS crash/power loss may lose the last
 * transactions. Domains needing more (ballots) wait for `WalSync.durable()` (server/db/wal-sync.ts) before acknowledging.
 */
export function openDb(dataDir: string, file = 'ecabinet.sqlite'): Db {
  fs.mkdirSync(dataDir, { recursive: true });
  const sqlite = new Database(path.join(dataDir, file));
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // The audit log's hash chain is computed by a trigger calling this function (server/audit/audit.chain.ts).
  registerAuditFunctions(sqlite);
  const db = drizzle({ client: sqlite, schema, casing: 'snake_case' }) as Db;
  migrate(db, { migrationsFolder: MIGRATIONS });
  sealUnchainedEntries(sqlite);
  return db;
}

/**
 * Runs `fn` in one synchronous SQLite transaction. The callback must not be async:
 * better-sqlite3 cannot keep a transaction open across an await (drizzle-orm#2275).
 */
export function tx<T>(db: Db, fn: (db: Db) => T): T {
  const observer = dbObserver(db.$client)?.transaction;
  if (!observer) return db.$client.transaction(() => fn(db))();
  const start = performance.now();
  try {
    return db.$client.transaction(() => fn(db))();
  } finally {
    observer((performance.now() - start) / 1000);
  }
}

/**
 * A value built once per database connection and reused: the prepared statements of a hot path
 * (`const stmts = perDb((db) => ({ find: db.$client.prepare('…') }))`, then `stmts(db).find.get(…)`).
 * The query builder re-renders its SQL on every call; a prepared statement does not.
 */
export function perDb<T>(build: (db: Db) => T): (db: Db) => T {
  const cache = new WeakMap<Database.Database, T>();
  return (db) => {
    let v = cache.get(db.$client);
    if (v === undefined) cache.set(db.$client, (v = build(db)));
    return v;
  };
}
