import { and, asc, desc, eq, inArray, isNotNull, ne, sql } from 'drizzle-orm';
import { type BoardQuery, type Conclusion, type ConclusionKind, type CreateTaskBody, type Task, type TaskAttachment, type TaskStatus } from '../../shared/protocol/tasks.js';
import type { AuthUser } from '../auth/sessions.js';
import { audit } from '../audit/audit.repo.js';
import type { AppContext } from '../context.js';
import { type Db, tx } from '../db/client.js';
import { agendaItems, committeeMembers, conclusions, meetingParticipants, meetings, taskAttachments, taskCoUnits, taskEvents, tasks, users } from '../db/schema/index.js';
import { upsertFollowUpItem } from '../agenda/agenda.service.js';
import { AppError, forbidden, invalidState, notFound } from '../http/errors.js';
import { cancelJobs, enqueueJob } from '../jobs/jobs.js';
import { isCommitteeSecretary, meetingAccess } from '../meetings/meetings.access.js';
import { registerSearchKind, removeEntries, replaceEntries } from '../search/search.service.js';

// Search: conclusions are found by whoever may see their meeting (the search service already limits
// candidates to those meetings).
registerSearchKind('conclusion', (_db, _user, refIds) => new Set(refIds));

export type TaskRow = typeof tasks.$inferSelect;

/** Reminder "due soon" this long before the deadline. */
export const REMIND_BEFORE_MS = 3 * 86400_000;
/** Job kind of task reminders (server/jobs). */
export const TASK_REMINDER_JOB = 'task.reminder';

const OPEN: TaskStatus[] = ['open', 'in_progress', 'done_reported'];

/** The app's clock for tasks: the job runner's injectable `now()`, so tests move both together. */
export function taskNow(ctx: Pick<AppContext, 'jobs'>): Date {
  return ctx.jobs.now();
}

/** May manage the committee's follow-up (confirm, cancel): admin or committee secretary. */
export function canManageCommittee(db: Db, user: AuthUser, committeeId: number): boolean {
  return user.systemRole === 'admin' || isCommitteeSecretary(db, user.id, committeeId);
}

function isCommitteeMember(db: Db, userId: number, committeeId: number): boolean {
  return !!db
    .select({ u: committeeMembers.userId })
    .from(committeeMembers)
    .where(and(eq(committeeMembers.committeeId, committeeId), eq(committeeMembers.userId, userId)))
    .get();
}

function userUnit(db: Db, userId: number): string | null {
  return db.select({ unit: users.unit }).from(users).where(eq(users.id, userId)).get()?.unit ?? null;
}

/** True when the user is the owner: the owner person, or a person of the owner unit. */
export function isOwner(db: Db, user: AuthUser, t: TaskRow): boolean {
  if (t.ownerUserId != null) return t.ownerUserId === user.id;
  const unit = userUnit(db, user.id);
  return unit != null && unit === t.ownerUnit;
}

export function isCoOperating(db: Db, user: AuthUser, t: TaskRow): boolean {
  const unit = userUnit(db, user.id);
  if (!unit) return false;
  return !!db
    .select({ u: taskCoUnits.unit })
    .from(taskCoUnits)
    .where(and(eq(taskCoUnits.taskId, t.id), eq(taskCoUnits.unit, unit)))
    .get();
}

/**
 * True when `user` may see meeting `meetingId` now (`meetingAccess`, checked at read time, so a later
 * restriction or a meeting back to draft hides its tasks at once). `cache` spares repeated checks in a list.
 */
function meetingVisible(db: Db, user: AuthUser, meetingId: number | null, cache?: Map<number, boolean>): boolean {
  // A task without a meeting (assigned on the board) is the committee's: its members see it.
  if (meetingId === null) return true;
  const hit = cache?.get(meetingId);
  if (hit !== undefined) return hit;
  let ok = true;
  try {
    meetingAccess(db, user, meetingId);
  } catch {
    ok = false;
  }
  cache?.set(meetingId, ok);
  return ok;
}

/**
 * Who sees a task: people involved (owner, co-operating units), the committee's secretaries and
 * admins, and committee members who may see the task's meeting now (not a draft, not a meeting they
 * are not invited to). Others get 404: a task's title must not tell what a restricted meeting decided.
 */
export function visibleTask(db: Db, user: AuthUser, taskId: number): TaskRow {
  const t = db.select().from(tasks).where(eq(tasks.id, taskId)).get();
  if (!t) throw notFound('Task');
  if (taskVisible(db, user, t)) return t;
  throw notFound('Task');
}

