import { and, eq } from 'drizzle-orm';
import type { TaskStatus } from '../../shared/protocol/tasks.js';
import type { AuthUser } from '../auth/sessions.js';
import type { AppContext } from '../context.js';
import type { Store } from '../db/store.js';
import { committeeMembers, taskCoUnits, tasks, users } from '../db/tables.js';
import { forbidden, invalidState, notFound } from '../http/errors.js';
import { isCommitteeSecretary, meetingAccess } from '../meetings/meetings.access.js';

/*
 * Who may do what with a task, checked at the moment of use: seeing it (and its attachments),
 * managing the committee's follow-up, recording in a meeting, reporting progress. Also the task
 * row's type, the open statuses and the tasks' clock, which every part of the domain shares.
 */

export type TaskRow = typeof tasks.$inferSelect;

/** Statuses of a task still to be carried out. */
export const OPEN: TaskStatus[] = ['open', 'in_progress', 'done_reported'];

/** The app's clock for tasks: the job runner's injectable `now()`, so tests move both together. */
export function taskNow(ctx: Pick<AppContext, 'jobs'>): Date {
  return ctx.jobs.now();
}

/** May manage the committee's follow-up (confirm, cancel): admin or committee secretary. */
export async function canManageCommittee(store: Store, user: AuthUser, committeeId: number): Promise<boolean> {
  return user.systemRole === 'admin' || (await isCommitteeSecretary(store, user.id, committeeId));
}

export async function isCommitteeMember(store: Store, userId: number, committeeId: number): Promise<boolean> {
  const rows = await store.q
    .select({ u: committeeMembers.userId })
    .from(committeeMembers)
    .where(and(eq(committeeMembers.committeeId, committeeId), eq(committeeMembers.userId, userId)))
    .limit(1);
  return rows.length > 0;
}

export async function userUnit(store: Store, userId: number): Promise<string | null> {
  const [u] = await store.q.select({ unit: users.unit }).from(users).where(eq(users.id, userId)).limit(1);
  return u?.unit ?? null;
}

/** True when the user is the owner: the owner person, or a person of the owner unit. */
export async function ownsTask(store: Store, user: AuthUser, t: TaskRow): Promise<boolean> {
  if (t.ownerUserId != null) return t.ownerUserId === user.id;
  const unit = await userUnit(store, user.id);
  return unit != null && unit === t.ownerUnit;
}

export async function isCoOperating(store: Store, user: AuthUser, t: TaskRow): Promise<boolean> {
  const unit = await userUnit(store, user.id);
  if (!unit) return false;
  const rows = await store.q
    .select({ u: taskCoUnits.unit })
    .from(taskCoUnits)
    .where(and(eq(taskCoUnits.taskId, t.id), eq(taskCoUnits.unit, unit)))
    .limit(1);
  return rows.length > 0;
}

/** Owner or co-operating unit: the people involved in carrying out the task. */
export async function isInvolved(store: Store, user: AuthUser, t: TaskRow): Promise<boolean> {
  return (await ownsTask(store, user, t)) || (await isCoOperating(store, user, t));
}

/**
 * True when `user` may see meeting `meetingId` now (`meetingAccess`, checked at read time, so a later
 * restriction or a meeting back to draft hides its tasks at once). `cache` spares repeated checks in a list.
 */
export async function meetingVisible(store: Store, user: AuthUser, meetingId: number | null, cache?: Map<number, boolean>): Promise<boolean> {
  // A task without a meeting (assigned on the board) is the committee's: its members see it.
  if (meetingId === null) return true;
  const hit = cache?.get(meetingId);
  if (hit !== undefined) return hit;
  let ok = true;
  try {
    await meetingAccess(store, user, meetingId);
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
export async function visibleTask(store: Store, user: AuthUser, taskId: number): Promise<TaskRow> {
  const [t] = await store.q.select().from(tasks).where(eq(tasks.id, taskId)).limit(1);
  if (!t) throw notFound('Task');
  if (await taskVisible(store, user, t)) return t;
  throw notFound('Task');
}

/** The rule of `visibleTask` for a row already read (lists pass a per-meeting cache). */
export async function taskVisible(store: Store, user: AuthUser, t: TaskRow, cache?: Map<number, boolean>): Promise<boolean> {
  if ((await canManageCommittee(store, user, t.committeeId)) || (await isInvolved(store, user, t))) return true;
  return (await isCommitteeMember(store, user.id, t.committeeId)) && (await meetingVisible(store, user, t.meetingId, cache));
}

/**
 * Who may see and download the files attached to a task's progress reports — narrower than who
 * sees the task: the owner (person or owner unit), co-operating units, managers of the task's
 * meeting, the committee's secretaries and chair, admins. Plain committee members see the task
 * on the board but not its attachments.
 */
export async function maySeeAttachments(store: Store, user: AuthUser, t: TaskRow): Promise<boolean> {
  if ((await canManageCommittee(store, user, t.committeeId)) || (await isInvolved(store, user, t))) return true;
  const chair = await store.q
    .select({ u: committeeMembers.userId })
    .from(committeeMembers)
    .where(and(eq(committeeMembers.committeeId, t.committeeId), eq(committeeMembers.userId, user.id), eq(committeeMembers.defaultRole, 'chair')))
    .limit(1);
  if (chair.length > 0) return true;
  if (t.meetingId == null) return false;
  try {
    return (await meetingAccess(store, user, t.meetingId)).canManage;
  } catch {
    return false;
  }
}

/**
 * The caller may record conclusions and assign tasks in this meeting: its secretaries (managers)
 * and its chair.
 * @throws not_found (meeting not visible), forbidden
 */
export async function requireRecorder(store: Store, user: AuthUser, meetingId: number) {
  const a = await meetingAccess(store, user, meetingId);
  if (!a.canChair) throw forbidden('Only the secretary or the chair record conclusions and assign tasks');
  return a;
}

/**
 * The task, if `user` may report progress on it now: the owner (or a person of the owner unit) or a
 * co-operating unit, and the task is not closed.
 * @throws not_found (cannot see it), forbidden (someone else's task), invalid_state (closed)
 */
export async function mayReportProgress(store: Store, user: AuthUser, taskId: number): Promise<TaskRow> {
  const t = await visibleTask(store, user, taskId);
  if (!(await isInvolved(store, user, t))) throw forbidden('Only the owner or a co-operating unit may report progress on this task');
  if (t.status === 'done' || t.status === 'cancelled') throw invalidState('The task is closed');
  return t;
}
