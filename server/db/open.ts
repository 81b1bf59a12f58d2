import type { Config } from '../config.js';
import { type Db, openDb } from './client.js';
import type { Store } from './store.js';
import { openPgStore } from './store.pg.js';
import { sqliteStore } from './store.sqlite.js';

/** The database a server runs on: the async store, and (SQLite only) the connection under it. */
export interface OpenDatabase {
  store: Store;
  /** The better-sqlite3 connection under `store` on SQLite; null on PostgreSQL. */
  sqlite: Db | null;
  close(): Promise<void>;
}

/**
 * Opens the configured database, migrated: PostgreSQL when `DATABASE_URL` is set (migrations-pg/),
 * else the embedded SQLite file in the data folder (migrations/). One dialect per process.
 */
export async function openDatabase(config: Pick<Config, 'dataDir' | 'database'>): Promise<OpenDatabase> {
  if (config.database.url) {
    const store = await openPgStore(config.database.url, { poolSize: config.database.poolSize });
    return { store, sqlite: null, close: () => store.close() };
  }
  const db = openDb(config.dataDir);
  const store = sqliteStore(db);
  return {
    store,
    sqlite: db,
    async close() {
      await store.close();
      db.$client.close();
    },
  };
}

/**
 * What `ctx.db` is on PostgreSQL while code still reaches for the SQLite connection (issue #17, being
 * removed): any use fails loudly with the place to fix, instead of silently writing somewhere else.
 */
export function noSqliteDb(): Db {
  return new Proxy({} as Db, {
    get(_t, prop) {
      if (prop === 'then' || typeof prop === 'symbol') return undefined;
      throw new Error(`ctx.db.${String(prop)} on PostgreSQL: this code still uses the SQLite connection (move it onto ctx.store, issue #17)`);
    },
  });
}