/** The rule of `visibleTask` for a row already read (lists pass a per-meeting cache). */
export function taskVisible(db: Db, user: AuthUser, t: TaskRow, cache?: Map<number, boolean>): boolean {
  if (canManageCommittee(db, user, t.committeeId) || isOwner(db, user, t) || isCoOperating(db, user, t)) return true;
  return isCommitteeMember(db, user.id, t.committeeId) && meetingVisible(db, user, t.meetingId, cache);
}

/**
 * Who may see and download the files attached to a task's progress reports — narrower than who
 * sees the task: the owner (person or owner unit), co-operating units, managers of the task's
 * meeting, the committee's secretaries and chair, admins. Plain committee members see the task
 * on the board but not its attachments.
 */
export function maySeeAttachments(db: Db, user: AuthUser, t: TaskRow): boolean {
  if (canManageCommittee(db, user, t.committeeId) || isOwner(db, user, t) || isCoOperating(db, user, t)) return true;
  const chair = db
    .select({ u: committeeMembers.userId })
    .from(committeeMembers)
    .where(and(eq(committeeMembers.committeeId, t.committeeId), eq(committeeMembers.userId, user.id), eq(committeeMembers.defaultRole, 'chair')))
    .get();
  if (chair) return true;
  if (t.meetingId == null) return false;
  try {
    return meetingAccess(db, user, t.meetingId).canManage;
  } catch {
    return false;
  }
}

/** Units known to the directory (users' units), for the owner and co-operating pickers. */
export function listUnits(db: Db): string[] {
  return db
    .selectDistinct({ unit: users.unit })
    .from(users)
    .where(and(isNotNull(users.unit), eq(users.active, true)))
    .orderBy(asc(users.unit))
    .all()
    .map((r) => r.unit!)
    .filter(Boolean);
}

/** Users to remind for a task: the owner person, or every active person of the owner unit. */
function ownerUserIds(db: Db, t: Pick<TaskRow, 'ownerUserId' | 'ownerUnit'>): number[] {
  if (t.ownerUserId != null) return [t.ownerUserId];
  return db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.unit, t.ownerUnit!), eq(users.active, true)))
    .all()
    .map((r) => r.id);
}

function scheduleReminders(db: Db, t: TaskRow, now: Date): void {
  cancelJobs(db, `task:${t.id}:`);
  const deadline = Date.parse(t.deadline);
  const soon = Math.max(now.getTime(), deadline - REMIND_BEFORE_MS);
  enqueueJob(db, { kind: TASK_REMINDER_JOB, key: `task:${t.id}:due_soon:${t.deadline}`, runAt: new Date(soon), payload: { taskId: t.id, type: 'due_soon', deadline: t.deadline } });
  enqueueJob(db, { kind: TASK_REMINDER_JOB, key: `task:${t.id}:overdue:${t.deadline}`, runAt: t.deadline, payload: { taskId: t.id, type: 'overdue', deadline: t.deadline } });
}

/**
 * The reminder job: still open and still the same deadline → one in-app notification per owner
 * person, in the job's own transaction (exactly once). A task done or re-scheduled meanwhile is
 * skipped (null). Returns who was reminded, so the caller can queue the e-mails (server/mail) in
 * the same transaction.
 */
export function runTaskReminder(
  ctx: Pick<AppContext, 'notifier'>,
  d: Db,
  payload: Record<string, unknown>,
  key: string,
): { kind: 'task_overdue' | 'task_due_soon'; taskId: number; userIds: number[] } | null {
  const t = d.select().from(tasks).where(eq(tasks.id, Number(payload.taskId))).get();
  if (!t || !OPEN.includes(t.status) || t.deadline !== payload.deadline) return null;
  const kind = payload.type === 'overdue' ? 'task_overdue' : 'task_due_soon';
  const userIds = ownerUserIds(d, t);
  ctx.notifier.add(d, userIds, kind, t.meetingId, { taskId: t.id, title: t.title, deadline: t.deadline, reminderKey: key });
  return { kind, taskId: t.id, userIds };
}

/**
 * The caller may record conclusions and assign tasks in this meeting: its secretaries (managers)
 * and its chair.
 * @throws not_found (meeting not visible), forbidden
 */
export function requireRecorder(db: Db, user: AuthUser, meetingId: number) {
  const a = meetingAccess(db, user, meetingId);
  if (!a.canChair) throw forbidden('Only the secretary or the chair record conclusions and assign tasks');
  return a;
}

function itemOf(db: Db, meetingId: number, itemId: number): { id: number; title: string } {
  const item = db
    .select({ id: agendaItems.id, title: agendaItems.title })
    .from(agendaItems)
    .where(and(eq(agendaItems.id, itemId), eq(agendaItems.meetingId, meetingId)))
    .get();
  if (!item) throw notFound('Agenda item');
  return item;
}

