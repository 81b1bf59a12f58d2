/**
 * npm run db:copy -- --from sqlite:./data/ecabinet.sqlite --to postgres://user@host:5432/db [--json]
 *
 * Moves an installation's database from SQLite to an EMPTY PostgreSQL database (issue #17), in one
 * transaction, and verifies it before committing:
 *  1. applies migrations-pg/ in order, recorded in drizzle.__drizzle_migrations as drizzle's migrator does
 *     (so a later migrator run on start skips them);
 *  2. copies every table in foreign-key order, rows in primary-key order, in batches, converting each
 *     value by its PostgreSQL column type: ISO-8601 text → timestamptz(3), 0/1 → boolean, JSON text →
 *     jsonb/json (json keeps the text byte for byte), blob → bytea, integers → integer/bigint;
 *  3. fills the full-text columns (search_entries.fts, search_groups.fts) as the indexer writes them:
 *     to_tsvector('simple', ftsWords(...)) (server/search/search.repo.ts);
 *  4. keeps the audit log's hashes: the chain trigger (migrations-pg/0001) is disabled for the copy inside
 *     the transaction (ALTER TABLE … DISABLE TRIGGER, undone before commit), then the whole chain is
 *     re-verified on PostgreSQL with its own ec_audit_hash();
 *  5. moves each identity sequence past the largest id (and past SQLite's AUTOINCREMENT high-water mark,
 *     so deleted ids are never reused);
 *  6. verifies every table: row count and a SHA-256 over its rows in primary-key order, each value in a
 *     canonical form computed the same way from both sides (instants as ISO UTC with ms, booleans,
 *     JSON re-serialised with sorted keys for jsonb, bytes in hex, numbers as JS numbers).
 * Any mismatch rolls everything back (the target stays empty) and exits 1. The SQLite file is opened
 * read-only; the files under data/files are not touched (copy the data folder's files/ as they are).
 * A target with any table in its public schema is refused: create an empty database for the copy.
 * Exit codes: 0 copied and verified, 1 verification failed, 2 usage or refused.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import pg from 'pg';
import { ftsWords } from '../shared/rules/fold.js';

const ROOT = path.resolve(import.meta.dirname, '..');

interface Args {
  from: string;
  to: string;
  json: boolean;
}

function usage(message: string): never {
  console.error(`db:copy: ${message}\nusage: npm run db:copy -- --from sqlite:./data/ecabinet.sqlite --to postgres://user@host:5432/db [--json]`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const get = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const from = get('--from');
  const to = get('--to');
  if (!from?.startsWith('sqlite:')) usage('--from sqlite:<file> is required');
  if (!to || !/^postgres(ql)?:\/\//.test(to)) usage('--to postgres://… is required');
  const file = from.slice('sqlite:'.length);
  if (!fs.existsSync(file)) usage(`no SQLite database at ${file}`);
  return { from: file, to, json: argv.includes('--json') };
}

/** SQLite objects that are not data tables of their own (FTS5 tables and their shadows, bookkeeping). */
const SQLITE_SKIP = /^(sqlite_|__drizzle_migrations$|search_fts($|_)|search_groups_fts($|_))/;
/** PostgreSQL columns with no SQLite twin, filled by the copy itself. */
const PG_ONLY = new Set(['search_entries.fts', 'search_groups.fts']);
/** PostgreSQL-only tables its triggers keep (migrations-pg 0003: roster versions): not copied, they fill themselves as the rows go in. */
const PG_DERIVED_TABLES = new Set(['live_roster_versions']);

interface PgColumn {
  name: string;
  type: string; // pg's format_type: integer, bigint, boolean, text, jsonb, json, bytea, double precision, timestamp(3) with time zone, tsvector
  identity: boolean;
}
interface PgTableInfo {
  name: string;
  columns: PgColumn[];
  /** The columns copied (all but the PostgreSQL-only ones), in the target's order. */
  copied: PgColumn[];
  pk: string[];
  parents: string[];
}

export interface TableResult {
  table: string;
  sqliteRows: number;
  pgRows: number;
  sqliteSum: string;
  pgSum: string;
  ok: boolean;
}

export interface CopyReport {
  ok: boolean;
  tables: TableResult[];
  audit: { entries: number; problems: number };
  migrations: number;
  seconds: number;
}

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

