import { bigint, index, pgTable, text } from 'drizzle-orm/pg-core';
import { bytea, createdAt } from './common.js';

/**
 * PostgreSQL twin of ../schema/yjs.ts. The id is a `bigint` identity: the append-only update log is the
 * fastest-growing id of all (compaction deletes rows, never ids), and 2^31 updates is within reach of a
 * busy installation over years. Number mode: exact up to 2^53.
 */
export const yjsUpdates = pgTable(
  'yjs_updates',
  {
    id: bigint({ mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    docName: text().notNull(),
    data: bytea().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('yjs_updates_doc_idx').on(t.docName, t.id)],
);
