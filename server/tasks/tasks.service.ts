import { and, asc, eq } from 'drizzle-orm';
import type { CreateTaskBody, Task, TaskStatus } from '../../shared/protocol/tasks.js';
import { audit } from '../audit/audit.repo.js';
import type { AuthUser } from '../auth/sessions.js';
import type { AppContext } from '../context.js';
import type { Q } from '../db/store.js';
import { agendaItems, conclusions, taskCoUnits, taskEvents, tasks, users } from '../db/tables.js';
import { AppError, forbidden, invalidState, notFound } from '../http/errors.js';
import { cancelJobs } from '../jobs/jobs.js';
import { type TaskRow, canManageCommittee, mayReportProgress, ownsTask, requireRecorder, taskNow, visibleTask } from './tasks.access.js';
import { getTask, listUnits, toTask } from './tasks.board.js';
import { queueFollowUpRefresh } from './tasks.follow-up.js';
import { ownerUserIds, scheduleReminders } from './tasks.reminders.js';

/*
 * Task commands: assigning a task in a meeting, progress reports, done / confirmed / reopened /
 * cancelled. Each runs in one transaction with its event, audit row and notifications; the reads are
 * tasks.board.ts, the rules tasks.access.ts, conclusions conclusions.service.ts.
 */

/**
 * Creates a task from a meeting (optionally under an agenda item and its conclusion).
 * @throws invalid_payload (unknown owner or unit, deadline in the past), not_found, forbidden
 */
