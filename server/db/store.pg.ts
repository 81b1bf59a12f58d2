import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SQL } from 'drizzle-orm';
import type { PgDialect } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { dbObserver } from './observe.js';
import * as schema from './pg/index.js';
import { type Q, type Store, type TxScope, TxGate, commitScope, endScope, txScope } from './store.js';
import { useDialect } from './tables.js';

const MIGRATIONS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations-pg');

export interface PgStoreOptions {
  poolSize?: number;
  /** Refuse a second query on a connection still executing one (default: in tests). */
  strict?: boolean;
  /** `application_name` of every connection (a cluster node: its id, so pg_stat_activity says whose a session is). */
  applicationName?: string;
  /** `lock_timeout` of every connection (0/absent: PostgreSQL's default, none). */
  lockTimeoutMs?: number;
  /** `idle_in_transaction_session_timeout` of every connection (0/absent: none). */
  idleInTransactionTimeoutMs?: number;
  /**
   * An idle pooled connection broke (the database restarted, an administrator ended the session): told here; the
   * pool drops it and opens another on the next query. Without a listener node-postgres' pool would throw it as
   * an unhandled 'error' event and end the process — a database restart took the server down with it.
   */
  onConnectionError?: (err: Error) => void;
}

/**
 * The store over PostgreSQL (`DATABASE_URL=postgres://…`, issue #17): a node-postgres pool and Drizzle's
 * node-postgres driver over the twin schema (server/db/pg/). Migrations (migrations-pg/) are applied on
 * open. Transactions of this app take turns (TxGate) so the domains' check-then-write invariants hold as
 * on SQLite; statements outside a transaction run at once on the pool (MVCC: they see only committed data).
 *
 * Why node-postgres and not postgres.js (issue #17 asked to measure both on the votes path): postgres.js
 * pipelines queries on a connection, which pays when many statements are in flight at once. The hot path
 * does not have them: the ballot look-ups of one event-loop turn go out as one query (server/db/tick-batch.ts)
 * and ballots are group-committed, one statement per batch. Replaying that pattern (300 casts in a second:
 * acknowledgement and attendance look-ups, then the batch statement in a transaction, fsync on) on both
 * drivers in one run gave p50/p99 within the machine's noise of each other (node-postgres 161/966 and
 * 204/638 ms, postgres.js 157/425 and 186/548 ms on a 2-core machine at load 15); postgres.js with
 * unprepared queries (`unsafe` without `prepare`, what a dynamic builder sends) was 3–4× slower, a round trip
 * for parameter types per statement. No gain worth a second driver, a second result shape (`execute()`
 * returns `{ rows }` here, an array there) and the test helpers' pool: node-postgres stays.
 */
