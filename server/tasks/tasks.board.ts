import { and, asc, desc, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import type { BoardQuery, Task, TaskAttachment, TaskStatus } from '../../shared/protocol/tasks.js';
import { foldText } from '../../shared/rules/fold.js';
import type { AuthUser } from '../auth/sessions.js';
import type { AppContext } from '../context.js';
import type { Store } from '../db/store.js';
import { agendaItems, conclusions, meetings, taskAttachments, taskCoUnits, taskEvents, tasks, users } from '../db/tables.js';
import { notFound } from '../http/errors.js';
import { meetingAccess } from '../meetings/meetings.access.js';
import { OPEN, type TaskRow, canManageCommittee, isCoOperating, isCommitteeMember, isInvolved, maySeeAttachments, meetingVisible, ownsTask, taskNow, userUnit, visibleTask } from './tasks.access.js';

/* Reading tasks: one task with its history, "my tasks", a meeting's tasks, the committee board and its CSV. */

/** Units known to the directory (users' units), for the owner and co-operating pickers. */
export async function listUnits(store: Store): Promise<string[]> {
  const rows = await store.q
    .selectDistinct({ unit: users.unit })
    .from(users)
    .where(and(isNotNull(users.unit), eq(users.active, true)))
    .orderBy(asc(users.unit));
  return rows.map((r) => r.unit!).filter(Boolean);
}

/** The first row's value of a one-column read, or `fallback`. */
async function first<T>(rows: Promise<{ v: T }[]>, fallback: T): Promise<T> {
  const [r] = await rows;
  return r ? r.v : fallback;
}

export async function toTask(store: Store, user: AuthUser, t: TaskRow, now: Date): Promise<Task> {
  const { q } = store;
  const owner =
    t.ownerUserId != null
      ? { kind: 'user' as const, userId: t.ownerUserId, name: await first(q.select({ v: users.fullName }).from(users).where(eq(users.id, t.ownerUserId)).limit(1), '') }
      : { kind: 'unit' as const, unit: t.ownerUnit! };
  const coUnits = (await q.select({ unit: taskCoUnits.unit }).from(taskCoUnits).where(eq(taskCoUnits.taskId, t.id))).map((r) => r.unit);
  const meetingTitle = t.meetingId ? await first<string | null>(q.select({ v: meetings.title }).from(meetings).where(eq(meetings.id, t.meetingId)).limit(1), null) : null;
  const agendaItemTitle = t.agendaItemId
    ? await first<string | null>(q.select({ v: agendaItems.title }).from(agendaItems).where(eq(agendaItems.id, t.agendaItemId)).limit(1), null)
    : null;
  const conclusionText = t.conclusionId
    ? await first<string | null>(q.select({ v: conclusions.text }).from(conclusions).where(eq(conclusions.id, t.conclusionId)).limit(1), null)
    : null;
  const assignedBy = t.createdBy ? await first<string | null>(q.select({ v: users.fullName }).from(users).where(eq(users.id, t.createdBy)).limit(1), null) : null;
  const percent = await first<number | null>(
    q
      .select({ v: taskEvents.percent })
      .from(taskEvents)
      .where(and(eq(taskEvents.taskId, t.id), isNotNull(taskEvents.percent)))
      .orderBy(desc(taskEvents.id))
      .limit(1),
    null,
  );
  const owns = await ownsTask(store, user, t);
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
      report: open && t.status !== 'done_reported' && (owns || (await isCoOperating(store, user, t))),
      markDone: owns && (t.status === 'open' || t.status === 'in_progress'),
      confirm: t.status === 'done_reported' && (await canManageCommittee(store, user, t.committeeId)),
      seeAttachments: await maySeeAttachments(store, user, t),
    },
  };
}

/** `toTask` of each row, in order. */
async function toTasks(store: Store, user: AuthUser, rows: TaskRow[], now: Date): Promise<Task[]> {
  const list: Task[] = [];
  for (const t of rows) list.push(await toTask(store, user, t, now));
  return list;
}

/** One task with its full history. */
export async function getTask(ctx: AppContext, user: AuthUser, taskId: number) {
  const { store } = ctx;
  const t = await visibleTask(store, user, taskId);
  const history = await store.q
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
    .orderBy(asc(taskEvents.id));
  const task = await toTask(store, user, t, taskNow(ctx));
  const files = task.can.seeAttachments ? await eventAttachments(store, taskId) : new Map<number, TaskAttachment[]>();
  return { ...task, history: history.map((h) => ({ ...h, attachments: files.get(h.id) ?? [] })) };
}

