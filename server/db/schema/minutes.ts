import { blob, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt } from './common.js';
import { users } from './auth.js';
import { meetings } from './meetings.js';

/**
 * A finalized, frozen version of a meeting's minutes: the content as rendered, and the PDF as
 * signed so far (each signature is an incremental update of `pdf`). A newer version supersedes it.
 */
export const minutesVersions = sqliteTable(
  'minutes_versions',
  {
    id: integer().primaryKey({ autoIncrement: true }),
    meetingId: integer()
      .notNull()
      .references(() => meetings.id, { onDelete: 'cascade' }),
    version: integer().notNull(),
    number: text().notNull(),
    /** The frozen content (blocks) and its SHA-256: finalizing unchanged content twice is refused. */
    content: text({ mode: 'json' }).$type<unknown>().notNull(),
    contentHash: text().notNull(),
    pdf: blob({ mode: 'buffer' }).notNull(),
    /** SHA-256 of `pdf` as it is now; a signer names the hash they reviewed. */
    pdfHash: text().notNull(),
    status: text({ enum: ['finalized', 'signed', 'superseded'] }).notNull().default('finalized'),
    finalizedBy: integer().references(() => users.id),
    finalizedAt: createdAt(),
    publishedAt: text(),
  },
  (t) => [uniqueIndex('minutes_versions_meeting_version_idx').on(t.meetingId, t.version)],
);

export const minutesSignatures = sqliteTable(
  'minutes_signatures',
  {
    versionId: integer()
      .notNull()
      .references(() => minutesVersions.id, { onDelete: 'cascade' }),
    role: text({ enum: ['chair', 'secretary'] }).notNull(),
    userId: integer()
      .notNull()
      .references(() => users.id),
    certSubject: text().notNull(),
    signedAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.versionId, t.role] })],
);

export const minutesAcks = sqliteTable(
  'minutes_acks',
  {
    versionId: integer()
      .notNull()
      .references(() => minutesVersions.id, { onDelete: 'cascade' }),
    userId: integer()
      .notNull()
      .references(() => users.id),
    at: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.versionId, t.userId] }), index('minutes_acks_user_idx').on(t.userId)],
);