async function pgTables(c: pg.PoolClient | pg.Client): Promise<PgTableInfo[]> {
  const cols = await c.query<{ table: string; name: string; type: string; identity: boolean }>(`
    select c.relname as table, a.attname as name, format_type(a.atttypid, a.atttypmod) as type, a.attidentity <> '' as identity
      from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped
     order by c.relname, a.attnum`);
  const pks = await c.query<{ table: string; cols: string[] }>(`
    select c.relname as table, array_agg(a.attname::text order by array_position(i.indkey, a.attnum)) as cols
      from pg_index i join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
      join pg_attribute a on a.attrelid = c.oid and a.attnum = any(i.indkey)
     where n.nspname = 'public' and i.indisprimary group by c.relname`);
  const fks = await c.query<{ table: string; parent: string }>(`
    select distinct c.relname as table, p.relname as parent
      from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_class p on p.oid = k.confrelid
      join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and k.contype = 'f'`);
  const tables = new Map<string, PgTableInfo>();
  for (const r of cols.rows) {
    if (PG_DERIVED_TABLES.has(r.table)) continue;
    let t = tables.get(r.table);
    if (!t) tables.set(r.table, (t = { name: r.table, columns: [], copied: [], pk: [], parents: [] }));
    const col = { name: r.name, type: r.type, identity: r.identity };
    t.columns.push(col);
    if (!PG_ONLY.has(`${r.table}.${r.name}`)) t.copied.push(col);
  }
  for (const r of pks.rows) if (tables.has(r.table)) tables.get(r.table)!.pk = r.cols;
  for (const r of fks.rows) if (r.parent !== r.table && tables.has(r.table)) tables.get(r.table)!.parents.push(r.parent);
  for (const t of tables.values()) if (!t.pk.length) t.pk = t.copied.map((c) => c.name);
  return [...tables.values()];
}

/** Parents before children (Kahn's order, ties by name so the order is stable). */
function fkOrder(tables: PgTableInfo[]): PgTableInfo[] {
  const left = new Map(tables.map((t) => [t.name, t]));
  const out: PgTableInfo[] = [];
  while (left.size) {
    const ready = [...left.values()].filter((t) => t.parents.every((p) => !left.has(p))).sort((a, b) => a.name.localeCompare(b.name));
    if (!ready.length) throw new Error(`foreign keys form a cycle among: ${[...left.keys()].join(', ')}`);
    for (const t of ready) {
      out.push(t);
      left.delete(t.name);
    }
  }
  return out;
}

const isTime = (type: string) => type.startsWith('timestamp');
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$/;

/** A SQLite value → the parameter PostgreSQL receives for a column of `type`. */
function toPg(value: unknown, col: PgColumn, table: string): unknown {
  if (value === null || value === undefined) return null;
  const where = () => `${table}.${col.name}`;
  if (isTime(col.type)) {
    if (typeof value !== 'string' || !ISO.test(value)) throw new Error(`${where()}: not an ISO-8601 UTC instant: ${JSON.stringify(value)}`);
    return value;
  }
  switch (col.type) {
    case 'boolean':
      if (value !== 0 && value !== 1 && value !== 0n && value !== 1n) throw new Error(`${where()}: not a 0/1 boolean: ${String(value)}`);
      return Number(value) === 1;
    case 'jsonb':
    case 'json':
      if (typeof value !== 'string') throw new Error(`${where()}: JSON stored as ${typeof value}`);
      JSON.parse(value); // refuses invalid JSON here, with the column's name
      return value;
    case 'bytea':
      if (!Buffer.isBuffer(value)) throw new Error(`${where()}: not a blob`);
      return value;
    case 'integer':
    case 'bigint':
      if (typeof value === 'bigint') return value.toString();
      if (typeof value !== 'number' || !Number.isInteger(value)) throw new Error(`${where()}: not an integer: ${String(value)}`);
      return value;
    case 'double precision':
      return Number(value);
    default:
      return value;
  }
}

/** JSON with object keys sorted (jsonb's own order is by length then bytes, so both sides are re-sorted). */
function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * The canonical form of one value, from either side. SQLite gives its stored value; PostgreSQL gives
 * what `selectList` casts it to (instants as ISO text, json as text, bigint as text, bytea as a Buffer).
 */
function canonical(value: unknown, col: PgColumn, side: 'sqlite' | 'pg'): unknown {
  if (value === null || value === undefined) return null;
  if (isTime(col.type)) return new Date(String(value)).toISOString();
  switch (col.type) {
    case 'boolean':
      return side === 'sqlite' ? Number(value) === 1 : value === true;
    case 'jsonb':
      return sortedJson(JSON.parse(String(value)));
    case 'json':
      return String(value);
    case 'bytea':
      return (value as Buffer).toString('hex');
    case 'integer':
    case 'bigint':
      return String(value);
    case 'double precision':
      return Number(value);
    default:
      return value;
  }
}

