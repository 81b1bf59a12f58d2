import { index, integer, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import type { AnnotationItem } from '../../../shared/protocol/annotations.js';
import { bigNumber } from './common.js';

/** PostgreSQL twin of ../schema/annotations.ts. */
export const annotationItems = pgTable(
  'annotation_items',
  {
    docName: text().notNull(),
    versionId: integer().notNull(),
    itemId: text().notNull(),
    documentId: integer().notNull(),
    layer: text({ enum: ['private', 'shared'] }).notNull(),
    meetingId: integer(),
    ownerId: integer().notNull(),
    sourceId: text(),
    kind: text({ enum: ['highlight', 'ink', 'note'] }).notNull(),
    page: integer().notNull(),
    text: text().notNull(),
    color: text().notNull(),
    status: text({ enum: ['ok', 'changed', 'orphaned'] }),
    /** Milliseconds since the epoch (the Yjs item's own clock), as on SQLite. */
    updatedAt: bigNumber().notNull(),
    data: jsonb().$type<AnnotationItem>().notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.docName, t.versionId, t.itemId] }),
    index('annotation_items_owner_idx').on(t.ownerId, t.documentId, t.versionId),
    index('annotation_items_version_idx').on(t.versionId),
  ],
);
