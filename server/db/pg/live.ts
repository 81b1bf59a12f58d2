import { boolean, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { users } from './auth.js';
import { bigNumber, id, isoTimestamp } from './common.js';
import { agendaItems, meetings } from './meetings.js';

/** PostgreSQL twin of ../schema/live.ts. */
export const attendance = pgTable(
  'attendance',
  {
    meetingId: integer()
      .notNull()
      .references(() => meetings.id, { onDelete: 'cascade' }),
    userId: integer()
      .notNull()
      .references(() => users.id),
    status: text({ enum: ['in_room', 'remote', 'absent', 'proxy'] }).notNull(),
    reason: text(),
    proxyHolderId: integer().references(() => users.id),
    proxyKind: text({ enum: ['vote', 'substitute'] }),
    recordedBy: integer()
      .notNull()
      .references(() => users.id),
    updatedAt: isoTimestamp().notNull(),
  },
  (t) => [primaryKey({ columns: [t.meetingId, t.userId] })],
);

/** `requestedAt`, `startedAt`, `endedAt`: ms of the server clock (bigint); `spokenMs` a duration. */
export const speakerRequests = pgTable(
  'speaker_requests',
  {
    id: id(),
    meetingId: integer()
      .notNull()
      .references(() => meetings.id, { onDelete: 'cascade' }),
    agendaItemId: integer().references(() => agendaItems.id, { onDelete: 'set null' }),
    userId: integer()
      .notNull()
      .references(() => users.id),
    kind: text({ enum: ['speech', 'question', 'point_of_order'] }).notNull(),
    status: text({ enum: ['waiting', 'speaking', 'done', 'withdrawn', 'removed'] }).notNull(),
    position: integer().notNull(),
    requestedAt: bigNumber().notNull(),
    startedAt: bigNumber(),
    endedAt: bigNumber(),
    allottedSeconds: integer(),
    spokenMs: bigNumber().notNull().default(0),
  },
  (t) => [index('speaker_requests_meeting_idx').on(t.meetingId, t.status)],
);

export const liveState = pgTable('live_state', {
  meetingId: integer()
    .primaryKey()
    .references(() => meetings.id, { onDelete: 'cascade' }),
  openedAt: isoTimestamp(),
  openOverrideReason: text(),
  closedAt: isoTimestamp(),
  presenterId: integer().references(() => users.id),
  documentId: integer(),
  page: integer(),
  zoom: doublePrecision(),
  floorOpenDiscussion: boolean(),
  floorChairMuted: jsonb().$type<number[]>(),
});