/** The select list reading a table's copied columns from PostgreSQL for the checksum. */
function selectList(t: PgTableInfo): string {
  return t.copied
    .map((c) => {
      if (isTime(c.type)) return `to_char(${q(c.name)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as ${q(c.name)}`;
      if (c.type === 'json' || c.type === 'jsonb' || c.type === 'bigint') return `${q(c.name)}::text as ${q(c.name)}`;
      return q(c.name);
    })
    .join(', ');
}

function orderBy(t: PgTableInfo, dialect: 'sqlite' | 'pg'): string {
  // Byte order of UTF-8 on both sides: SQLite's BINARY collation, PostgreSQL's "C".
  return t.pk
    .map((k) => {
      const type = t.columns.find((c) => c.name === k)!.type;
      return dialect === 'pg' && type === 'text' ? `${q(k)} collate "C"` : q(k);
    })
    .join(', ');
}

class RowHash {
  private h = crypto.createHash('sha256');
  rows = 0;
  add(values: unknown[]) {
    this.h.update(JSON.stringify(values));
    this.h.update('\n');
    this.rows++;
  }
  digest() {
    return this.h.digest('hex').slice(0, 16);
  }
}

/** Full-text columns, as server/search/search.service.ts's indexer would write them on PostgreSQL. */
async function fillSearch(c: pg.PoolClient | pg.Client, sqlite: Database.Database): Promise<void> {
  const entries = sqlite.prepare<[], { id: number; title: string; body: string }>('select id, title, body from search_entries order by id');
  for (const batch of batches(entries.iterate(), 500)) {
    await c.query(
      `update search_entries e set fts = to_tsvector('simple', v.text) from unnest($1::int[], $2::text[]) as v(id, text) where e.id = v.id`,
      [batch.map((r) => r.id), batch.map((r) => `${ftsWords(r.title)} ${ftsWords(r.body)}`)],
    );
  }
  const groups = sqlite.prepare<[], { id: number; kind: string; refId: number; title: string }>('select id, kind, ref_id as refId, title from search_groups order by id');
  const bodies = sqlite.prepare<[string, number], { body: string }>('select body from search_entries where kind = ? and ref_id = ? order by page, id');
  for (const batch of batches(groups.iterate(), 200)) {
    await c.query(
      `update search_groups g set fts = setweight(to_tsvector('simple', v.title), 'A') || setweight(to_tsvector('simple', v.body), 'B')
         from unnest($1::int[], $2::text[], $3::text[]) as v(id, title, body) where g.id = v.id`,
      [batch.map((r) => r.id), batch.map((r) => ftsWords(r.title)), batch.map((r) => bodies.all(r.kind, r.refId).map((x) => ftsWords(x.body)).join(' '))],
    );
  }
}

function* batches<T>(it: Iterable<T>, size: number): Generator<T[]> {
  let b: T[] = [];
  for (const x of it) {
    b.push(x);
    if (b.length >= size) {
      yield b;
      b = [];
    }
  }
  if (b.length) yield b;
}

/** Applies migrations-pg/ and records each one as drizzle's PostgreSQL migrator does. */
async function migrate(c: pg.PoolClient | pg.Client): Promise<number> {
  const migrations = readMigrationFiles({ migrationsFolder: path.join(ROOT, 'migrations-pg') });
  await c.query('create schema if not exists drizzle');
  await c.query('create table if not exists drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)');
  for (const m of migrations) {
    for (const stmt of m.sql) if (stmt.trim()) await c.query(stmt);
    await c.query('insert into drizzle.__drizzle_migrations (hash, created_at) values ($1, $2)', [m.hash, m.folderMillis]);
  }
  return migrations.length;
}

/** The SQLite file must be at the schema this code knows (the server migrates it on start). */
function checkSqliteVersion(sqlite: Database.Database): void {
  const journal = JSON.parse(fs.readFileSync(path.join(ROOT, 'migrations/meta/_journal.json'), 'utf8')) as { entries: unknown[] };
  const has = sqlite.prepare("select name from sqlite_master where name = '__drizzle_migrations'").get();
  const applied = has ? (sqlite.prepare('select count(*) as n from __drizzle_migrations').get() as { n: number }).n : 0;
  if (applied !== journal.entries.length) {
    throw new RefusedError(
      `the SQLite database has ${applied} of this version's ${journal.entries.length} migrations: start this version of the server on it once (it migrates on start), stop it, then copy`,
    );
  }
}

