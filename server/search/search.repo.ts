import type Database from 'better-sqlite3';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { foldText, normalizeText } from '../../shared/rules/fold.js';
import * as pg from '../db/pg/index.js';
import type { Store } from '../db/store.js';

/*
 * The full-text index's dialect-specific SQL (issue #17). On SQLite the index is two FTS5 virtual tables
 * (`search_fts`, `search_groups_fts`, custom migrations) sharing the rowid of `search_entries` /
 * `search_groups`, matched with FTS5 query syntax and ranked by bm25; their text is our own folding
 * (`foldText`: marks stripped, đ→d, lowercase). On PostgreSQL the same folded text is a `tsvector`
 * column of the row itself (server/db/pg/search.ts), written here with the row.
 *
 * Writing the index works on both. Matching (the `match*` functions below) is SQLite only for now:
 * on PostgreSQL they throw (the tsvector queries are not written yet).
 */

/** One searchable unit as the indexer writes it (`IndexEntry` of search.service.ts). */
export interface IndexRow {
  kind: string;
  refId: number;
  /** Scopes access: hits are only considered in meetings the caller may see. Null = not meeting-bound. */
  meetingId: number | null;
  /** 1-based page (documents), else null. */
  page?: number | null;
  title: string;
  body: string;
}

const pgOnly = (what: string) => new Error(`search on PostgreSQL: ${what} is not written yet (issue #17); search runs on SQLite only`);

/** The PostgreSQL branch's builder: the store's, typed as node-postgres' over the twin tables (which carry `fts`). */
const pgq = (store: Store) => store.q as unknown as NodePgDatabase<typeof pg>;

// ---------------------------------------------------------------------------------------------
// Writing the index
// ---------------------------------------------------------------------------------------------

/**
 * SQLite: adds entries (their FTS rows too) and rebuilds the groups of the things they belong to.
 * Synchronous on the raw connection: run inside the caller's transaction.
 */
export function sqliteIndex(c: Database.Database, entries: IndexRow[]): void {
  if (!entries.length) return;
  const insEntry = c.prepare('insert into search_entries (kind, ref_id, meeting_id, page, title, body) values (?, ?, ?, ?, ?, ?)');
  const insFts = c.prepare('insert into search_fts (rowid, text) values (?, ?)');
  const things = new Map<string, [string, number]>();
  for (const e of entries) {
    const title = normalizeText(e.title);
    const body = normalizeText(e.body);
    const r = insEntry.run(e.kind, e.refId, e.meetingId, e.page ?? null, title, body);
    insFts.run(r.lastInsertRowid, foldText(title) + '\n' + foldText(body));
    things.set(`${e.kind}:${e.refId}`, [e.kind, e.refId]);
  }
  for (const [kind, refId] of things.values()) sqliteRebuildGroup(c, kind, refId);
}

/** SQLite: removes every entry of `kind` for the ref ids (FTS rows and groups too). */
export function sqliteRemove(c: Database.Database, kind: string, refIds: number[]): void {
  const ids = c.prepare('select id from search_entries where kind = ? and ref_id = ?');
  const delFts = c.prepare('delete from search_fts where rowid = ?');
  const delEntry = c.prepare('delete from search_entries where id = ?');
  for (const refId of refIds) {
    for (const row of ids.all(kind, refId) as { id: number }[]) {
      delFts.run(row.id);
      delEntry.run(row.id);
    }
    sqliteRebuildGroup(c, kind, refId);
  }
}

/**
 * SQLite: rewrites the `search_groups` row of one thing from its entries: its title and all its bodies
 * in page order, so matching and ranking work on the whole thing. No entries → no row.
 */
