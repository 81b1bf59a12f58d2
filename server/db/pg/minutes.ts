import { index, integer, json, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { users } from './auth.js';
import { bytea, createdAt, id, isoTimestamp } from './common.js';
import { meetings } from './meetings.js';

/**
 * PostgreSQL twin of ../schema/minutes.ts. `content` is `json`, not `jsonb`: `contentHash` is the hash of
 * the frozen content, and jsonb would hand back its keys reordered.
 */
export const minutesVersions = pgTable(
  'minutes_versions',
  {
    id: id(),
    meetingId: integer()
      .notNull()
      .references(() => meetings.id, { onDelete: 'cascade' }),
    version: integer().notNull(),
    number: text().notNull(),
    content: json().$type<unknown>().notNull(),
    contentHash: text().notNull(),
    pdf: bytea().notNull(),
    pdfHash: text().notNull(),
    status: text({ enum: ['finalized', 'signed', 'superseded'] }).notNull().default('finalized'),
    finalizedBy: integer().references(() => users.id),
    finalizedAt: createdAt(),
    publishedAt: isoTimestamp(),
  },
  (t) => [uniqueIndex('minutes_versions_meeting_version_idx').on(t.meetingId, t.version)],
);

export const minutesSignatures = pgTable(
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

export const minutesAcks = pgTable(
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
