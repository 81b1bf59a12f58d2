import type { Config } from '../config.js';
import type { Logger } from '../log.js';
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
export async function openDatabase(config: Pick<Config, 'dataDir' | 'database'> & { cluster?: Config['cluster'] }, log?: Pick<Logger, 'warn'>): Promise<OpenDatabase> {
  if (config.database.url) {
    const store = await openPgStore(config.database.url, {
      poolSize: config.database.poolSize,
      ...clusterSessionSettings(config.cluster),
      onConnectionError: (err) => log?.warn({ err }, 'database: an idle connection broke (replaced on the next query)'),
    });
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
 * A cluster node's connections (#18): named after the node (pg_stat_activity says whose a session is), and two
 * safety nets against a wait PostgreSQL cannot see the end of. A transaction of a node that stopped talking
 * (paused with SIGSTOP, or waiting inside itself for something that never comes) keeps its locks — the lease
 * row it fenced, the audit chain's advisory lock every node's audited writes take — and every other node's
 * writes queue behind it: `idle_in_transaction_session_timeout` ends such a session after twice the meeting
 * lease (a node silent that long has lost its meetings anyway; its fences would fail), which rolls its
 * transaction back and frees the locks. `lock_timeout`, longer than that (a wait behind such a session ends
 * when it is ended), fails a statement that still waits, so a wait that never ends becomes an error: the
 * transaction rolls back whole (nothing half-written) and the client gets `internal` with "retry"
 * (docs/PROTOCOL.md: not remembered, retried at once — with the same commandId, applied once). One node, or
 * PostgreSQL without ECABINET_NODE_ID: PostgreSQL's defaults (no timeouts), as before.
 */
export function clusterSessionSettings(cluster: Config['cluster'] | undefined): { applicationName?: string; idleInTransactionTimeoutMs?: number; lockTimeoutMs?: number } {
  if (!cluster?.nodeId) return {};
  const idle = Math.max(5000, 2 * cluster.leaseMs);
  return { applicationName: cluster.nodeId, idleInTransactionTimeoutMs: idle, lockTimeoutMs: idle + 5000 };
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