function sqliteRebuildGroup(c: Database.Database, kind: string, refId: number): void {
  const old = c.prepare('select id from search_groups where kind = ? and ref_id = ?').get(kind, refId) as { id: number } | undefined;
  if (old) {
    c.prepare('delete from search_groups_fts where rowid = ?').run(old.id);
    c.prepare('delete from search_groups where id = ?').run(old.id);
  }
  const rows = c.prepare('select meeting_id as meetingId, title, body from search_entries where kind = ? and ref_id = ? order by page, id').all(kind, refId) as {
    meetingId: number | null;
    title: string;
    body: string;
  }[];
  if (!rows.length) return;
  const title = rows[0].title;
  const r = c.prepare('insert into search_groups (kind, ref_id, meeting_id, title) values (?, ?, ?, ?)').run(kind, refId, rows[0].meetingId, title);
  c.prepare('insert into search_groups_fts (rowid, title, body) values (?, ?, ?)').run(r.lastInsertRowid, foldText(title), rows.map((x) => foldText(x.body)).join('\n'));
}

/** PostgreSQL: the group row of one thing from its entries, as `sqliteRebuildGroup` (title weighted A, bodies B). */
async function pgRebuildGroup(store: Store, kind: string, refId: number): Promise<void> {
  const q = pgq(store);
  const { searchEntries: e, searchGroups: g } = pg;
  await q.delete(g).where(and(eq(g.kind, kind), eq(g.refId, refId)));
  const rows = await q
    .select({ meetingId: e.meetingId, title: e.title, body: e.body })
    .from(e)
    .where(and(eq(e.kind, kind), eq(e.refId, refId)))
    // SQLite orders NULL pages first.
    .orderBy(sql`${e.page} asc nulls first`, asc(e.id));
  if (!rows.length) return;
  const title = foldText(rows[0].title);
  const body = rows.map((x) => foldText(x.body)).join('\n');
  await q.insert(g).values({
    kind,
    refId,
    meetingId: rows[0].meetingId,
    title: rows[0].title,
    fts: sql`setweight(to_tsvector('simple', ${title}), 'A') || setweight(to_tsvector('simple', ${body}), 'B')`,
  });
}

/** Removes every entry of `kind` for the ref ids, and their groups. Call inside the changing transaction. */
export async function removeIndexed(store: Store, kind: string, refIds: number[]): Promise<void> {
  if (!refIds.length) return;
  if (store.dialect === 'sqlite') return store.sqlite((c) => sqliteRemove(c, kind, refIds));
  const e = pg.searchEntries;
  await pgq(store).delete(e).where(and(eq(e.kind, kind), inArray(e.refId, refIds)));
  for (const refId of refIds) await pgRebuildGroup(store, kind, refId);
}

/** Replaces the entries of one thing (`kind`, `refId`) by `entries`. Call inside the changing transaction. */
export async function replaceIndexed(store: Store, kind: string, refId: number, entries: Omit<IndexRow, 'kind' | 'refId'>[]): Promise<void> {
  const rows = entries.map((e) => ({ ...e, kind, refId }));
  if (store.dialect === 'sqlite') {
    return store.sqlite((c) => {
      sqliteRemove(c, kind, [refId]);
      sqliteIndex(c, rows);
    });
  }
  const e = pg.searchEntries;
  const q = pgq(store);
  await q.delete(e).where(and(eq(e.kind, kind), eq(e.refId, refId)));
  for (const r of rows) {
    const title = normalizeText(r.title);
    const body = normalizeText(r.body);
    await q.insert(e).values({ kind, refId, meetingId: r.meetingId, page: r.page ?? null, title, body, fts: sql`to_tsvector('simple', ${foldText(title) + '\n' + foldText(body)})` });
  }
  await pgRebuildGroup(store, kind, refId);
}

/**
 * Builds the missing `search_groups` rows of things indexed before groups existed (once, at start;
 * a no-op afterwards). Returns how many were built.
 */
