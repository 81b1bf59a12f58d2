import { boolean, index, integer, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import type { QuorumRule } from '../../../shared/protocol/meetings.js';
import { users } from './auth.js';
import { committees, rooms } from './committees.js';
import { createdAt, id, isoTimestamp } from './common.js';

/** PostgreSQL twin of ../schema/meetings.ts. */
export const meetings = pgTable(
  'meetings',
  {
    id: id(),
    committeeId: integer()
      .notNull()
      .references(() => committees.id),
    title: text().notNull(),
    description: text().notNull().default(''),
    startsAt: isoTimestamp().notNull(),
    endsAt: isoTimestamp().notNull(),
    roomId: integer().references(() => rooms.id),
    mode: text({ enum: ['in_person', 'hybrid', 'online'] }).notNull().default('in_person'),
    quorumRule: jsonb().$type<QuorumRule>().notNull(),
    status: text({ enum: ['draft', 'published', 'live', 'paused', 'closed'] }).notNull().default('draft'),
    version: integer().notNull().default(0),
    agendaVersion: integer().notNull().default(0),
    publishedAt: isoTimestamp(),
    createdBy: integer().references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [index('meetings_committee_idx').on(t.committeeId), index('meetings_starts_idx').on(t.startsAt)],
);

export const meetingParticipants = pgTable(
  'meeting_participants',
  {
    meetingId: integer()
      .notNull()
      .references(() => meetings.id, { onDelete: 'cascade' }),
    userId: integer()
      .notNull()
      .references(() => users.id),
    role: text({ enum: ['chair', 'secretary', 'member', 'guest'] }).notNull(),
    canVote: boolean().notNull(),
    invitedAt: isoTimestamp(),
  },
  (t) => [primaryKey({ columns: [t.meetingId, t.userId] }), index('participants_user_idx').on(t.userId)],
);

export const agendaItems = pgTable(
  'agenda_items',
  {
    id: id(),
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

export const notifications = pgTable(
  'notifications',
  {
    id: id(),
    userId: integer()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    kind: text().notNull(),
    meetingId: integer().references(() => meetings.id, { onDelete: 'cascade' }),
    data: jsonb().$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
    readAt: isoTimestamp(),
  },
  (t) => [index('notifications_user_idx').on(t.userId, t.readAt)],
);
