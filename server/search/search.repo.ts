import type Database from 'better-sqlite3';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { foldText, ftsWords, normalizeText } from '../../shared/rules/fold.js';
import * as pg from '../db/pg/index.js';
import type { Store } from '../db/store.js';

/*
 * The full-text index's dialect-specific SQL (issue #17). On SQLite the index is two FTS5 virtual tables
 * (`search_fts`, `search_groups_fts`, custom migrations) sharing the rowid of `search_entries` /
 * `search_groups`, matched with FTS5 query syntax and ranked by bm25. On PostgreSQL it is a `tsvector`
 * column of the row itself (server/db/pg/search.ts, GIN-indexed), written here with the row, matched with
 * `to_tsquery('simple', …)` and ranked by ts_rank_cd. Both hold our own folding (`foldText`: marks
 * stripped, đ→d, lowercase) cut into the same words (`ftsWords`: runs of letters and digits, as FTS5's
 * unicode61 tokenizer cuts), and both run the same query shape (`FtsQuery`), so the same query finds the
 * same things on both (test/integration/search-dialects.*.test.ts).
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
  const title = ftsWords(rows[0].title);
  const body = rows.map((x) => ftsWords(x.body)).join(' ');
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
    await q.insert(e).values({ kind, refId, meetingId: r.meetingId, page: r.page ?? null, title, body, fts: sql`to_tsvector('simple', ${`${ftsWords(title)} ${ftsWords(body)}`})` });
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
// Matching: one query shape, FTS5 MATCH on SQLite, tsquery on PostgreSQL
// ---------------------------------------------------------------------------------------------

/**
 * A full-text condition both stores run the same way: every phrase (or, with `any`, at least one) must
 * occur, in the title only (`title`, groups only) or anywhere. A phrase is one or more folded words that
 * must follow each other; a one-word phrase is a word. Words are letters and digits only (they come from
 * `parseSearchQuery` / `queryTerms`), so neither rendering below can carry query syntax typed by a user;
 * both still check it and refuse anything else.
 */
export interface FtsQuery {
  phrases: string[][];
  any?: boolean;
  title?: boolean;
}

const WORD_ONLY = /^[\p{L}\p{N}]+$/u;

function checked(q: FtsQuery): string[][] {
  const phrases = q.phrases.filter((p) => p.length);
  for (const p of phrases) for (const w of p) if (!WORD_ONLY.test(w) || foldText(w) !== w) throw new Error(`search: not a folded word: ${JSON.stringify(w)}`);
  return phrases;
}

/** The FTS5 MATCH expression of `q`: `"a b"` phrases, juxtaposed (AND) or joined by OR, `{title} : (…)` for the title column. */
export function fts5Match(q: FtsQuery): string {
  const body = checked(q)
    .map((p) => `"${p.join(' ')}"`)
    .join(q.any ? ' OR ' : ' ');
  return q.title ? `{title} : (${body})` : body;
}

/**
 * The `to_tsquery('simple', …)` text of `q`: words quoted (`'a'`), phrases with `<->` (adjacent, as FTS5's
 * phrases), `&` / `|` between them. On a group's vector the title's lexemes carry weight A and the text's B
 * (as FTS5's two columns), so `title` restricts every word to `:A`, and a phrase anywhere is the phrase in
 * the title or in the text (`(… :A) | (… :B)`): like an FTS5 phrase, it never spans the two columns.
 * Entries' vectors have no weights (`grouped` false): one column, as `search_fts`.
 */
export function pgTsQuery(q: FtsQuery, grouped: boolean): string {
  const phrase = (p: string[], w: string) => p.map((x) => `'${x}'${w}`).join(' <-> ');
  const parts = checked(q).map((p) => {
    if (q.title) return `(${phrase(p, ':A')})`;
    if (!grouped || p.length === 1) return `(${phrase(p, '')})`;
    return `((${phrase(p, ':A')}) | (${phrase(p, ':B')}))`;
  });
  return parts.join(q.any ? ' | ' : ' & ');
}

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

/** The PostgreSQL `tsquery` of `q`, as a parameter (never spliced into the SQL). */
const tsq = (q: FtsQuery, grouped: boolean) => sql`to_tsquery('simple', ${pgTsQuery(q, grouped)})`;

/**
 * ts_rank_cd's normalisation on PostgreSQL: 1 divides by 1 + log(length), the counterpart of bm25's length
 * normalisation (a 451-page pack does not outrank short documents about the query by sheer repetition).
 */
const PG_NORMALIZATION = 1;