type ConclusionRow = typeof conclusions.$inferSelect;
const conclusionView = (r: ConclusionRow): Conclusion => ({ id: r.id, meetingId: r.meetingId, agendaItemId: r.agendaItemId, text: r.text, kind: r.kind, updatedAt: r.updatedAt });

/** Search entry of a conclusion (inside the transaction that changes it). */
function indexConclusion(d: Db, r: ConclusionRow, itemTitle: string): void {
  replaceEntries(d, 'conclusion', r.id, [{ meetingId: r.meetingId, page: null, title: `Kết luận: ${itemTitle}`, body: r.text }]);
}

/**
 * Records (or replaces) the first conclusion of an agenda item (`kind` kept unless given).
 * Secretary or chair.
 * @throws not_found / forbidden
 */
export function setConclusion(ctx: AppContext, user: AuthUser, meetingId: number, itemId: number, text: string, kind?: ConclusionKind): Conclusion {
  requireRecorder(ctx.db, user, meetingId);
  const item = itemOf(ctx.db, meetingId, itemId);
  const now = new Date().toISOString();
  const row = tx(ctx.db, (d) => {
    // The item's first conclusion is replaced; an item without one gets one.
    const first = d.select({ id: conclusions.id }).from(conclusions).where(eq(conclusions.agendaItemId, itemId)).orderBy(asc(conclusions.id)).get();
    const r = first
      ? d.update(conclusions).set({ text, ...(kind ? { kind } : {}), updatedBy: user.id, updatedAt: now }).where(eq(conclusions.id, first.id)).returning().get()!
      : d.insert(conclusions).values({ meetingId, agendaItemId: itemId, text, kind: kind ?? 'decision', updatedBy: user.id, updatedAt: now }).returning().get();
    indexConclusion(d, r, item.title);
    audit(d, { actorId: user.id, action: 'conclusion.set', targetType: 'agenda_item', targetId: itemId, details: { meetingId, conclusionId: r.id } });
    return r;
  });
  ctx.bus.emit('meeting:changed', { meetingId });
  return conclusionView(row);
}

/**
 * Adds a conclusion to an agenda item (an item may have several). Secretary or chair.
 * @throws not_found / forbidden
 */
export function addConclusion(ctx: AppContext, user: AuthUser, meetingId: number, itemId: number, text: string, kind: ConclusionKind): Conclusion {
  requireRecorder(ctx.db, user, meetingId);
  const item = itemOf(ctx.db, meetingId, itemId);
  const now = new Date().toISOString();
  const row = tx(ctx.db, (d) => {
    const r = d.insert(conclusions).values({ meetingId, agendaItemId: itemId, text, kind, updatedBy: user.id, updatedAt: now }).returning().get();
    indexConclusion(d, r, item.title);
    audit(d, { actorId: user.id, action: 'conclusion.add', targetType: 'agenda_item', targetId: itemId, details: { meetingId, conclusionId: r.id, kind } });
    return r;
  });
  ctx.bus.emit('meeting:changed', { meetingId });
  return conclusionView(row);
}

/** The conclusion row, if the caller may record conclusions in its meeting (else 404 / 403). */
function editableConclusion(db: Db, user: AuthUser, id: number): ConclusionRow {
  const c = db.select().from(conclusions).where(eq(conclusions.id, id)).get();
  if (!c) throw notFound('Conclusion');
  requireRecorder(db, user, c.meetingId);
  return c;
}

/**
 * Changes a conclusion's text and/or kind. Secretary or chair.
 * @throws not_found / forbidden
 */
export function updateConclusion(ctx: AppContext, user: AuthUser, id: number, patch: { text?: string; kind?: ConclusionKind }): Conclusion {
  const c = editableConclusion(ctx.db, user, id);
  const itemTitle = itemOf(ctx.db, c.meetingId, c.agendaItemId).title;
  const now = new Date().toISOString();
  const row = tx(ctx.db, (d) => {
    const r = d
      .update(conclusions)
      .set({ ...(patch.text !== undefined ? { text: patch.text } : {}), ...(patch.kind ? { kind: patch.kind } : {}), updatedBy: user.id, updatedAt: now })
      .where(eq(conclusions.id, id))
      .returning()
      .get()!;
    indexConclusion(d, r, itemTitle);
    audit(d, { actorId: user.id, action: 'conclusion.update', targetType: 'agenda_item', targetId: c.agendaItemId, details: { meetingId: c.meetingId, conclusionId: id } });
    return r;
  });
  ctx.bus.emit('meeting:changed', { meetingId: c.meetingId });
  return conclusionView(row);
}

