import type Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/sqlite-proxy';
import type { Db } from './client.js';
import { dbObserver } from './observe.js';
import * as schema from './schema/index.js';
import { type Q, type Store, TxGate, commitScope, endScope, txScope } from './store.js';
import { useDialect } from './tables.js';

/** Prepared statements kept per connection (the SQL text of Drizzle's queries repeats). */
const STATEMENT_CACHE = 1000;

/**
 * The store over the embedded SQLite database (server/db/client.ts `openDb`): Drizzle's async SQLite
 * driver (sqlite-proxy) whose every statement runs here, synchronously, on the app's one better-sqlite3
 * connection — after waiting while another call chain's transaction is open (TxGate), the way Kysely's
 * SQLite driver shares its one connection. A transaction is `BEGIN IMMEDIATE … COMMIT` on it.
 */
export function sqliteStore(db: Db): Store {
  useDialect('sqlite');
  const sqlite = db.$client;
  const gate = new TxGate();
  const statements = new Map<string, Database.Statement>();

  function statement(text: string): Database.Statement {
    let s = statements.get(text);
    if (s) {
      // Most recently used last: the first key is the one to drop when full.
      statements.delete(text);
      statements.set(text, s);
      return s;
    }
    s = sqlite.prepare(text);
    statements.set(text, s);
    if (statements.size > STATEMENT_CACHE) statements.delete(statements.keys().next().value as string);
    return s;
  }

  function execute(text: string, params: unknown[], method: 'run' | 'all' | 'values' | 'get'): { rows: unknown } {
    const s = statement(text);
    if (method === 'run' || !s.reader) {
      const r = s.run(...params);
      return { rows: [], ...r };
    }
    s.raw(true);
    if (method === 'get') return { rows: s.get(...params) };
    return { rows: s.all(...params) };
  }

  /** Waits (if needed) until this call chain may use the connection. */
  async function turn(): Promise<void> {
    const token = txScope.getStore()?.owner;
    while (gate.open && !gate.holds(token)) await gate.idle();
  }

  // The config goes third, after the batch callback: given second, drizzle-orm 0.44 drops its `casing`.
  const base = drizzle(
    async (text, params, method) => {
      await turn();
      return execute(text, params, method) as { rows: unknown[] };
    },
    async (queries) => {
      await turn();
      return queries.map((b) => execute(b.sql, b.params, b.method) as { rows: unknown[] });
    },
    { schema, casing: 'snake_case' },
  ) as Q;

  const store: Store = {
    dialect: 'sqlite',
    get q(): Q {
      return gate.current() ?? base;
    },
    async tx<T>(fn: (q: Q) => Promise<T>): Promise<T> {
      const joined = gate.current();
      if (joined) return await fn(joined);
      const owner = {};
      return gate.run(owner, async () => {
        const observe = dbObserver(sqlite)?.transaction;
        const start = performance.now();
        sqlite.exec('BEGIN IMMEDIATE');
        const scope = commitScope(owner, base);
        try {
          // Awaited inside the scope: `fn` may return one of Drizzle's lazy queries, which runs when awaited.
          const result = await txScope.run(scope, async () => await fn(base));
          sqlite.exec('COMMIT');
          endScope(scope, true);
          return result;
        } catch (err) {
          if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
          endScope(scope, false);
          throw err;
        } finally {
          observe?.((performance.now() - start) / 1000);
        }
      });
    },
    atomic<T>(fn: (q: Q) => Promise<T>): Promise<T> {
      return store.tx(fn);
    },
    read<T>(fn: (q: Q) => Promise<T>): Promise<T> {
      return store.tx(fn);
    },
    async sqlite<T>(fn: (db: Database.Database) => T): Promise<T> {
      await turn();
      return fn(sqlite);
    },
    async ping(): Promise<void> {
      // No table, no write: harmless on the shared connection even while a transaction is open.
      sqlite.prepare('select 1').get();
    },
    async close(): Promise<void> {
      while (gate.open) await gate.idle();
      statements.clear();
    },
  };
  return store;
}