class RefusedError extends Error {}

export async function copyDatabase(from: string, to: string, log: (line: string) => void = () => {}): Promise<CopyReport> {
  const started = performance.now();
  const sqlite = new Database(from, { readonly: true, fileMustExist: true });
  sqlite.defaultSafeIntegers(false);
  const client = new pg.Client({ connectionString: to, options: '-c TimeZone=UTC' });
  await client.connect();
  try {
    checkSqliteVersion(sqlite);
    await client.query('begin isolation level read committed');
    // A second copy into the same database waits here, then finds the first one's tables and is refused.
    await client.query("select pg_advisory_xact_lock(hashtext('ec.db-copy'))");
    const existing = await client.query("select count(*)::int as n from pg_tables where schemaname = 'public'");
    if (existing.rows[0].n > 0) throw new RefusedError('the target database is not empty (it has tables in its public schema): copy into a new, empty database');
    const migrations = await migrate(client);
    const tables = fkOrder(await pgTables(client));

    const sqliteTables = new Set(
      (sqlite.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[]).map((r) => r.name).filter((n) => !SQLITE_SKIP.test(n)),
    );
    const missing = tables.filter((t) => !sqliteTables.has(t.name)).map((t) => t.name);
    const extra = [...sqliteTables].filter((n) => !tables.some((t) => t.name === n));
    if (missing.length || extra.length) {
      throw new Error(`the two schemas differ: ${missing.length ? `only on PostgreSQL: ${missing.join(', ')}; ` : ''}${extra.length ? `only on SQLite: ${extra.join(', ')}` : ''}`);
    }

    const hasAudit = tables.some((t) => t.name === 'audit_log');
    if (hasAudit) await client.query('alter table audit_log disable trigger audit_log_lock, disable trigger audit_log_chain');

    const sums = new Map<string, RowHash>();
    for (const t of tables) {
      const sqliteCols = new Set((sqlite.prepare(`select name from pragma_table_info(?)`).all(t.name) as { name: string }[]).map((r) => r.name));
      const absent = t.copied.filter((c) => !sqliteCols.has(c.name)).map((c) => c.name);
      const surplus = [...sqliteCols].filter((n) => !t.copied.some((c) => c.name === n));
      if (absent.length || surplus.length) throw new Error(`${t.name}: columns differ (only on PostgreSQL: ${absent.join(', ') || '-'}; only on SQLite: ${surplus.join(', ') || '-'})`);

      const cols = t.copied;
      const extraCols = t.columns.filter((c) => !cols.includes(c));
      const hash = new RowHash();
      const select = sqlite.prepare(`select ${cols.map((c) => q(c.name)).join(', ')} from ${q(t.name)} order by ${orderBy(t, 'sqlite')}`).raw(true);
      const perBatch = Math.max(1, Math.min(1000, Math.floor(60_000 / cols.length)));
      const head = `insert into ${q(t.name)} (${[...cols, ...extraCols].map((c) => q(c.name)).join(', ')}) overriding system value values `;
      // A PostgreSQL-only column is NOT NULL with no default (fts): an empty value now, filled below.
      const fillers = extraCols.map((c) => (c.type === 'tsvector' ? `''::tsvector` : 'default'));
      for (const batch of batches(select.iterate() as Iterable<unknown[]>, perBatch)) {
        const params: unknown[] = [];
        const tuples = batch.map((row) => {
          const ph = row.map((v, i) => {
            params.push(toPg(v, cols[i], t.name)); // refuses, naming the column, what it cannot convert
            return `$${params.length}`;
          });
          hash.add(row.map((v, i) => canonical(v, cols[i], 'sqlite')));
          return `(${[...ph, ...fillers].join(', ')})`;
        });
        await client.query(head + tuples.join(', '), params);
      }
      sums.set(t.name, hash);
      log(`copied ${t.name}: ${hash.rows} rows`);
    }

    if (hasAudit) await client.query('alter table audit_log enable trigger audit_log_lock, enable trigger audit_log_chain');
    if (tables.some((t) => t.name === 'search_entries')) await fillSearch(client, sqlite);

    // Identity sequences: past the largest id, and past SQLite's AUTOINCREMENT high-water mark.
    const seqOf = new Map<string, number>();
    if (sqlite.prepare("select 1 from sqlite_master where name = 'sqlite_sequence'").get()) {
      for (const r of sqlite.prepare('select name, seq from sqlite_sequence').all() as { name: string; seq: number }[]) seqOf.set(r.name, r.seq);
    }
    for (const t of tables) {
      for (const c of t.columns.filter((x) => x.identity)) {
        const max = (await client.query(`select coalesce(max(${q(c.name)}), 0)::bigint::text as m from ${q(t.name)}`)).rows[0].m as string;
        const top = Math.max(Number(max), seqOf.get(t.name) ?? 0);
        if (top > 0) await client.query(`select setval(pg_get_serial_sequence($1, $2), $3)`, [q(t.name), c.name, top]);
      }
    }

    // Verification: the same canonical rows, read back from PostgreSQL.
    const results: TableResult[] = [];
    for (const t of tables) {
      const hash = new RowHash();
      await client.query(`declare ec_copy_check no scroll cursor for select ${selectList(t)} from ${q(t.name)} order by ${orderBy(t, 'pg')}`);
      for (;;) {
        const r = await client.query({ text: 'fetch 2000 from ec_copy_check', rowMode: 'array' });
        for (const row of r.rows as unknown[][]) hash.add(row.map((v, i) => canonical(v, t.copied[i], 'pg')));
        if (r.rows.length < 2000) break;
      }
      await client.query('close ec_copy_check');
      const src = sums.get(t.name)!;
      const res = { table: t.name, sqliteRows: src.rows, pgRows: hash.rows, sqliteSum: src.digest(), pgSum: hash.digest(), ok: false };
      res.ok = res.sqliteRows === res.pgRows && res.sqliteSum === res.pgSum;
      results.push(res);
    }

    // The audit chain, recomputed by PostgreSQL's own ec_audit_hash (what the trigger uses for new entries).
    let audit = { entries: 0, problems: 0 };
    if (hasAudit) {
      const r = await client.query<{ entries: number; problems: number }>(`
        select count(*)::int as entries,
               count(*) filter (where hash is null or hash <> ec_audit_hash(prev_hash, actor_id, action, target_type, target_id, details::text, at)
                                or prev_hash is distinct from prev)::int as problems
          from (select *, lag(hash) over (order by id) as prev from audit_log) a`);
      audit = r.rows[0];
    }

    const ok = results.every((r) => r.ok) && audit.problems === 0;
    await client.query(ok ? 'commit' : 'rollback');
    return { ok, tables: results, audit, migrations, seconds: (performance.now() - started) / 1000 };
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    await client.end();
    sqlite.close();
  }
}

