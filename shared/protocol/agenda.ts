import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { Id, PathId, UrlInt, line, text } from './common.js';

export const AgendaItemStatus = z.enum(['pending', 'current', 'done', 'deferred']);
export type AgendaItemStatus = z.infer<typeof AgendaItemStatus>;

/** One agenda item, flat; `parentId` and `position` (among siblings) give the tree. */
export const AgendaItem = z.object({
  id: z.number(),
  parentId: z.number().nullable(),
  position: z.number(),
  title: z.string(),
  description: z.string(),
  presenterId: z.number().nullable(),
  presenterName: z.string().nullable(),
  durationMinutes: z.number().nullable(),
  status: AgendaItemStatus,
  /** Dotted number in display order, e.g. "2.1". */
  number: z.string(),
});
export type AgendaItem = z.infer<typeof AgendaItem>;

/** The whole agenda in display order (depth-first), with its optimistic-concurrency version. */
export const Agenda = z.object({
  meetingId: z.number(),
  version: z.number(),
  items: z.array(AgendaItem),
});
export type Agenda = z.infer<typeof Agenda>;

/** Every agenda write carries the `version` the client last saw; stale → 409 version_conflict. */
const Versioned = { version: z.number().int().nonnegative() };

export const CreateAgendaItemBody = z.strictObject({
  ...Versioned,
  parentId: Id.nullable().default(null),
  /** Index among the new siblings; omitted = last. */
  position: z.number().int().nonnegative().optional(),
  title: line(LIMITS.title),
  description: text().default(''),
  presenterId: Id.nullable().optional(),
  durationMinutes: z.number().int().positive().max(LIMITS.durationMinutes).nullable().optional(),
});
export type CreateAgendaItemBody = z.infer<typeof CreateAgendaItemBody>;

export const UpdateAgendaItemBody = z.strictObject({
  ...Versioned,
  title: line(LIMITS.title).optional(),
  description: text().optional(),
  presenterId: Id.nullable().optional(),
  durationMinutes: z.number().int().positive().max(LIMITS.durationMinutes).nullable().optional(),
});
export type UpdateAgendaItemBody = z.infer<typeof UpdateAgendaItemBody>;

export const MoveAgendaItemBody = z.strictObject({
  ...Versioned,
  parentId: Id.nullable(),
  position: z.number().int().nonnegative(),
});
export type MoveAgendaItemBody = z.infer<typeof MoveAgendaItemBody>;

export const DeleteAgendaItemQuery = z.strictObject({ version: UrlInt(0) });

export const AgendaItemParams = z.strictObject({ id: PathId, itemId: PathId });
