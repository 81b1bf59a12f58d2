import { index, integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { users } from './auth.js';
import { agendaItems, meetings } from './meetings.js';

/**
 * Attendance of one participant in one meeting. `status`: checked in `in_room` or `remote`,
 * `absent` (with `reason`), or `proxy` — represented by `proxyHolderId` (ủy quyền). No row = not yet known.
 */
export const attendance = sqliteTable(
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
    /**
     * With status `proxy`: `vote` = a vote proxy (ủy quyền biểu quyết) to a member with a voting right;
     * `substitute` = an attendance substitute (cử người dự thay) who may speak and, where the committee
     * says so, counts for presence or votes. `reason` holds the paper authorization's reason.
     */
    proxyKind: text({ enum: ['vote', 'substitute'] }),
    /** Who recorded it: the participant themself or the secretary. */
    recordedBy: integer()
      .notNull()
      .references(() => users.id),
    updatedAt: text().notNull(),
  },
  (t) => [primaryKey({ columns: [t.meetingId, t.userId] })],
);

/**
 * Requests for the floor, per agenda item, and the speaking turns they became. `position` orders the
 * waiting list (points of order first); `startedAt`/`endedAt` are ms timestamps of the server clock.
 */
export const speakerRequests = sqliteTable(
  'speaker_requests',
  {
    id: integer().primaryKey({ autoIncrement: true }),
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
    requestedAt: integer().notNull(),
    startedAt: integer(),
    endedAt: integer(),
    allottedSeconds: integer(),
    spokenMs: integer().notNull().default(0),
  },
  (t) => [index('speaker_requests_meeting_idx').on(t.meetingId, t.status)],
);

/** Live state of a meeting that is not a column elsewhere: opening, overrides, what the presenter shows. */
export const liveState = sqliteTable('live_state', {
  meetingId: integer()
    .primaryKey()
    .references(() => meetings.id, { onDelete: 'cascade' }),
  openedAt: text(),
  /** Set when the chair opened without a quorum: the recorded reason. */
  openOverrideReason: text(),
  closedAt: text(),
  presenterId: integer().references(() => users.id),
  documentId: integer(),
  page: integer(),
  /** The presenter's zoom relative to fit-to-width (1 = fit width); null on rows written before it existed = 1. */
  zoom: real(),
  /**
   * The A/V floor the chair set (server/sfu): open discussion on, and whose microphones the chair muted. Kept here,
   * not only in the owner node's memory, so the next owner after a failover enforces the same (#18); null = off / none.
   */
  floorOpenDiscussion: integer({ mode: 'boolean' }),
  floorChairMuted: text({ mode: 'json' }).$type<number[]>(),
});
