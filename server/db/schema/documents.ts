import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { users } from './auth.js';
import { createdAt } from './common.js';
import { agendaItems, meetings } from './meetings.js';

/**
 * A document attached to an agenda item. Its bytes live in `document_versions` (one row per
 * upload; the newest is `currentVersionId`). Removal is soft (`removedAt`) so audit entries,
 * annotations and old versions keep their target.
 */
export const documents = sqliteTable(
  'documents',
  {
    id: integer().primaryKey({ autoIncrement: true }),
    meetingId: integer()
      .notNull()
      .references(() => meetings.id, { onDelete: 'cascade' }),
    agendaItemId: integer()
      .notNull()
      .references(() => agendaItems.id, { onDelete: 'cascade' }),
    title: text().notNull(),
    /** Order among the item's documents. */
    position: integer().notNull(),
    /** all: every participant · named: listed viewers · confidential: listed viewers, view only. */
    access: text({ enum: ['all', 'named', 'confidential'] }).notNull().default('all'),
    /** Published documents are visible to participants once the meeting is; unpublished ones to managers only. */
    published: integer({ mode: 'boolean' }).notNull().default(true),
    /**
     * A confidential (view-only) document may still be kept on a member's tablet for offline reading
     * when the secretary allows it; otherwise only documents the member may download are stored offline.
     */
    offlineAllowed: integer({ mode: 'boolean' }).notNull().default(false),
    currentVersionId: integer(),
    createdBy: integer().references(() => users.id),
    createdAt: createdAt(),
    removedAt: text(),
  },
  (t) => [index('documents_item_idx').on(t.agendaItemId, t.position), index('documents_meeting_idx').on(t.meetingId)],
);

/** One uploaded file of a document. Bytes: `<dataDir>/files/<sha256[0..2]>/<sha256>`. */
export const documentVersions = sqliteTable(
  'document_versions',
  {
    id: integer().primaryKey({ autoIncrement: true }),
    documentId: integer()
      .notNull()
      .references(() => documents.id, { onDelete: 'cascade' }),
    version: integer().notNull(),
    sha256: text().notNull(),
    fileName: text().notNull(),
    size: integer().notNull(),
    pageCount: integer().notNull(),
    uploadedBy: integer().references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [index('document_versions_doc_idx').on(t.documentId, t.version), index('document_versions_sha_idx').on(t.sha256)],
);

/** Extracted text per page of a version (search index source and the /text endpoint). */
export const documentPages = sqliteTable(
  'document_pages',
  {
    versionId: integer()
      .notNull()
      .references(() => documentVersions.id, { onDelete: 'cascade' }),
    page: integer().notNull(),
    text: text().notNull(),
  },
  (t) => [primaryKey({ columns: [t.versionId, t.page] })],
);

/** Named viewers of a `named` or `confidential` document. */
export const documentViewers = sqliteTable(
  'document_viewers',
  {
    documentId: integer()
      .notNull()
      .references(() => documents.id, { onDelete: 'cascade' }),
    userId: integer()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.documentId, t.userId] }), index('document_viewers_user_idx').on(t.userId)],
);
