import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import type { QuorumRule } from '../../../shared/protocol/meetings.js';
import { createdAt } from './common.js';
import { users } from './auth.js';
import { committees, rooms } from './committees.js';

export const meetings = sqliteTable(
  'meetings',
  {
    id: integer().primaryKey({ autoIncrement: true }),
    committeeId: integer()
      .notNull()
      .references(() => committees.id),
    title: text().notNull(),
    description: text().notNull().default(''),
    startsAt: text().notNull(),
    endsAt: text().notNull(),
    roomId: integer().references(() => rooms.id),
    mode: text({ enum: ['in_person', 'hybrid', 'online'] }).notNull().default('in_person'),
    quorumRule: text({ mode: 'json' }).$type<QuorumRule>().notNull(),
    status: text({ enum: ['draft', 'published', 'live', 'paused', 'closed'] }).notNull().default('draft'),
    /** Optimistic concurrency for the meeting's own fields. */
    version: integer().notNull().default(0),
    /** Optimistic concurrency for the agenda as a whole. */
    agendaVersion: integer().notNull().default(0),
    publishedAt: text(),
    createdBy: integer().references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [index('meetings_committee_idx').on(t.committeeId), index('meetings_starts_idx').on(t.startsAt)],
);

export const meetingParticipants = sqliteTable(
  'meeting_participants',
  {
    meetingId: integer()
      .notNull()
      .references(() => meetings.id, { onDelete: 'cascade' }),
    userId: integer()
      .notNull()
      .references(() => users.id),
    role: text({ enum: ['chair', 'secretary', 'member', 'guest'] }).notNull(),
    canVote: integer({ mode: 'boolean' }).notNull(),
    /** When the invitation went out (set on publish, or on being added to a published meeting). */
    invitedAt: text(),
  },
  (t) => [primaryKey({ columns: [t.meetingId, t.userId] }), index('participants_user_idx').on(t.userId)],
);

export const agendaItems = sqliteTable(
  'agenda_items',
  {
    id: integer().primaryKey({ autoIncrement: true }),
    meetingId: integer()
      .notNull()
      .references(() => meetings.id, { onDelete: 'cascade' }),
    parentId: integer(),
    position: integer().notNull(),
    title: text().notNull(),
    description: text().notNull().default(''),
    presenterId: integer().references(() => users.id),
    durationMinutes: integer(),
    status: text({ enum: ['pending', 'current', 'done', 'deferred'] }).notNull().default('pending'),
    createdAt: createdAt(),
  },
  (t) => [index('agenda_meeting_idx').on(t.meetingId, t.parentId, t.position)],
);

export const notifications = sqliteTable(
  'notifications',
  {
    id: integer().primaryKey({ autoIncrement: true }),
    userId: integer()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    kind: text().notNull(),
    meetingId: integer().references(() => meetings.id, { onDelete: 'cascade' }),
    data: text({ mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
    readAt: text(),
  },
  (t) => [index('notifications_user_idx').on(t.userId, t.readAt)],
);
