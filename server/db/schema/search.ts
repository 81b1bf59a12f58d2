import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * One searchable unit (an agenda item, one page of a document, later minutes and conclusions).
 * `kind` + `refId` name the thing; `meetingId` scopes access; `page` is 1-based for documents.
 * The FTS5 table `search_fts` (custom migration) holds `foldText(title + body)` under the same rowid.
 */
export const searchEntries = sqliteTable(
  'search_entries',
  {
    id: integer().primaryKey({ autoIncrement: true }),
    kind: text().notNull(),
    refId: integer().notNull(),
    meetingId: integer(),
    page: integer(),
    title: text().notNull(),
    body: text().notNull(),
  },
  (t) => [index('search_entries_ref_idx').on(t.kind, t.refId), index('search_entries_meeting_idx').on(t.meetingId)],
);

/**
 * One searchable *thing* (a whole document, an agenda item, a meeting, minutes): the unit search
 * matches and ranks, so the words of a query may sit on different pages of one document and a
 * 451-page pack counts once. Written beside its `search_entries` by `replaceIndexed`. The FTS5 table
 * `search_groups_fts` (custom migration) holds `foldText(title)` and `foldText(all bodies)` as two
 * columns under the same rowid, so title matches can weigh more.
 */
export const searchGroups = sqliteTable(
  'search_groups',
  {
    id: integer().primaryKey({ autoIncrement: true }),
    kind: text().notNull(),
    refId: integer().notNull(),
    meetingId: integer(),
    title: text().notNull(),
  },
  (t) => [uniqueIndex('search_groups_ref_idx').on(t.kind, t.refId), index('search_groups_meeting_idx').on(t.meetingId)],
);
