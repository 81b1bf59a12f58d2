import { and, asc, desc, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import type { BoardQuery, Task, TaskAttachment, TaskStatus } from '../../shared/protocol/tasks.js';
import type { AuthUser } from '../auth/sessions.js';
import type { AppContext } from '../context.js';
import type { Db } from '../db/client.js';
import { agendaItems, conclusions, meetings, taskAttachments, taskCoUnits, taskEvents, tasks, users } from '../db/schema/index.js';
import { notFound } from '../http/errors.js';
import { meetingAccess } from '../meetings/meetings.access.js';
import { OPEN, type TaskRow, canManageCommittee, isCommitteeMember, isCoOperating, isOwner, maySeeAttachments, meetingVisible, taskNow, userUnit, visibleTask } from './tasks.access.js';

/* Reading tasks: one task with its history, "my tasks", a meeting's tasks, the committee board and its CSV. */

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

export function toTask(db: Db, user: AuthUser, t: TaskRow, now: Date): Task {
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

