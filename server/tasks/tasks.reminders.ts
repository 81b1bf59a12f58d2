import { and, eq } from 'drizzle-orm';
import type { AppContext } from '../context.js';
import type { Store } from '../db/store.js';
import { tasks, users } from '../db/tables.js';
import { cancelJobs, enqueueJob } from '../jobs/jobs.js';
import { OPEN, type TaskRow } from './tasks.access.js';

/*
 * Task reminders: two durable jobs per deadline ("due soon", "overdue"), scheduled when a task is
 * created or reopened, cancelled when it closes; the job notifies the owner person(s) in the app
 * (server/mail queues the e-mails).
 */

/** Reminder "due soon" this long before the deadline. */
export const REMIND_BEFORE_MS = 3 * 86400_000;
/** Job kind of task reminders (server/jobs). */
export const TASK_REMINDER_JOB = 'task.reminder';

/** Users to remind for a task: the owner person, or every active person of the owner unit. */
export async function ownerUserIds(store: Store, t: Pick<TaskRow, 'ownerUserId' | 'ownerUnit'>): Promise<number[]> {
  if (t.ownerUserId != null) return [t.ownerUserId];
  const rows = await store.q
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.unit, t.ownerUnit!), eq(users.active, true)));
  return rows.map((r) => r.id);
}

/** (Re)schedules the task's two reminders; call it inside the change's `store.tx`. */
export async function scheduleReminders(store: Store, t: TaskRow, now: Date): Promise<void> {
  await cancelJobs(store, `task:${t.id}:`);
  const deadline = Date.parse(t.deadline);
  const soon = Math.max(now.getTime(), deadline - REMIND_BEFORE_MS);
  await enqueueJob(store.q, { kind: TASK_REMINDER_JOB, key: `task:${t.id}:due_soon:${t.deadline}`, runAt: new Date(soon), payload: { taskId: t.id, type: 'due_soon', deadline: t.deadline } });
  await enqueueJob(store.q, { kind: TASK_REMINDER_JOB, key: `task:${t.id}:overdue:${t.deadline}`, runAt: t.deadline, payload: { taskId: t.id, type: 'overdue', deadline: t.deadline } });
}

/**
 * The reminder job: still open and still the same deadline → one in-app notification per owner
 * person, in the job's own transaction (call it inside the job's `store.tx`: exactly once). A task done or re-scheduled meanwhile is
 * skipped (null). Returns who was reminded, so the caller can queue the e-mails (server/mail) in
 * the same transaction.
 */
export async function runTaskReminder(
  ctx: Pick<AppContext, 'notifier' | 'store'>,
  payload: Record<string, unknown>,
  key: string,
): Promise<{ kind: 'task_overdue' | 'task_due_soon'; taskId: number; userIds: number[] } | null> {
  const { store } = ctx;
  const [t] = await store.q.select().from(tasks).where(eq(tasks.id, Number(payload.taskId))).limit(1);
  if (!t || !OPEN.includes(t.status) || t.deadline !== payload.deadline) return null;
  const kind = payload.type === 'overdue' ? 'task_overdue' : 'task_due_soon';
  const userIds = await ownerUserIds(store, t);
  await ctx.notifier.notify(store.q, userIds, kind, t.meetingId, { taskId: t.id, title: t.title, deadline: t.deadline, reminderKey: key });
  return { kind, taskId: t.id, userIds };
}
