import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { users } from './auth.js';
import { committees } from './committees.js';
import { bigNumber, createdAt, id, isoTimestamp } from './common.js';
import { agendaItems, meetings } from './meetings.js';

/** PostgreSQL twin of ../schema/tasks.ts. */
export const conclusions = pgTable(
  'conclusions',
  {
    id: id(),
    meetingId: integer()
      .notNull()
      .references(() => meetings.id, { onDelete: 'cascade' }),
    agendaItemId: integer()
      .notNull()
      .references(() => agendaItems.id, { onDelete: 'cascade' }),
    text: text().notNull(),
    kind: text({ enum: ['decision', 'assignment', 'note'] }).notNull().default('decision'),
    updatedBy: integer().references(() => users.id),
    updatedAt: createdAt(),
  },
  (t) => [index('conclusions_item_idx').on(t.agendaItemId), index('conclusions_meeting_idx').on(t.meetingId)],
);

export const tasks = pgTable(
  'tasks',
  {
    id: id(),
    committeeId: integer()
      .notNull()
      .references(() => committees.id),
    meetingId: integer().references(() => meetings.id, { onDelete: 'set null' }),
    agendaItemId: integer().references(() => agendaItems.id, { onDelete: 'set null' }),
    conclusionId: integer().references(() => conclusions.id, { onDelete: 'set null' }),
    title: text().notNull(),
    description: text().notNull().default(''),
    expectedResult: text().notNull().default(''),
    ownerUserId: integer().references(() => users.id),
    ownerUnit: text(),
    deadline: isoTimestamp().notNull(),
    status: text({ enum: ['open', 'in_progress', 'done_reported', 'done', 'cancelled'] }).notNull().default('open'),
    version: integer().notNull().default(0),
    createdBy: integer().references(() => users.id),
    createdAt: createdAt(),
    updatedAt: createdAt(),
  },
  (t) => [
    index('tasks_committee_idx').on(t.committeeId, t.status, t.deadline),
    index('tasks_owner_user_idx').on(t.ownerUserId),
    index('tasks_owner_unit_idx').on(t.ownerUnit),
    check('tasks_one_owner', sql`(${t.ownerUserId} is null) <> (${t.ownerUnit} is null)`),
  ],
);

export const taskCoUnits = pgTable(
  'task_co_units',
  {
    taskId: integer()
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    unit: text().notNull(),
  },
  (t) => [primaryKey({ columns: [t.taskId, t.unit] }), index('task_co_units_unit_idx').on(t.unit)],
);

export const taskEvents = pgTable(
  'task_events',
  {
    id: id(),
    taskId: integer()
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    actorId: integer().references(() => users.id),
    kind: text({ enum: ['created', 'status', 'progress', 'edited'] }).notNull(),
    fromStatus: text(),
    toStatus: text(),
    comment: text().notNull().default(''),
    percent: integer(),
    at: createdAt(),
  },
  (t) => [index('task_events_task_idx').on(t.taskId, t.id)],
);

export const taskAttachments = pgTable(
  'task_attachments',
  {
    id: id(),
    taskId: integer()
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    eventId: integer()
      .notNull()
      .references(() => taskEvents.id, { onDelete: 'cascade' }),
    sha256: text().notNull(),
    fileName: text().notNull(),
    contentType: text().notNull(),
    /** Bytes: may pass 2 GiB. */
    size: bigNumber().notNull(),
    uploadedBy: integer().references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [index('task_attachments_event_idx').on(t.eventId), index('task_attachments_task_idx').on(t.taskId), index('task_attachments_sha_idx').on(t.sha256)],
);
