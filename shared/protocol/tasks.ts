import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { Id, IsoDateTime, PathId, line, text } from './common.js';

/**
 * "One task, one owner": exactly one responsible owner, a person OR a unit. A task without an
 * owner, with an owner of both kinds, or with extra owner fields is refused by this schema.
 */
export const TaskOwner = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('user'), userId: Id }),
  z.strictObject({ kind: z.literal('unit'), unit: line(LIMITS.unit) }),
]);
export type TaskOwner = z.infer<typeof TaskOwner>;

export const TaskStatus = z.enum(['open', 'in_progress', 'done_reported', 'done', 'cancelled']);
export type TaskStatus = z.infer<typeof TaskStatus>;

/** What a conclusion is: a decision, an assignment (turned into follow-up tasks) or a note. */
export const ConclusionKind = z.enum(['decision', 'assignment', 'note']);
export type ConclusionKind = z.infer<typeof ConclusionKind>;

const conclusionText = text(LIMITS.description).refine((s) => s.trim().length > 0, 'must not be empty');

/** `PUT …/agenda/items/:itemId/conclusion`: records or replaces the item's first conclusion. */
export const ConclusionBody = z.strictObject({ text: conclusionText, kind: ConclusionKind.optional() });
/** `POST …/agenda/items/:itemId/conclusions`: adds one more conclusion to an item. */
export const NewConclusionBody = z.strictObject({ text: conclusionText, kind: ConclusionKind });
/** `PATCH /api/conclusions/:id`: changes the text and/or the kind. */
export const PatchConclusionBody = z
  .strictObject({ text: conclusionText.optional(), kind: ConclusionKind.optional() })
  .refine((b) => b.text !== undefined || b.kind !== undefined, 'nothing to change');

export const Conclusion = z.object({
  id: z.number(),
  meetingId: z.number(),
  agendaItemId: z.number(),
  text: z.string(),
  kind: ConclusionKind,
  updatedAt: z.string(),
});
export type Conclusion = z.infer<typeof Conclusion>;

export const ConclusionList = z.object({ conclusions: z.array(Conclusion) });

export const ItemParams = z.strictObject({ id: PathId, itemId: PathId });

export const CreateTaskBody = z.strictObject({
  meetingId: Id,
  agendaItemId: Id.optional(),
  /** The conclusion the task carries out (its agenda item is then the task's item). */
  conclusionId: Id.optional(),
  title: line(LIMITS.title),
  description: text().default(''),
  /** What counts as done (rõ kết quả). */
  expectedResult: text(LIMITS.reason).default(''),
  owner: TaskOwner,
  /** Co-operating units (phối hợp), never the owner unit itself. */
  coUnits: z.array(line(LIMITS.unit)).max(20).default([]),
  /** Must not be in the past. */
  deadline: IsoDateTime,
});
export type CreateTaskBody = z.infer<typeof CreateTaskBody>;

export const ProgressBody = z.strictObject({
  comment: text(LIMITS.reason).refine((s) => s.trim().length > 0, 'must not be empty'),
  percent: z.number().int().min(0).max(100).optional(),
});
export const CommentBody = z.strictObject({ comment: text(LIMITS.reason).default('') });

/** Multipart text fields of a progress report with attachments (`file` parts follow). */
export const ProgressFields = z.strictObject({
  comment: text(LIMITS.reason).refine((s) => s.trim().length > 0, 'must not be empty'),
  percent: z
    .string()
    .regex(/^\d{1,3}$/, 'a whole number 0-100')
    .transform(Number)
    .pipe(z.number().int().min(0).max(100))
    .optional(),
});

/** A file attached to a progress report (type decided by content at upload). */
export const TaskAttachment = z.object({
  id: z.number(),
  fileName: z.string(),
  contentType: z.string(),
  size: z.number(),
  /** Download URL (`GET /api/tasks/:taskId/attachments/:id`). */
  url: z.string(),
});
export type TaskAttachment = z.infer<typeof TaskAttachment>;

export const AttachmentParams = z.strictObject({ taskId: PathId, id: PathId });

export const TaskEvent = z.object({
  id: z.number(),
  kind: z.enum(['created', 'status', 'progress', 'edited']),
  actorId: z.number().nullable(),
  actorName: z.string().nullable(),
  fromStatus: z.string().nullable(),
  toStatus: z.string().nullable(),
  comment: z.string(),
  percent: z.number().nullable(),
  at: z.string(),
  /** Files of a progress report; empty for callers who may not download the task's attachments. */
  attachments: z.array(TaskAttachment),
});

export const Task = z.object({
  id: z.number(),
  committeeId: z.number(),
  meetingId: z.number().nullable(),
  meetingTitle: z.string().nullable(),
  agendaItemId: z.number().nullable(),
  agendaItemTitle: z.string().nullable(),
  /** The conclusion it carries out, if any (id and text). */
  conclusionId: z.number().nullable(),
  conclusionText: z.string().nullable(),
  title: z.string(),
  description: z.string(),
  /** What counts as done (rõ kết quả); may be empty. */
  expectedResult: z.string(),
  /** Who assigned it (and confirms it done, with the committee's secretaries). */
  assignedBy: z.string().nullable(),
  owner: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('user'), userId: z.number(), name: z.string() }),
    z.object({ kind: z.literal('unit'), unit: z.string() }),
  ]),
  coUnits: z.array(z.string()),
  deadline: z.string(),
  status: TaskStatus,
  overdue: z.boolean(),
  /** Latest progress percentage reported, if any. */
  percent: z.number().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** What the caller may do with this task. */
  can: z.object({ report: z.boolean(), markDone: z.boolean(), confirm: z.boolean(), seeAttachments: z.boolean() }),
});
export type Task = z.infer<typeof Task>;

export const TaskDetail = Task.extend({ history: z.array(TaskEvent) });
export const TaskList = z.object({ tasks: z.array(Task) });

/** Follow-up board filters; overdue tasks always come first, then by deadline. */
export const BoardQuery = z.strictObject({
  status: z.enum(['open', 'all', 'overdue', 'done']).default('open'),
  ownerUserId: PathId.optional(),
  ownerUnit: line(LIMITS.unit).optional(),
  /** Only tasks from this meeting. */
  meetingId: PathId.optional(),
  q: line(200).optional(),
});
export type BoardQuery = z.infer<typeof BoardQuery>;

export const UnitList = z.object({ units: z.array(z.string()) });

/** Title of the agenda item that the next meeting of a committee gets automatically. */
export const FOLLOW_UP_ITEM_TITLE = 'Theo dõi thực hiện kết luận kỳ trước';