export async function ensureGroups(store: Store): Promise<number> {
  if (store.dialect === 'postgres') return 0; // every PostgreSQL database was filled with its groups (db:copy, the indexer)
  return store.tx(() =>
    store.sqlite((c) => {
      const missing = c
        .prepare('select distinct e.kind, e.ref_id as refId from search_entries e where not exists (select 1 from search_groups g where g.kind = e.kind and g.ref_id = e.ref_id)')
        .all() as { kind: string; refId: number }[];
      for (const m of missing) sqliteRebuildGroup(c, m.kind, m.refId);
      return missing.length;
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Matching (FTS5 query syntax; SQLite only for now)
// ---------------------------------------------------------------------------------------------

/** A ranked group: bm25 over the whole thing, title weighted (lower is better). */
export interface RankedGroup {
  id: number;
  kind: string;
  refId: number;
  meetingId: number | null;
  title: string;
  score: number;
}

/** Where search may look: every meeting (null), or these meetings plus these granted [kind, refId] things. */
export interface SearchScope {
  meetings: number[] | null;
  granted: [string, number][];
}

/** The best `limit` groups matching the FTS5 query `match` within `scope`, by bm25 (title ×`titleWeight`). */
export async function matchGroups(store: Store, match: string, scope: SearchScope, titleWeight: number, limit: number): Promise<RankedGroup[]> {
  if (store.dialect !== 'sqlite') throw pgOnly('ranking');
  const where =
    scope.meetings === null
      ? ''
      : `and (g.meeting_id in (select value from json_each(@meetings))
              or exists (select 1 from json_each(@granted) x where json_extract(x.value, '$[0]') = g.kind and json_extract(x.value, '$[1]') = g.ref_id))`;
  const args = scope.meetings === null ? {} : { meetings: JSON.stringify(scope.meetings), granted: JSON.stringify(scope.granted) };
  return store.sqlite(
    (c) =>
      c
        .prepare(
          `select g.id, g.kind, g.ref_id as refId, g.meeting_id as meetingId, g.title, bm25(search_groups_fts, ${titleWeight}, 1.0) as score
             from search_groups_fts join search_groups g on g.id = search_groups_fts.rowid
            where search_groups_fts match @match ${where}
            order by score limit ${limit}`,
        )
        .all({ match, ...args }) as RankedGroup[],
  );
}

/** The ids of every group matching the FTS5 query `match` (the whole index: intersect with candidates in JS). */
export async function groupsMatching(store: Store, match: string): Promise<Set<number>> {
  if (store.dialect !== 'sqlite') throw pgOnly('tiers');
  // FTS5 runs a `rowid IN (…)` constraint as one lookup per rowid, far slower than one pass over the result.
  return store.sqlite((c) => new Set((c.prepare('select rowid as id from search_groups_fts where search_groups_fts match ?').all(match) as { id: number }[]).map((r) => r.id)));
}

/** Up to 24 pages of one thing matching the FTS5 query `match`, by bm25. */
export async function matchPages(store: Store, match: string, kind: string, refId: number): Promise<{ page: number; body: string; score: number }[]> {
  if (store.dialect !== 'sqlite') throw pgOnly('best pages');
  return store.sqlite(
    (c) =>
      c
        .prepare(
          `select e.page, e.body, bm25(search_fts) as score from search_fts join search_entries e on e.id = search_fts.rowid
            where search_fts match ? and e.kind = ? and e.ref_id = ? and e.page is not null order by score limit 24`,
        )
        .all(match, kind, refId) as { page: number; body: string; score: number }[],
  );
}

/** The entries of one thing matching the FTS5 query `match`, in page order. */
export async function matchEntries(store: Store, match: string, kind: string, refId: number, limit: number): Promise<{ page: number | null; body: string }[]> {
  if (store.dialect !== 'sqlite') throw pgOnly('find in document');
  return store.sqlite(
    (c) =>
      c
        .prepare(
          `select e.page, e.body from search_fts join search_entries e on e.id = search_fts.rowid
            where search_fts match ? and e.kind = ? and e.ref_id = ? order by e.page limit ?`,
        )
        .all(match, kind, refId, limit) as { page: number | null; body: string }[],
  );
}
