import { boolean, index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { users } from './auth.js';
import { bigNumber, createdAt, id, isoTimestamp } from './common.js';
import { agendaItems, meetings } from './meetings.js';

/** PostgreSQL twin of ../schema/documents.ts. */
export const documents = pgTable(
  'documents',
  {
    id: id(),
    meetingId: integer()
      .notNull()
      .references(() => meetings.id, { onDelete: 'cascade' }),
    agendaItemId: integer()
      .notNull()
      .references(() => agendaItems.id, { onDelete: 'cascade' }),
    title: text().notNull(),
    position: integer().notNull(),
    access: text({ enum: ['all', 'named', 'confidential'] }).notNull().default('all'),
    published: boolean().notNull().default(true),
    offlineAllowed: boolean().notNull().default(false),
    currentVersionId: integer(),
    createdBy: integer().references(() => users.id),
    createdAt: createdAt(),
    removedAt: isoTimestamp(),
  },
  (t) => [index('documents_item_idx').on(t.agendaItemId, t.position), index('documents_meeting_idx').on(t.meetingId)],
);

export const documentVersions = pgTable(
  'document_versions',
  {
    id: id(),
    documentId: integer()
      .notNull()
      .references(() => documents.id, { onDelete: 'cascade' }),
    version: integer().notNull(),
    sha256: text().notNull(),
    fileName: text().notNull(),
    /** Bytes: may pass 2 GiB. */
    size: bigNumber().notNull(),
    pageCount: integer().notNull(),
    uploadedBy: integer().references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [index('document_versions_doc_idx').on(t.documentId, t.version), index('document_versions_sha_idx').on(t.sha256)],
);

export const documentPages = pgTable(
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

export const documentViewers = pgTable(
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