function printReport(r: CopyReport): void {
  const w = Math.max(...r.tables.map((t) => t.table.length), 5);
  console.log(`${'table'.padEnd(w)}  ${'sqlite rows'.padStart(11)}  ${'pg rows'.padStart(9)}  ${'sqlite sha256'.padEnd(16)}  ${'pg sha256'.padEnd(16)}  ok`);
  for (const t of r.tables) {
    console.log(`${t.table.padEnd(w)}  ${String(t.sqliteRows).padStart(11)}  ${String(t.pgRows).padStart(9)}  ${t.sqliteSum}  ${t.pgSum}  ${t.ok ? 'ok' : 'MISMATCH'}`);
  }
  console.log(`audit chain on PostgreSQL: ${r.audit.entries} entries, ${r.audit.problems} not chained`);
  console.log(
    r.ok
      ? `db:copy: ${r.tables.length} tables copied and verified in ${r.seconds.toFixed(1)} s (${r.migrations} migrations applied); committed`
      : `db:copy: VERIFICATION FAILED (${r.tables.filter((t) => !t.ok).length} table(s), ${r.audit.problems} audit entries): rolled back, the target is empty`,
  );
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('db-copy.ts')) {
  const args = parseArgs(process.argv.slice(2));
  copyDatabase(args.from, args.to, args.json ? undefined : (line) => console.error(line))
    .then((r) => {
      if (args.json) console.log(JSON.stringify(r));
      else printReport(r);
      process.exit(r.ok ? 0 : 1);
    })
    .catch((err: Error) => {
      console.error(`db:copy: ${err instanceof RefusedError ? 'refused: ' : 'failed, nothing committed: '}${err.message}`);
      process.exit(err instanceof RefusedError ? 2 : 1);
    });
}