/**
 * The best `limit` groups matching `match` within `scope`, ranked with the title weighted ×`titleWeight`:
 * bm25 on SQLite, ts_rank_cd on PostgreSQL (weights A = 1, B = 1/titleWeight; negated so that lower is
 * better on both).
 */
export async function matchGroups(store: Store, match: FtsQuery, scope: SearchScope, titleWeight: number, limit: number): Promise<RankedGroup[]> {
  if (store.dialect === 'postgres') {
    const inScope =
      scope.meetings === null
        ? sql``
        : sql`and (g.meeting_id = any(${sql.param(scope.meetings)}::int[])
                   or (g.kind, g.ref_id) in (select k, r from unnest(${sql.param(scope.granted.map((x) => x[0]))}::text[], ${sql.param(scope.granted.map((x) => x[1]))}::int[]) as u(k, r)))`;
    const weights = `{0,0,${1 / titleWeight},1}`;
    const { rows } = await pgq(store).execute<{ id: number; kind: string; refId: number; meetingId: number | null; title: string; score: number }>(
      sql`select g.id, g.kind, g.ref_id as "refId", g.meeting_id as "meetingId", g.title,
                 -ts_rank_cd(${weights}::float4[], g.fts, q.q, ${PG_NORMALIZATION}) as score
            from search_groups g, ${tsq(match, true)} as q(q)
           where g.fts @@ q.q ${inScope}
           order by score, g.id limit ${limit}`,
    );
    return rows.map((r) => ({ ...r, score: Number(r.score) }));
  }
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
        .all({ match: fts5Match(match), ...args }) as RankedGroup[],
  );
}

/** The ids of every group matching `match` (the whole index: intersect with candidates in JS). */
export async function groupsMatching(store: Store, match: FtsQuery): Promise<Set<number>> {
  if (store.dialect === 'postgres') {
    const { rows } = await pgq(store).execute<{ id: number }>(sql`select g.id from search_groups g where g.fts @@ ${tsq(match, true)}`);
    return new Set(rows.map((r) => r.id));
  }
  // FTS5 runs a `rowid IN (…)` constraint as one lookup per rowid, far slower than one pass over the result.
  return store.sqlite(
    (c) => new Set((c.prepare('select rowid as id from search_groups_fts where search_groups_fts match ?').all(fts5Match(match)) as { id: number }[]).map((r) => r.id)),
  );
}

/** Up to 24 pages of one thing matching `match`, best first (bm25 / ts_rank_cd, lower is better). */
export async function matchPages(store: Store, match: FtsQuery, kind: string, refId: number): Promise<{ page: number; body: string; score: number }[]> {
  if (store.dialect === 'postgres') {
    const { rows } = await pgq(store).execute<{ page: number; body: string; score: number }>(
      sql`select e.page, e.body, -ts_rank_cd(e.fts, q.q, ${PG_NORMALIZATION}) as score
            from search_entries e, ${tsq(match, false)} as q(q)
           where e.kind = ${kind} and e.ref_id = ${refId} and e.page is not null and e.fts @@ q.q
           order by score, e.page limit 24`,
    );
    return rows.map((r) => ({ ...r, score: Number(r.score) }));
  }
  return store.sqlite(
    (c) =>
      c
        .prepare(
          `select e.page, e.body, bm25(search_fts) as score from search_fts join search_entries e on e.id = search_fts.rowid
            where search_fts match ? and e.kind = ? and e.ref_id = ? and e.page is not null order by score limit 24`,
        )
        .all(fts5Match(match), kind, refId) as { page: number; body: string; score: number }[],
  );
}

/** The entries of one thing matching `match`, in page order. */
export async function matchEntries(store: Store, match: FtsQuery, kind: string, refId: number, limit: number): Promise<{ page: number | null; body: string }[]> {
  if (store.dialect === 'postgres') {
    const { rows } = await pgq(store).execute<{ page: number | null; body: string }>(
      // SQLite orders NULL pages first.
      sql`select e.page, e.body from search_entries e
           where e.kind = ${kind} and e.ref_id = ${refId} and e.fts @@ ${tsq(match, false)}
           order by e.page asc nulls first, e.id limit ${limit}`,
    );
    return rows;
  }
  return store.sqlite(
    (c) =>
      c
        .prepare(
          `select e.page, e.body from search_fts join search_entries e on e.id = search_fts.rowid
            where search_fts match ? and e.kind = ? and e.ref_id = ? order by e.page limit ?`,
        )
        .all(fts5Match(match), kind, refId, limit) as { page: number | null; body: string }[],
  );
}