export async function openPgStore(url: string, opts: PgStoreOptions = {}): Promise<Store> {
  useDialect('postgres');
  const settings = [
    opts.lockTimeoutMs ? `-c lock_timeout=${Math.round(opts.lockTimeoutMs)}` : '',
    opts.idleInTransactionTimeoutMs ? `-c idle_in_transaction_session_timeout=${Math.round(opts.idleInTransactionTimeoutMs)}` : '',
  ].filter(Boolean);
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    ...(opts.applicationName ? { application_name: opts.applicationName } : {}),
    ...(settings.length ? { options: settings.join(' ') } : {}),
  });
  // A connection the server ends while it is checked out (idle_in_transaction_session_timeout, a restart) emits
  // 'error' with no query running; pg-pool listens only on idle ones, and an unheard 'error' ends the process.
  // The transaction's next statement fails instead (and pg-pool drops the connection when it is released).
  pool.on('connect', (client) => client.on('error', () => {}));
  pool.on('error', (err) => opts.onConnectionError?.(err));
  if (opts.strict ?? process.env.NODE_ENV === 'test') pool.on('connect', guardOneQueryAtATime);
  const db = drizzle({ client: pool, schema, casing: 'snake_case' });
  await migrate(db, { migrationsFolder: MIGRATIONS });
  const gate = new TxGate();
  const base = db as unknown as Q;

  const store: Store = {
    dialect: 'postgres',
    get q(): Q {
      return gate.current() ?? base;
    },
    async tx<T>(fn: (q: Q) => Promise<T>, label?: string): Promise<T> {
      const joined = gate.current();
      if (joined) return await fn(joined);
      const owner = {};
      return gate.run(owner, async () => {
        // Timed from BEGIN to COMMIT (or rollback) in its turn, as on SQLite: the wait for the gate is not the transaction's.
        const observe = dbObserver(store)?.transaction;
        const start = performance.now();
        try {
          let scope: TxScope | undefined;
          try {
            // Awaited inside the scope: `fn` may return one of Drizzle's lazy queries, which runs when awaited.
            const result = await db.transaction((tx) => txScope.run((scope = commitScope(owner, tx as unknown as Q)), async () => await fn(tx as unknown as Q)));
            if (scope) endScope(scope, true);
            return result;
          } catch (err) {
            if (scope) endScope(scope, false);
            throw err;
          }
        } finally {
          observe?.((performance.now() - start) / 1000);
        }
      }, label);
    },
    async atomic<T>(fn: (q: Q) => Promise<T>, label?: string): Promise<T> {
      const joined = gate.current();
      if (joined) return await fn(joined);
      // A statement outside BEGIN/COMMIT commits on its own (autocommit), durably as any commit.
      return gate.run({}, async () => await fn(base), label);
    },
    async read<T>(fn: (q: Q) => Promise<T>): Promise<T> {
      const joined = gate.current();
      if (joined) return await fn(joined);
      return db.transaction(
        (tx) => txScope.run({ owner: {}, q: tx as unknown as Q, readOnly: true }, async () => await fn(tx as unknown as Q)),
        { isolationLevel: 'repeatable read', accessMode: 'read only' },
      );
    },
    txHolder: () => gate.holderInfo(),
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

/**
 * Runs `query` on `q` (the pool, or the transaction's connection) as the named prepared statement `name`:
 * each connection parses and plans it once, later runs only bind and execute. For a hot statement whose text
 * never changes (its values all parameters; arrays for a batch of any size): the ballot batch spent about
 * as long in parse and plan as in execution. One name, one text, for the life of the process.
 */
export async function executeNamed<T>(q: Q, name: string, query: SQL): Promise<T[]> {
  // Drizzle's session: `client` is the pool or, inside a transaction, its connection; public `execute()` has no name.
  const session = (q as unknown as { _: { session: { client: pg.Pool | pg.PoolClient; dialect: PgDialect } } })._.session;
  const { sql: text, params } = session.dialect.sqlToQuery(query);
  const result = await session.client.query<T & pg.QueryResultRow>({ name, text, values: params });
  return result.rows;
}

/**
 * Makes a second query on a connection that is still executing one throw (in tests: `strict`, on by
 * default when NODE_ENV=test). Inside a transaction every statement goes to its one connection, so a
 * `Promise.all` of reads there sends them at once: node-postgres queues them with a deprecation warning
 * today and refuses them in pg 9, and a queue on a transaction's connection interleaves with whatever
 * else the call chain sends. Outside a transaction `pool.query` takes a connection per statement and
 * never trips this. A ROLLBACK is let through (queued after the running query) so the failed
 * transaction still ends before its connection returns to the pool.
 */
export function guardOneQueryAtATime(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  let running = 0;
  const patched = (...args: unknown[]): unknown => {
    const first = args[0];
    const text = typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? '');
    if (running > 0 && !/^\s*rollback\b/i.test(text)) {
      throw new Error(`a query started on a PostgreSQL connection that is still executing one (concurrent statements in one transaction — run them one after another): ${text.slice(0, 120)}`);
    }
    running++;
    let ended = false;
    const end = (): void => {
      if (!ended) running--;
      ended = true;
    };
    const last = args.length - 1;
    if (typeof args[last] === 'function') {
      const cb = args[last] as (...a: unknown[]) => void;
      args[last] = (...a: unknown[]) => {
        end();
        cb(...a);
      };
    }
    let result: unknown;
    try {
      result = query(...args);
    } catch (err) {
      end();
      throw err;
    }
    if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(end, end);
    return result;
  };
  (client as unknown as { query: typeof patched }).query = patched;
}