/**
 * Deletes a conclusion. Its tasks stay (they keep their agenda item; `conclusionId` becomes null).
 * Secretary or chair.
 * @throws not_found / forbidden
 */
export function deleteConclusion(ctx: AppContext, user: AuthUser, id: number): void {
  const c = editableConclusion(ctx.db, user, id);
  tx(ctx.db, (d) => {
    d.delete(conclusions).where(eq(conclusions.id, id)).run();
    removeEntries(d, 'conclusion', [id]);
    audit(d, { actorId: user.id, action: 'conclusion.delete', targetType: 'agenda_item', targetId: c.agendaItemId, details: { meetingId: c.meetingId, conclusionId: id } });
  });
  ctx.bus.emit('meeting:changed', { meetingId: c.meetingId });
}

/** Conclusions of a meeting in the order they were recorded, for whoever may see the meeting. */
export function listConclusions(db: Db, user: AuthUser, meetingId: number): Conclusion[] {
  meetingAccess(db, user, meetingId);
  return db.select().from(conclusions).where(eq(conclusions.meetingId, meetingId)).orderBy(asc(conclusions.id)).all().map(conclusionView);
}

/**
 * Creates a task from a meeting (optionally under an agenda item and its conclusion).
 * @throws invalid_payload (unknown owner or unit, deadline in the past), not_found, forbidden
 */
export function createTask(ctx: AppContext, user: AuthUser, body: CreateTaskBody): Task {
  const { db } = ctx;
  const a = requireRecorder(db, user, body.meetingId);
  const now = taskNow(ctx);
  if (Date.parse(body.deadline) <= now.getTime()) throw new AppError('deadline_in_past', 'The deadline must be in the future', 400);
  let source: { id: number; agendaItemId: number } | undefined;
  if (body.conclusionId != null) {
    source = db
      .select({ id: conclusions.id, agendaItemId: conclusions.agendaItemId })
      .from(conclusions)
      .where(and(eq(conclusions.id, body.conclusionId), eq(conclusions.meetingId, body.meetingId)))
      .get();
    if (!source) throw notFound('Conclusion');
    if (body.agendaItemId != null && body.agendaItemId !== source.agendaItemId) throw new AppError('invalid_payload', 'The conclusion belongs to another agenda item', 400);
  }
  const agendaItemId = body.agendaItemId ?? source?.agendaItemId;
  if (agendaItemId != null) {
    const item = db
      .select({ id: agendaItems.id })
      .from(agendaItems)
      .where(and(eq(agendaItems.id, agendaItemId), eq(agendaItems.meetingId, body.meetingId)))
      .get();
    if (!item) throw notFound('Agenda item');
  }
  const units = new Set(listUnits(db));
  if (body.owner.kind === 'user') {
    const u = db.select({ id: users.id, active: users.active }).from(users).where(eq(users.id, body.owner.userId)).get();
    if (!u || !u.active) throw new AppError('unknown_owner', 'The owner is not an active user', 400);
  } else if (!units.has(body.owner.unit)) {
    throw new AppError('unknown_owner', 'The owner unit is not in the directory', 400);
  }
  const coUnits = [...new Set(body.coUnits)];
  for (const u of coUnits) if (!units.has(u)) throw new AppError('unknown_unit', `Unknown co-operating unit`, 400, { unit: u });
  if (body.owner.kind === 'unit' && coUnits.includes(body.owner.unit)) throw new AppError('invalid_payload', 'The owner unit cannot also be a co-operating unit', 400);
  const deadline = new Date(body.deadline).toISOString();
  // Without an explicit conclusion, a task under an item carries out the item's first conclusion.
  const conclusion =
    source ?? (agendaItemId != null ? db.select({ id: conclusions.id }).from(conclusions).where(eq(conclusions.agendaItemId, agendaItemId)).orderBy(asc(conclusions.id)).get() : undefined);

  const t = tx(db, (d) => {
    const row = d
      .insert(tasks)
      .values({
        committeeId: a.meeting.committeeId,
        meetingId: body.meetingId,
        agendaItemId: agendaItemId ?? null,
        conclusionId: conclusion?.id ?? null,
        title: body.title,
        description: body.description,
        expectedResult: body.expectedResult,
        ownerUserId: body.owner.kind === 'user' ? body.owner.userId : null,
        ownerUnit: body.owner.kind === 'unit' ? body.owner.unit : null,
        deadline,
        createdBy: user.id,
        createdAt: now.toISOString(),
        updatedAt: now.toISOString(),
      })
      .returning()
      .get();
    if (coUnits.length) d.insert(taskCoUnits).values(coUnits.map((unit) => ({ taskId: row.id, unit }))).run();
    d.insert(taskEvents).values({ taskId: row.id, actorId: user.id, kind: 'created', toStatus: 'open', at: now.toISOString() }).run();
    scheduleReminders(d, row, now);
    ctx.notifier.add(d, ownerUserIds(d, row).filter((id) => id !== user.id), 'task_assigned', body.meetingId, { taskId: row.id, title: row.title, deadline });
    audit(d, { actorId: user.id, action: 'task.create', targetType: 'task', targetId: row.id, details: { meetingId: body.meetingId } });
    return row;
  });
  ctx.notifier.flush();
  ctx.bus.emit('meeting:changed', { meetingId: body.meetingId });
  refreshFollowUpItems(ctx, t.committeeId);
  return toTask(db, user, t, now);
}

