import { index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { id, tsvector } from './common.js';

/*
 * PostgreSQL twin of ../schema/search.ts. SQLite keeps the full-text index in two FTS5 virtual tables
 * (`search_fts`, `search_groups_fts`; custom migrations 0003 and 0018) that share the rowid of these
 * rows. PostgreSQL has no rowid and no FTS5: the index is a `tsvector` column of the row itself with a
 * GIN index, so a row and its index entry are written (and deleted) together.
 *
 * The folding stays the app's `foldText` (NFD, marks stripped, đ→d, lowercase) on both the indexed text
 * and the query, cut into words where FTS5 cuts them (`ftsWords`), so both stores match the same words: the
 * indexer writes `to_tsvector('simple', ftsWords(title) || ' ' || ftsWords(body))`, and for groups
 * `setweight(to_tsvector('simple', ftsWords(title)), 'A') || setweight(to_tsvector('simple', ftsWords(bodies)), 'B')`
 * (FTS5's bm25 title weight becomes ts_rank_cd's A/B weights; matching and ranking: server/search/search.repo.ts). Why not `lower(unaccent(…))` in SQL: measured
 * on PostgreSQL 15 over the Latin letters (U+0041–U+024F, U+1E00–U+1EFF, 708 code points) it equals
 * foldText on every Vietnamese letter, đ included, but differs on 123 others (æ→ae, ß→ss, ø→o, ł→l …:
 * unaccent expands or strips what foldText keeps, and foldText must keep offsets aligned for snippets), so
 * the same query would find different documents on the two stores (test/helpers/search-contract.ts proves
 * they find the same). These columns are the only PostgreSQL-only
 * columns (listed in the drift test).
 */
export const searchEntries = pgTable(
  'search_entries',
  {
    id: id(),
    kind: text().notNull(),
    refId: integer().notNull(),
    meetingId: integer(),
    page: integer(),
    title: text().notNull(),
    body: text().notNull(),
    /** PostgreSQL only: the FTS5 `search_fts` row of SQLite. */
    fts: tsvector().notNull(),
  },
  (t) => [
    index('search_entries_ref_idx').on(t.kind, t.refId),
    index('search_entries_meeting_idx').on(t.meetingId),
    index('search_entries_fts_idx').using('gin', t.fts),
  ],
);

export const searchGroups = pgTable(
  'search_groups',
  {
    id: id(),
    kind: text().notNull(),
    refId: integer().notNull(),
    meetingId: integer(),
    title: text().notNull(),
    /** PostgreSQL only: the FTS5 `search_groups_fts` row of SQLite (title weighted A, bodies B). */
    fts: tsvector().notNull(),
  },
  (t) => [
    uniqueIndex('search_groups_ref_idx').on(t.kind, t.refId),
    index('search_groups_meeting_idx').on(t.meetingId),
    index('search_groups_fts_idx').using('gin', t.fts),
  ],
);
