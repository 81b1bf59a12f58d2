import { blob, index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt } from './common.js';

/**
 * Append-only log of Yjs updates per collaborative document (the Yjs hub's persistence).
 * A document's state is all its rows applied in id order; compaction replaces them with one row
 * holding the re-encoded state. Written with prepared statements on the hot path.
 */
export const yjsUpdates = sqliteTable(
  'yjs_updates',
  {
    id: integer().primaryKey({ autoIncrement: true }),
    docName: text().notNull(),
    data: blob({ mode: 'buffer' }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('yjs_updates_doc_idx').on(t.docName, t.id)],
);