/** Called inside the transaction that records the event (e.g. to attach files to it). */
export type WithEvent = (d: Db, eventId: number) => void;

function changeStatus(ctx: AppContext, user: AuthUser, t: TaskRow, to: TaskStatus, kind: 'status' | 'progress', comment: string, percent?: number, withEvent?: WithEvent): void {
  const now = taskNow(ctx).toISOString();
  tx(ctx.db, (d) => {
    // Optimistic: only if nobody changed the task since we read it.
    const r = d
      .update(tasks)
      .set({ status: to, updatedAt: now, version: t.version + 1 })
      .where(and(eq(tasks.id, t.id), eq(tasks.version, t.version)))
      .run();
    if (r.changes === 0) throw new AppError('version_conflict', 'The task changed meanwhile; reload it', 409);
    const event = d
      .insert(taskEvents)
      .values({ taskId: t.id, actorId: user.id, kind, fromStatus: t.status, toStatus: to, comment, percent: percent ?? null, at: now })
      .returning({ id: taskEvents.id })
      .get();
    withEvent?.(d, event.id);
    if (to === 'done' || to === 'cancelled') cancelJobs(d, `task:${t.id}:`);
    if (to === 'done_reported' && t.createdBy != null) ctx.notifier.add(d, [t.createdBy], 'task_done_reported', t.meetingId, { taskId: t.id, title: t.title });
    audit(d, { actorId: user.id, action: `task.${kind}`, targetType: 'task', targetId: t.id, details: { from: t.status, to } });
  });
  ctx.notifier.flush();
  if (t.meetingId) ctx.bus.emit('meeting:changed', { meetingId: t.meetingId });
  if (to === 'done' || to === 'cancelled' || t.status === 'done') refreshFollowUpItems(ctx, t.committeeId);
}

/**
 * The task, if `user` may report progress on it now: the owner (or a person of the owner unit) or a
 * co-operating unit, and the task is not closed.
 * @throws not_found (cannot see it), forbidden (someone else's task), invalid_state (closed)
 */
export function mayReportProgress(db: Db, user: AuthUser, taskId: number): TaskRow {
  const t = visibleTask(db, user, taskId);
  if (!isOwner(db, user, t) && !isCoOperating(db, user, t)) throw forbidden('Only the owner or a co-operating unit may report progress on this task');
  if (t.status === 'done' || t.status === 'cancelled') throw invalidState('The task is closed');
  return t;
}

/**
 * A progress report with a comment: by the owner (or a person of the owner unit) or a
 * co-operating unit. Moves an open task to in_progress. `withEvent` runs in the same transaction
 * as the event (attachments).
 * @throws not_found (cannot see it), forbidden (someone else's task), invalid_state (closed)
 */
export function reportProgress(ctx: AppContext, user: AuthUser, taskId: number, comment: string, percent?: number, withEvent?: WithEvent): Task {
  const t = mayReportProgress(ctx.db, user, taskId);
  changeStatus(ctx, user, t, t.status === 'open' ? 'in_progress' : t.status, 'progress', comment, percent, withEvent);
  return getTask(ctx, user, taskId);
}

/** The owner reports the task done; the secretary then confirms (or reopens). */
export function markDone(ctx: AppContext, user: AuthUser, taskId: number, comment: string): Task {
  const t = visibleTask(ctx.db, user, taskId);
  if (!isOwner(ctx.db, user, t)) throw forbidden('Only the owner may report the task done');
  if (t.status !== 'open' && t.status !== 'in_progress') throw invalidState(`A task that is ${t.status} cannot be reported done`);
  changeStatus(ctx, user, t, 'done_reported', 'status', comment);
  return getTask(ctx, user, taskId);
}