/** The attachments of a task's events, by event id, in upload order. */
async function eventAttachments(store: Store, taskId: number): Promise<Map<number, TaskAttachment[]>> {
  const byEvent = new Map<number, TaskAttachment[]>();
  const rows = await store.q.select().from(taskAttachments).where(eq(taskAttachments.taskId, taskId)).orderBy(asc(taskAttachments.id));
  for (const a of rows) {
    const list = byEvent.get(a.eventId) ?? [];
    list.push({ id: a.id, fileName: a.fileName, contentType: a.contentType, size: a.size, url: `/api/tasks/${taskId}/attachments/${a.id}` });
    byEvent.set(a.eventId, list);
  }
  return byEvent;
}

/** "My tasks": owned by me or my unit, or where my unit co-operates; open first, by deadline. */
export async function myTasks(ctx: AppContext, user: AuthUser): Promise<Task[]> {
  const { store } = ctx;
  const unit = await userUnit(store, user.id);
  const rows = await store.q
    .select()
    .from(tasks)
    .where(
      unit
        ? sql`${tasks.ownerUserId} = ${user.id} or ${tasks.ownerUnit} = ${unit} or ${tasks.id} in (select task_id from task_co_units where unit = ${unit})`
        : eq(tasks.ownerUserId, user.id),
    )
    .orderBy(asc(tasks.deadline));
  const list = await toTasks(store, user, rows, taskNow(ctx));
  const rank = (t: Task) => (t.overdue ? 0 : OPEN.includes(t.status) ? 1 : 2);
  return list.sort((a, b) => rank(a) - rank(b) || a.deadline.localeCompare(b.deadline));
}

/**
 * The tasks assigned in one meeting, in the order they were created: all of them for its
 * secretaries and chair; for others, those they may see (committee members, people involved).
 * @throws not_found (meeting not visible)
 */
export async function meetingTasks(ctx: AppContext, user: AuthUser, meetingId: number): Promise<Task[]> {
  const { store } = ctx;
  const a = await meetingAccess(store, user, meetingId);
  const rows = await store.q.select().from(tasks).where(eq(tasks.meetingId, meetingId)).orderBy(asc(tasks.id));
  const all =
    a.canChair || (await canManageCommittee(store, user, a.meeting.committeeId)) || (await isCommitteeMember(store, user.id, a.meeting.committeeId));
  const shown: TaskRow[] = [];
  for (const t of rows) if (all || (await isInvolved(store, user, t))) shown.push(t);
  return toTasks(store, user, shown, taskNow(ctx));
}

/**
 * The follow-up board of a committee: overdue first, then by deadline; filterable by status,
 * owner person, owner unit and text. Members of the committee, its secretaries and admins.
 */
export async function committeeBoard(ctx: AppContext, user: AuthUser, committeeId: number, q: BoardQuery): Promise<Task[]> {
  const { store } = ctx;
  const manager = await canManageCommittee(store, user, committeeId);
  if (!manager && !(await isCommitteeMember(store, user.id, committeeId))) throw notFound('Committee');
  const now = taskNow(ctx);
  const conds = [eq(tasks.committeeId, committeeId)];
  if (q.status === 'open' || q.status === 'overdue') conds.push(inArray(tasks.status, OPEN));
  if (q.status === 'done') conds.push(eq(tasks.status, 'done'));
  if (q.status === 'overdue') conds.push(sql`${tasks.deadline} < ${now.toISOString()}`);
  if (q.ownerUserId) conds.push(eq(tasks.ownerUserId, q.ownerUserId));
  if (q.ownerUnit) conds.push(eq(tasks.ownerUnit, q.ownerUnit));
  if (q.meetingId) conds.push(eq(tasks.meetingId, q.meetingId));
  const found = await store.q
    .select()
    .from(tasks)
    .where(and(...conds))
    .orderBy(asc(tasks.deadline))
    .limit(2000);
  // The text filter matches as search does (shared/rules/fold.ts: without marks, đ as d, any case), the same on
  // both stores: SQL's LIKE is case-blind for ASCII only on SQLite, case-sensitive on PostgreSQL, and reads % and _.
  const needle = q.q ? foldText(q.q).trim() : '';
  const rows = needle ? found.filter((t) => foldText(t.title).includes(needle) || foldText(t.description).includes(needle)) : found;
  // Read-time rule: tasks of meetings the caller may not see now (drafts, meetings they are not
  // invited to) are left out unless they are involved in them.
  const seen = new Map<number, boolean>();
  const shown: TaskRow[] = [];
  for (const t of rows) if (manager || (await isInvolved(store, user, t)) || (await meetingVisible(store, user, t.meetingId, seen))) shown.push(t);
  const list = await toTasks(store, user, shown, now);
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

