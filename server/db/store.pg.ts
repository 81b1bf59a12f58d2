import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { dbObserver } from './observe.js';
import * as schema from './pg/index.js';
import { type Q, type Store, TxGate, txScope } from './store.js';
import { useDialect } from './tables.js';

const MIGRATIONS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations-pg');

/**
 * The store over PostgreSQL (`DATABASE_URL=postgres://…`, issue #17): a node-postgres pool and Drizzle's
 * node-postgres driver over the twin schema (server/db/pg/). Migrations (migrations-pg/) are applied on
 * open. Transactions of this app take turns (TxGate) so the domains' check-then-write invariants hold as
 * on SQLite; statements outside a transaction run at once on the pool (MVCC: they see only committed data).
 */
export async function openPgStore(url: string, opts: { poolSize?: number } = {}): Promise<Store> {
  useDialect('postgres');
  const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? 10 });
  const db = drizzle({ client: pool, schema, casing: 'snake_case' });
  await migrate(db, { migrationsFolder: MIGRATIONS });
  const gate = new TxGate();
  const base = db as unknown as Q;

  const store: Store = {
    dialect: 'postgres',
    get q(): Q {
      return gate.current() ?? base;
    },
    async tx<T>(fn: (q: Q) => Promise<T>): Promise<T> {
      const joined = gate.current();
      if (joined) return await fn(joined);
      const owner = {};
      return gate.run(owner, async () => {
        // Timed from BEGIN to COMMIT (or rollback) in its turn, as on SQLite: the wait for the gate is not the transaction's.
        const observe = dbObserver(store)?.transaction;
        const start = performance.now();
        try {
          // Awaited inside the scope: `fn` may return one of Drizzle's lazy queries, which runs when awaited.
          return await db.transaction((tx) => txScope.run({ owner, q: tx as unknown as Q }, async () => await fn(tx as unknown as Q)));
        } finally {
          observe?.((performance.now() - start) / 1000);
        }
      });
    },
    async sqlite(): Promise<never> {
      throw new Error('store.sqlite() on PostgreSQL: this repository branch is SQLite only');
    },
    async ping(): Promise<void> {
      await pool.query('select 1');
    },
    async close(): Promise<void> {
      while (gate.open) await gate.idle();
      await pool.end();
    },
  };
  return store;
}