/** The committee secretary confirms a task reported done, or sends it back. */
export function confirmDone(ctx: AppContext, user: AuthUser, taskId: number, accept: boolean, comment: string): Task {
  const t = visibleTask(ctx.db, user, taskId);
  if (!canManageCommittee(ctx.db, user, t.committeeId)) throw forbidden('Only the committee secretary may confirm');
  if (t.status !== 'done_reported') throw invalidState('Only a task reported done can be confirmed or reopened');
  changeStatus(ctx, user, t, accept ? 'done' : 'in_progress', 'status', comment);
  if (!accept) tx(ctx.db, (d) => scheduleReminders(d, { ...t, status: 'in_progress' }, taskNow(ctx)));
  return getTask(ctx, user, taskId);
}

/** Cancels a task (committee secretary). */
export function cancelTask(ctx: AppContext, user: AuthUser, taskId: number, comment: string): Task {
  const t = visibleTask(ctx.db, user, taskId);
  if (!canManageCommittee(ctx.db, user, t.committeeId)) throw forbidden('Only the committee secretary may cancel a task');
  if (t.status === 'done' || t.status === 'cancelled') throw invalidState('The task is closed');
  changeStatus(ctx, user, t, 'cancelled', 'status', comment);
  return getTask(ctx, user, taskId);
}

function toTask(db: Db, user: AuthUser, t: TaskRow, now: Date): Task {
  const owner =
    t.ownerUserId != null
      ? { kind: 'user' as const, userId: t.ownerUserId, name: db.select({ n: users.fullName }).from(users).where(eq(users.id, t.ownerUserId)).get()?.n ?? '' }
      : { kind: 'unit' as const, unit: t.ownerUnit! };
  const coUnits = db
    .select({ unit: taskCoUnits.unit })
    .from(taskCoUnits)
    .where(eq(taskCoUnits.taskId, t.id))
    .all()
    .map((r) => r.unit);
  const meetingTitle = t.meetingId ? (db.select({ t: meetings.title }).from(meetings).where(eq(meetings.id, t.meetingId)).get()?.t ?? null) : null;
  const agendaItemTitle = t.agendaItemId ? (db.select({ t: agendaItems.title }).from(agendaItems).where(eq(agendaItems.id, t.agendaItemId)).get()?.t ?? null) : null;
  const conclusionText = t.conclusionId ? (db.select({ t: conclusions.text }).from(conclusions).where(eq(conclusions.id, t.conclusionId)).get()?.t ?? null) : null;
  const assignedBy = t.createdBy ? (db.select({ n: users.fullName }).from(users).where(eq(users.id, t.createdBy)).get()?.n ?? null) : null;
  const percent =
    db
      .select({ p: taskEvents.percent })
      .from(taskEvents)
      .where(and(eq(taskEvents.taskId, t.id), isNotNull(taskEvents.percent)))
      .orderBy(desc(taskEvents.id))
      .get()?.p ?? null;
  const owns = isOwner(db, user, t);
  const open = OPEN.includes(t.status);
  return {
    id: t.id,
    committeeId: t.committeeId,
    meetingId: t.meetingId,
    meetingTitle,
    agendaItemId: t.agendaItemId,
    agendaItemTitle,
    conclusionId: t.conclusionId,
    conclusionText,
    title: t.title,
    description: t.description,
    expectedResult: t.expectedResult,
    assignedBy,
    owner,
    coUnits,
    deadline: t.deadline,
    status: t.status,
    overdue: open && Date.parse(t.deadline) < now.getTime(),
    percent,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    can: {
      report: open && t.status !== 'done_reported' && (owns || isCoOperating(db, user, t)),
      markDone: owns && (t.status === 'open' || t.status === 'in_progress'),
      confirm: t.status === 'done_reported' && canManageCommittee(db, user, t.committeeId),
      seeAttachments: maySeeAttachments(db, user, t),
    },
  };
}

/** One task with its full history. */
export function getTask(ctx: AppContext, user: AuthUser, taskId: number) {
  const t = visibleTask(ctx.db, user, taskId);
  const history = ctx.db
    .select({
      id: taskEvents.id,
      kind: taskEvents.kind,
      actorId: taskEvents.actorId,
      actorName: users.fullName,
      fromStatus: taskEvents.fromStatus,
      toStatus: taskEvents.toStatus,
      comment: taskEvents.comment,
      percent: taskEvents.percent,
      at: taskEvents.at,
    })
    .from(taskEvents)
    .leftJoin(users, eq(users.id, taskEvents.actorId))
    .where(eq(taskEvents.taskId, taskId))
    .orderBy(asc(taskEvents.id))
    .all();
  const task = toTask(ctx.db, user, t, taskNow(ctx));
  const files = task.can.seeAttachments ? eventAttachments(ctx.db, taskId) : new Map<number, TaskAttachment[]>();
  return { ...task, history: history.map((h) => ({ ...h, attachments: files.get(h.id) ?? [] })) };
}

