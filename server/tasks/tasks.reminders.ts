import { and, eq } from 'drizzle-orm';
import type { AppContext } from '../context.js';
import type { Db } from '../db/client.js';
import { tasks, users } from '../db/schema/index.js';
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
export function ownerUserIds(db: Db, t: Pick<TaskRow, 'ownerUserId' | 'ownerUnit'>): number[] {
  if (t.ownerUserId != null) return [t.ownerUserId];
  return db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.unit, t.ownerUnit!), eq(users.active, true)))
    .all()
    .map((r) => r.id);
}

export function scheduleReminders(db: Db, t: TaskRow, now: Date): void {
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
