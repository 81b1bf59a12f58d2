import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

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
