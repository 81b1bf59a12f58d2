import crypto from 'node:crypto';
import type Database from 'better-sqlite3';
import pg from 'pg';
import type { AppContext } from '../../server/context.js';
import type { RunningServer } from '../../server/server.js';

/** A value as a test compares it: integers as numbers (PostgreSQL's bigint counts too), bytes as Buffers. */
type Params = readonly unknown[];

/**
 * Raw SQL against a test server's database, on either store, for tests that look under the API (what is
 * stored, counts, tampering). Write portable SQL with `?` placeholders (turned into `$1…` on PostgreSQL)
 * and quote camelCase aliases (`as "lastError"`), since PostgreSQL folds unquoted names to lower case.
 * On SQLite it runs on the server's own connection (as tests always did); on PostgreSQL on a small pool
 * of this test process to the server's database.
 */
export interface TestSql {
  readonly dialect: 'sqlite' | 'postgres';
  all<T = Record<string, unknown>>(text: string, ...params: Params): Promise<T[]>;
  get<T = Record<string, unknown>>(text: string, ...params: Params): Promise<T | undefined>;
  /** The first column of the first row. */
  value<T = unknown>(text: string, ...params: Params): Promise<T | undefined>;
  /** The first column of every row. */
  column<T = unknown>(text: string, ...params: Params): Promise<T[]>;
  /** A write; the number of rows it changed. */
  run(text: string, ...params: Params): Promise<number>;
}

const pools = new Map<string, pg.Pool>();
const int8 = 20;
const numeric = 1700;
const json = 114;
const jsonb = 3802;
const timestamptz = 1184;
/** Values as SQLite hands them to tests: JSON as its text, times as ISO strings, counts as numbers. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === int8 || oid === numeric) return (v: string) => Number(v);
    if (oid === json || oid === jsonb) return (v: string) => v;
    if (oid === timestamptz) return (v: string) => new Date(v).toISOString();
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

function pgPool(url: string): pg.Pool {
  let pool = pools.get(url);
  if (!pool) {
    pool = new pg.Pool({ connectionString: url, max: 2, idleTimeoutMillis: 1_000, allowExitOnIdle: true, types });
    // An idle client whose server stopped (a test's own throwaway cluster, stopped in its afterAll) is dropped
    // by the pool; unheard, that error would fail the run as uncaught. A query's errors still reach its caller.
    pool.on('error', () => {});
    pools.set(url, pool);
  }
  return pool;
}

/** `?` placeholders (outside quotes) to PostgreSQL's `$n`. */
function numbered(text: string): string {
  let n = 0;
  let quote: string | null = null;
  let out = '';
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '?') {
      out += `$${++n}`;
      continue;
    }
    out += ch;
  }
  return out;
}

/** A test server (or its app context). */
export type SqlTarget = Pick<RunningServer, 'app'> | AppContext;

export function testSql(target: SqlTarget): TestSql {
  const ctx = 'app' in target ? target.app.ctx : target;
  const url = ctx.config.database.url;
  // Through the store: on the server's own connection, in its turn (never inside another call chain's transaction).
  return url ? pgTestSql(url) : sqliteTestSql((fn) => ctx.store.sqlite(fn));
}

/** Raw SQL (as `testSql`) on a SQLite connection reached through `c` (the server's store, or a test's own connection). */
export function sqliteTestSql(c: <T>(fn: (db: Database.Database) => T) => T | Promise<T>): TestSql {
  const run = async <T>(fn: (db: Database.Database) => T) => c(fn);
  return {
    dialect: 'sqlite',
    all: <T>(text: string, ...params: Params) => run((db) => db.prepare(text).all(...params) as T[]),
    get: <T>(text: string, ...params: Params) => run((db) => db.prepare(text).get(...params) as T | undefined),
    value: <T>(text: string, ...params: Params) => run((db) => (db.prepare(text).raw().get(...params) as unknown[] | undefined)?.[0] as T | undefined),
    column: <T>(text: string, ...params: Params) => run((db) => db.prepare(text).pluck().all(...params) as T[]),
    run: (text: string, ...params: Params) => run((db) => db.prepare(text).run(...params).changes),
  };
}

/** Raw SQL (as `testSql`) on a PostgreSQL database by its URL: a small pool of this test process. */
export function pgTestSql(url: string): TestSql {
  const query = (text: string, params: Params) => pgPool(url).query(numbered(text), params as unknown[]);
  return {
    dialect: 'postgres',
    all: async <T>(text: string, ...params: Params) => (await query(text, params)).rows as T[],
    get: async <T>(text: string, ...params: Params) => (await query(text, params)).rows[0] as T | undefined,
    value: async <T>(text: string, ...params: Params) => {
      const r = await pgPool(url).query({ text: numbered(text), values: params as unknown[], rowMode: 'array' });
      return (r.rows[0] as unknown[] | undefined)?.[0] as T | undefined;
    },
    column: async <T>(text: string, ...params: Params) => {
      const r = await pgPool(url).query({ text: numbered(text), values: params as unknown[], rowMode: 'array' });
      return (r.rows as unknown[][]).map((row) => row[0] as T);
    },
    run: async (text: string, ...params: Params) => (await query(text, params)).rowCount ?? 0,
  };
}

/** The tables of the server's database (full-text shadow tables aside). */
export async function tableNames(sql: TestSql): Promise<string[]> {
  const rows =
    sql.dialect === 'sqlite'
      ? await sql.all<{ name: string }>("select name from sqlite_master where type='table' and name not like 'sqlite_%' and name not like '%fts%' order by name")
      : await sql.all<{ name: string }>("select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name");
  return rows.map((r) => r.name);
}

/** `count:hash` of a table's rows, in no particular order (some tables have none: secret ballots are WITHOUT ROWID on SQLite). */
export function digestRows(rows: readonly unknown[][]): string {
  const lines = rows
    .map((row) => JSON.stringify(row, (_k, v) => (typeof v === 'bigint' ? String(v) : v instanceof Date ? v.toISOString() : v)))
    .sort();
  const h = crypto.createHash('sha256');
  for (const line of lines) h.update(line);
  return `${lines.length}:${h.digest('hex').slice(0, 16)}`;
}

/**
 * A digest per table of every row, on either store: equal digests mean the table did not change.
 * Compare with `toEqual` so a failure names the tables that changed.
 */
export async function dbDigest(server: SqlTarget, except: string[] = []): Promise<Record<string, string>> {
  const sql = testSql(server);
  const out: Record<string, string> = {};
  for (const t of (await tableNames(sql)).filter((t) => !except.includes(t))) {
    out[t] = digestRows((await sql.all(`select * from "${t}"`)).map((row) => Object.values(row)));
  }
  return out;
}
