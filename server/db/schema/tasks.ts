import { sql } from 'drizzle-orm';
import { check, index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt } from './common.js';
import { users } from './auth.js';
import { committees } from './committees.js';
import { agendaItems, meetings } from './meetings.js';

/**
 * One conclusion (kết luận) of an agenda item, recorded by the secretary or the chair during or
 * after the meeting. An item may have several, each of one kind: a decision, an assignment (which
 * is turned into follow-up tasks) or a note.
 */
export const conclusions = sqliteTable(
  'conclusions',
  {
    id: integer().primaryKey({ autoIncrement: true }),
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

/**
 * A follow-up task: exactly one owner (a person XOR a unit — enforced by the schema, the service
 * and a CHECK constraint), a deadline and a status whose every change is in `task_events`.
 */
export const tasks = sqliteTable(
  'tasks',
  {
    id: integer().primaryKey({ autoIncrement: true }),
    committeeId: integer()
      .notNull()
      .references(() => committees.id),
    meetingId: integer().references(() => meetings.id, { onDelete: 'set null' }),
    agendaItemId: integer().references(() => agendaItems.id, { onDelete: 'set null' }),
    conclusionId: integer().references(() => conclusions.id, { onDelete: 'set null' }),
    title: text().notNull(),
    description: text().notNull().default(''),
    /** The expected result (rõ kết quả): what counts as done. */
    expectedResult: text().notNull().default(''),
    ownerUserId: integer().references(() => users.id),
    ownerUnit: text(),
    deadline: text().notNull(),
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

/** Units co-operating on a task (phối hợp). */
export const taskCoUnits = sqliteTable(
  'task_co_units',
  {
    taskId: integer()
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    unit: text().notNull(),
  },
  (t) => [primaryKey({ columns: [t.taskId, t.unit] }), index('task_co_units_unit_idx').on(t.unit)],
);

/** Full history of a task: creation, every status change, progress reports, deadline changes. */
export const taskEvents = sqliteTable(
  'task_events',
  {
    id: integer().primaryKey({ autoIncrement: true }),
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

/**
 * Files attached to a progress report (one `task_events` row). Bytes are content-addressed in the
 * shared file store (server/files/file-store.ts): identical files are stored once.
 */
export const taskAttachments = sqliteTable(
  'task_attachments',
  {
    id: integer().primaryKey({ autoIncrement: true }),
    taskId: integer()
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    eventId: integer()
      .notNull()
      .references(() => taskEvents.id, { onDelete: 'cascade' }),
    sha256: text().notNull(),
    /** Display name only (sanitized, NFC); never a path. */
    fileName: text().notNull(),
    /** Decided by content sniffing at upload. */
    contentType: text().notNull(),
    size: integer().notNull(),
    uploadedBy: integer().references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [index('task_attachments_event_idx').on(t.eventId), index('task_attachments_task_idx').on(t.taskId), index('task_attachments_sha_idx').on(t.sha256)],
);