export async function createTask(ctx: AppContext, user: AuthUser, body: CreateTaskBody): Promise<Task> {
  const { store } = ctx;
  const a = await requireRecorder(store, user, body.meetingId);
  const now = taskNow(ctx);
  if (Date.parse(body.deadline) <= now.getTime()) throw new AppError('deadline_in_past', 'The deadline must be in the future', 400);
  let source: { id: number; agendaItemId: number } | undefined;
  if (body.conclusionId != null) {
    [source] = await store.q
      .select({ id: conclusions.id, agendaItemId: conclusions.agendaItemId })
      .from(conclusions)
      .where(and(eq(conclusions.id, body.conclusionId), eq(conclusions.meetingId, body.meetingId)))
      .limit(1);
    if (!source) throw notFound('Conclusion');
    if (body.agendaItemId != null && body.agendaItemId !== source.agendaItemId) throw new AppError('invalid_payload', 'The conclusion belongs to another agenda item', 400);
  }
  const agendaItemId = body.agendaItemId ?? source?.agendaItemId;
  if (agendaItemId != null) {
    const [item] = await store.q
      .select({ id: agendaItems.id })
      .from(agendaItems)
      .where(and(eq(agendaItems.id, agendaItemId), eq(agendaItems.meetingId, body.meetingId)))
      .limit(1);
    if (!item) throw notFound('Agenda item');
  }
  const units = new Set(await listUnits(store));
  if (body.owner.kind === 'user') {
    const [u] = await store.q.select({ id: users.id, active: users.active }).from(users).where(eq(users.id, body.owner.userId)).limit(1);
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
    source ??
    (agendaItemId != null ? (await store.q.select({ id: conclusions.id }).from(conclusions).where(eq(conclusions.agendaItemId, agendaItemId)).orderBy(asc(conclusions.id)).limit(1))[0] : undefined);

  const t = await store.tx(async (q) => {
    const [row] = await q
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
      .returning();
    if (coUnits.length) await q.insert(taskCoUnits).values(coUnits.map((unit) => ({ taskId: row.id, unit })));
    await q.insert(taskEvents).values({ taskId: row.id, actorId: user.id, kind: 'created', toStatus: 'open', at: now.toISOString() });
    await scheduleReminders(store, row, now);
    await ctx.notifier.notify(q, (await ownerUserIds(store, row)).filter((id) => id !== user.id), 'task_assigned', body.meetingId, { taskId: row.id, title: row.title, deadline });
    await audit(q, { actorId: user.id, action: 'task.create', targetType: 'task', targetId: row.id, details: { meetingId: body.meetingId } });
    await ctx.bus.share(q, 'meeting:changed', { meetingId: body.meetingId });
    return row;
  });
  ctx.notifier.flush();
  ctx.bus.emit('meeting:changed', { meetingId: body.meetingId });
  await queueFollowUpRefresh(ctx, t.committeeId);
  return toTask(store, user, t, now);
}

/** Called inside the transaction that records the event (e.g. to attach files to it); `q` is its builder. */
export type WithEvent = (q: Q, eventId: number) => Promise<void>;

async function changeStatus(ctx: AppContext, user: AuthUser, t: TaskRow, to: TaskStatus, kind: 'status' | 'progress', comment: string, percent?: number, withEvent?: WithEvent): Promise<void> {
  const now = taskNow(ctx).toISOString();
  await ctx.store.tx(async (q) => {
    // Optimistic: only if nobody changed the task since we read it.
    const r = await q
      .update(tasks)
      .set({ status: to, updatedAt: now, version: t.version + 1 })
      .where(and(eq(tasks.id, t.id), eq(tasks.version, t.version)))
      .returning({ id: tasks.id });
    if (r.length === 0) throw new AppError('version_conflict', 'The task changed meanwhile; reload it', 409);
    const [event] = await q
      .insert(taskEvents)
      .values({ taskId: t.id, actorId: user.id, kind, fromStatus: t.status, toStatus: to, comment, percent: percent ?? null, at: now })
      .returning({ id: taskEvents.id });
    await withEvent?.(q, event.id);
    if (to === 'done' || to === 'cancelled') await cancelJobs(ctx.store, `task:${t.id}:`);
    if (to === 'done_reported' && t.createdBy != null) await ctx.notifier.notify(q, [t.createdBy], 'task_done_reported', t.meetingId, { taskId: t.id, title: t.title });
    await audit(q, { actorId: user.id, action: `task.${kind}`, targetType: 'task', targetId: t.id, details: { from: t.status, to } });
    if (t.meetingId) await ctx.bus.share(q, 'meeting:changed', { meetingId: t.meetingId });
  });
  ctx.notifier.flush();
  if (t.meetingId) ctx.bus.emit('meeting:changed', { meetingId: t.meetingId });
  if (to === 'done' || to === 'cancelled' || t.status === 'done') await queueFollowUpRefresh(ctx, t.committeeId);
}

/**
 * A progress report with a comment: by the owner (or a person of the owner unit) or a
 * co-operating unit. Moves an open task to in_progress. `withEvent` runs in the same transaction
 * as the event (attachments).
 * @throws not_found (cannot see it), forbidden (someone else's task), invalid_state (closed)
 */
export async function reportProgress(ctx: AppContext, user: AuthUser, taskId: number, comment: string, percent?: number, withEvent?: WithEvent): Promise<Task> {
  const t = await mayReportProgress(ctx.store, user, taskId);
  await changeStatus(ctx, user, t, t.status === 'open' ? 'in_progress' : t.status, 'progress', comment, percent, withEvent);
  return await getTask(ctx, user, taskId);
}

/** The owner reports the task done; the secretary then confirms (or reopens). */
export async function markDone(ctx: AppContext, user: AuthUser, taskId: number, comment: string): Promise<Task> {
  const t = await visibleTask(ctx.store, user, taskId);
  if (!(await ownsTask(ctx.store, user, t))) throw forbidden('Only the owner may report the task done');
  if (t.status !== 'open' && t.status !== 'in_progress') throw invalidState(`A task that is ${t.status} cannot be reported done`);
  await changeStatus(ctx, user, t, 'done_reported', 'status', comment);
  return await getTask(ctx, user, taskId);
}

/** The committee secretary confirms a task reported done, or sends it back. */
export async function confirmDone(ctx: AppContext, user: AuthUser, taskId: number, accept: boolean, comment: string): Promise<Task> {
  const t = await visibleTask(ctx.store, user, taskId);
  if (!(await canManageCommittee(ctx.store, user, t.committeeId))) throw forbidden('Only the committee secretary may confirm');
  if (t.status !== 'done_reported') throw invalidState('Only a task reported done can be confirmed or reopened');
  await changeStatus(ctx, user, t, accept ? 'done' : 'in_progress', 'status', comment);
  if (!accept) await ctx.store.tx(async () => scheduleReminders(ctx.store, { ...t, status: 'in_progress' }, taskNow(ctx)));
  return await getTask(ctx, user, taskId);
}

/** Cancels a task (committee secretary). */
export async function cancelTask(ctx: AppContext, user: AuthUser, taskId: number, comment: string): Promise<Task> {
  const t = await visibleTask(ctx.store, user, taskId);
  if (!(await canManageCommittee(ctx.store, user, t.committeeId))) throw forbidden('Only the committee secretary may cancel a task');
  if (t.status === 'done' || t.status === 'cancelled') throw invalidState('The task is closed');
  await changeStatus(ctx, user, t, 'cancelled', 'status', comment);
  return await getTask(ctx, user, taskId);
}
