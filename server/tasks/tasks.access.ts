import { and, eq } from 'drizzle-orm';
import type { TaskStatus } from '../../shared/protocol/tasks.js';
import type { AuthUser } from '../auth/sessions.js';
import type { AppContext } from '../context.js';
import type { Db } from '../db/client.js';
import { committeeMembers, taskCoUnits, tasks, users } from '../db/schema/index.js';
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
export function canManageCommittee(db: Db, user: AuthUser, committeeId: number): boolean {
  return user.systemRole === 'admin' || isCommitteeSecretary(db, user.id, committeeId);
}

export function isCommitteeMember(db: Db, userId: number, committeeId: number): boolean {
  return !!db
    .select({ u: committeeMembers.userId })
    .from(committeeMembers)
    .where(and(eq(committeeMembers.committeeId, committeeId), eq(committeeMembers.userId, userId)))
    .get();
}

export function userUnit(db: Db, userId: number): string | null {
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
export function meetingVisible(db: Db, user: AuthUser, meetingId: number | null, cache?: Map<number, boolean>): boolean {
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