/** The attachments of a task's events, by event id, in upload order. */
function eventAttachments(db: Db, taskId: number): Map<number, TaskAttachment[]> {
  const byEvent = new Map<number, TaskAttachment[]>();
  const rows = db.select().from(taskAttachments).where(eq(taskAttachments.taskId, taskId)).orderBy(asc(taskAttachments.id)).all();
  for (const a of rows) {
    const list = byEvent.get(a.eventId) ?? [];
    list.push({ id: a.id, fileName: a.fileName, contentType: a.contentType, size: a.size, url: `/api/tasks/${taskId}/attachments/${a.id}` });
    byEvent.set(a.eventId, list);
  }
  return byEvent;
}

/** "My tasks": owned by me or my unit, or where my unit co-operates; open first, by deadline. */
export function myTasks(ctx: AppContext, user: AuthUser): Task[] {
  const unit = userUnit(ctx.db, user.id);
  const rows = ctx.db
    .select()
    .from(tasks)
    .where(
      unit
        ? sql`${tasks.ownerUserId} = ${user.id} or ${tasks.ownerUnit} = ${unit} or ${tasks.id} in (select task_id from task_co_units where unit = ${unit})`
        : eq(tasks.ownerUserId, user.id),
    )
    .orderBy(asc(tasks.deadline))
    .all();
  const now = taskNow(ctx);
  const list = rows.map((t) => toTask(ctx.db, user, t, now));
  const rank = (t: Task) => (t.overdue ? 0 : OPEN.includes(t.status) ? 1 : 2);
  return list.sort((a, b) => rank(a) - rank(b) || a.deadline.localeCompare(b.deadline));
}

/**
 * The tasks assigned in one meeting, in the order they were created: all of them for its
 * secretaries and chair; for others, those they may see (committee members, people involved).
 * @throws not_found (meeting not visible)
 */
export function meetingTasks(ctx: AppContext, user: AuthUser, meetingId: number): Task[] {
  const { db } = ctx;
  const a = meetingAccess(db, user, meetingId);
  const rows = db.select().from(tasks).where(eq(tasks.meetingId, meetingId)).orderBy(asc(tasks.id)).all();
  const all = a.canChair || canManageCommittee(db, user, a.meeting.committeeId) || isCommitteeMember(db, user.id, a.meeting.committeeId);
  const now = taskNow(ctx);
  return rows.filter((t) => all || isOwner(db, user, t) || isCoOperating(db, user, t)).map((t) => toTask(db, user, t, now));
}

/**
 * The follow-up board of a committee: overdue first, then by deadline; filterable by status,
 * owner person, owner unit and text. Members of the committee, its secretaries and admins.
 */
export function committeeBoard(ctx: AppContext, user: AuthUser, committeeId: number, q: BoardQuery): Task[] {
  const { db } = ctx;
  if (!canManageCommittee(db, user, committeeId) && !isCommitteeMember(db, user.id, committeeId)) throw notFound('Committee');
  const now = taskNow(ctx);
  const conds = [eq(tasks.committeeId, committeeId)];
  if (q.status === 'open' || q.status === 'overdue') conds.push(inArray(tasks.status, OPEN));
  if (q.status === 'done') conds.push(eq(tasks.status, 'done'));
  if (q.status === 'overdue') conds.push(sql`${tasks.deadline} < ${now.toISOString()}`);
  if (q.ownerUserId) conds.push(eq(tasks.ownerUserId, q.ownerUserId));
  if (q.ownerUnit) conds.push(eq(tasks.ownerUnit, q.ownerUnit));
  if (q.meetingId) conds.push(eq(tasks.meetingId, q.meetingId));
  if (q.q) conds.push(sql`(${tasks.title} like ${`%${q.q}%`} or ${tasks.description} like ${`%${q.q}%`})`);
  const rows = db
    .select()
    .from(tasks)
    .where(and(...conds))
    .orderBy(asc(tasks.deadline))
    .limit(2000)
    .all();
  // Read-time rule: tasks of meetings the caller may not see now (drafts, meetings they are not
  // invited to) are left out unless they are involved in them.
  const manager = canManageCommittee(db, user, committeeId);
  const seen = new Map<number, boolean>();
  const list = rows.filter((t) => manager || isOwner(db, user, t) || isCoOperating(db, user, t) || meetingVisible(db, user, t.meetingId, seen)).map((t) => toTask(db, user, t, now));
  return list.sort((a, b) => Number(b.overdue) - Number(a.overdue) || a.deadline.localeCompare(b.deadline));
}

