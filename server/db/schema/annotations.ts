import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import type { AnnotationItem } from '../../../shared/protocol/annotations.js';

/**
 * Relational projection of the annotation layer docs (the Yjs docs stay the source of truth):
 * one row per item per document version, rewritten by the Yjs hub's change hook. It feeds the
 * "my annotations" list and the annotated-copy export. `ownerId` is the private layer's owner, or
 * for a shared item its author: every query filters on it (private rows) or on document access
 * (shared rows), so no one reads another person's private layer through it.
 */
export const annotationItems = sqliteTable(
  'annotation_items',
  {
    docName: text().notNull(),
    versionId: integer().notNull(),
    itemId: text().notNull(),
    documentId: integer().notNull(),
    layer: text({ enum: ['private', 'shared'] }).notNull(),
    /** Shared layers only: the meeting of the layer. */
    meetingId: integer(),
    ownerId: integer().notNull(),
    /** Shared items: the id of the item in its author's private layer. */
    sourceId: text(),
    kind: text({ enum: ['highlight', 'ink', 'note'] }).notNull(),
    page: integer().notNull(),
    /** The quote of a highlight, or a note's text; empty for ink. */
    text: text().notNull(),
    color: text().notNull(),
    status: text({ enum: ['ok', 'changed', 'orphaned'] }),
    updatedAt: integer().notNull(),
    data: text({ mode: 'json' }).$type<AnnotationItem>().notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.docName, t.versionId, t.itemId] }),
    index('annotation_items_owner_idx').on(t.ownerId, t.documentId, t.versionId),
    index('annotation_items_version_idx').on(t.versionId),
  ],
);