/** Vietnamese labels of statuses (exports). */
export const STATUS_VI: Record<TaskStatus, string> = {
  open: 'Chưa thực hiện',
  in_progress: 'Đang thực hiện',
  done_reported: 'Báo cáo hoàn thành',
  done: 'Hoàn thành',
  cancelled: 'Đã hủy',
};

/** Board as CSV (UTF-8 with BOM so spreadsheet programs read Vietnamese correctly). */
export function boardCsv(list: Task[]): string {
  const esc = (v: string) => (/[",\n\r]/.test(v) || /^[=+\-@]/.test(v) ? `"${v.replace(/^([=+\-@])/, "'$1").replace(/"/g, '""')}"` : v);
  const lines = [['STT', 'Nhiệm vụ', 'Chủ trì', 'Phối hợp', 'Hạn', 'Trạng thái', 'Quá hạn', 'Tiến độ (%)', 'Cuộc họp'].join(',')];
  list.forEach((t, i) =>
    lines.push(
      [
        String(i + 1),
        esc(t.title),
        esc(t.owner.kind === 'user' ? t.owner.name : t.owner.unit),
        esc(t.coUnits.join('; ')),
        t.deadline,
        esc(STATUS_VI[t.status]),
        t.overdue ? 'x' : '',
        t.percent == null ? '' : String(t.percent),
        esc(t.meetingTitle ?? ''),
      ].join(','),
    ),
  );
  return `\ufeff${lines.join('\r\n')}\r\n`;
}

/**
 * Keeps the "Theo dõi thực hiện kết luận kỳ trước" agenda item of the committee's upcoming
 * meetings (not yet live or closed) in step with the open tasks from earlier meetings: created
 * when missing (at the end of the agenda), its description listing the open tasks.
 */
export function refreshFollowUpItems(ctx: AppContext, committeeId: number): void {
  const { db } = ctx;
  const upcoming = db
    .select()
    .from(meetings)
    .where(and(eq(meetings.committeeId, committeeId), inArray(meetings.status, ['draft', 'published'])))
    .all();
  const changed: { meetingId: number; version: number }[] = [];
  for (const m of upcoming) {
    const candidates = db
      .select()
      .from(tasks)
      .where(and(eq(tasks.committeeId, committeeId), inArray(tasks.status, OPEN), ne(tasks.meetingId, m.id), sql`${tasks.meetingId} in (select id from meetings where starts_at < ${m.startsAt})`))
      .orderBy(asc(tasks.deadline))
      .all();
    // A follow-up copy is read by everyone the target meeting shows its agenda to (guests included):
    // list only tasks whose own meeting every one of them may see now.
    const audience = db
      .select({ id: users.id, username: users.username, fullName: users.fullName, title: users.title, unit: users.unit, systemRole: users.systemRole, locale: users.locale })
      .from(meetingParticipants)
      .innerJoin(users, eq(users.id, meetingParticipants.userId))
      .where(eq(meetingParticipants.meetingId, m.id))
      .all();
    const shareable = new Map<number, boolean>();
    const open = candidates.filter((t) => {
      let ok = shareable.get(t.meetingId!);
      if (ok === undefined) shareable.set(t.meetingId!, (ok = audience.every((u) => meetingVisible(db, u, t.meetingId!))));
      return ok;
    });
    if (open.length === 0) continue;
    const description = open
      .map((t, i) => {
        const owner = t.ownerUserId != null ? (db.select({ n: users.fullName }).from(users).where(eq(users.id, t.ownerUserId)).get()?.n ?? '') : t.ownerUnit;
        const d = new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', day: '2-digit', month: '2-digit', year: 'numeric' }).format(new Date(t.deadline));
        return `${i + 1}. ${t.title} — Chủ trì: ${owner}; hạn ${d}; ${STATUS_VI[t.status]}`;
      })
      .join('\n')
      .slice(0, 20_000);
    const v = tx(db, (d) => {
      const version = upsertFollowUpItem(d, m.id, description);
      if (version == null) return null;
      audit(d, { actorId: null, action: 'agenda.follow_up_refreshed', targetType: 'meeting', targetId: m.id, details: { openTasks: open.length } });
      return version;
    });
    if (v != null) changed.push({ meetingId: m.id, version: v });
  }
  for (const c of changed) ctx.bus.emit('agenda:changed', c);
}
