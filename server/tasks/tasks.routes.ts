import { IdParams } from '../../shared/protocol/common.js';
import { Ok } from '../../shared/protocol/common.js';
import { BoardQuery, CommentBody, Conclusion, ConclusionBody, ConclusionList, CreateTaskBody, ItemParams, NewConclusionBody, PatchConclusionBody, ProgressBody, TaskDetail, TaskList, UnitList } from '../../shared/protocol/tasks.js';
import type { AppContext } from '../context.js';
import { committees, meetings } from '../db/tables.js';
import { eq } from 'drizzle-orm';
import { enqueueReminderMails } from '../mail/mail.service.js';
import { pdfPool } from '../documents/pdf.pool.js';
import { addConclusion, deleteConclusion, listConclusions, setConclusion, updateConclusion } from './conclusions.service.js';
import { STATUS_VI, boardCsv, committeeBoard, getTask, listUnits, meetingTasks, myTasks } from './tasks.board.js';
import { queueFollowUpRefresh } from './tasks.follow-up.js';
import { TASK_REMINDER_JOB, runTaskReminder } from './tasks.reminders.js';
import { cancelTask, confirmDone, createTask, markDone, reportProgress } from './tasks.service.js';
import { taskAttachmentRoutes } from './task-attachments.routes.js';

/** Conclusions per agenda item, follow-up tasks, "my tasks", the committee board and its exports, reminders. */
export function taskRoutes(ctx: AppContext): void {
  const { api, store } = ctx;
  const tags = ['tasks'];

  ctx.jobs.register(TASK_REMINDER_JOB, {
    mode: 'transactional',
    run: async (q, job) => {
      const sent = await runTaskReminder(ctx, job.payload, job.key);
      // The e-mails (when SMTP is configured) are queued in the reminder's own transaction.
      if (sent) await enqueueReminderMails(ctx, q, job.key, sent.userIds, { kind: sent.kind, taskId: sent.taskId });
    },
  });
  // A meeting that becomes upcoming (created, edited, published) gets its follow-up item.
  ctx.bus.on('meeting:changed', ({ meetingId }, meta) => {
    // The node that made the change refreshes the item (a node that heard of it from another one would do it twice).
    if (meta?.remote) return;
    // A listener must never throw into the emitting domain's code: the refresh runs on, its failure logged.
    const refresh = async () => {
      const [m] = await store.q.select({ c: meetings.committeeId }).from(meetings).where(eq(meetings.id, meetingId)).limit(1);
      if (m) await queueFollowUpRefresh(ctx, m.c);
    };
    // Queued from the start (the committee's lookup too), so that the request that changed the meeting waits for it.
    ctx.bus.queue(`tasks:follow-up-of:${meetingId}`, refresh).catch((err: unknown) => ctx.log.error({ err, meetingId }, 'follow-up agenda item refresh failed'));
  });

  api.route(
    { method: 'get', path: '/api/meetings/:id/conclusions', summary: 'Conclusions of the agenda items', tags, access: 'user', params: IdParams, response: ConclusionList },
    async ({ user, params }) => ({ conclusions: await listConclusions(store, user, params.id) }),
  );
  api.route(
    { method: 'put', path: '/api/meetings/:id/agenda/items/:itemId/conclusion', summary: "Record or replace an agenda item's first conclusion (secretary or chair)", tags, access: 'user', params: ItemParams, body: ConclusionBody, response: Conclusion },
    ({ user, params, body }) => setConclusion(ctx, user, params.id, params.itemId, body.text, body.kind),
  );
  api.route(
    { method: 'post', path: '/api/meetings/:id/agenda/items/:itemId/conclusions', summary: 'Add a conclusion (decision, assignment or note) to an agenda item (secretary or chair)', tags, access: 'user', params: ItemParams, body: NewConclusionBody, response: Conclusion, status: 201 },
    ({ user, params, body }) => addConclusion(ctx, user, params.id, params.itemId, body.text, body.kind),
  );
  api.route(
    { method: 'patch', path: '/api/conclusions/:id', summary: "Change a conclusion's text or kind (secretary or chair)", tags, access: 'user', params: IdParams, body: PatchConclusionBody, response: Conclusion },
    ({ user, params, body }) => updateConclusion(ctx, user, params.id, body),
  );
  api.route(
    { method: 'delete', path: '/api/conclusions/:id', summary: 'Delete a conclusion; its tasks stay (secretary or chair)', tags, access: 'user', params: IdParams, response: Ok },
    async ({ user, params }) => {
      await deleteConclusion(ctx, user, params.id);
      return { ok: true as const };
    },
  );
  api.route(
    { method: 'get', path: '/api/meetings/:id/tasks', summary: 'Tasks assigned in a meeting (all for its secretaries and chair, else those the caller may see)', tags, access: 'user', params: IdParams, response: TaskList },
    async ({ user, params }) => ({ tasks: await meetingTasks(ctx, user, params.id) }),
  );
  api.route(
    { method: 'get', path: '/api/tasks/units', summary: 'Units that may own or co-operate on tasks', tags, access: 'user', response: UnitList },
    async () => ({ units: await listUnits(store) }),
  );
  api.route(
    { method: 'get', path: '/api/tasks/mine', summary: 'My tasks: owned by me or my unit, or my unit co-operates', tags, access: 'user', response: TaskList },
    async ({ user }) => ({ tasks: await myTasks(ctx, user) }),
  );
  api.route(
    { method: 'post', path: '/api/tasks', summary: 'Create a task with exactly one owner (meeting secretary)', tags, access: 'user', body: CreateTaskBody, response: TaskDetail, status: 201 },
    async ({ user, body }) => getTask(ctx, user, (await createTask(ctx, user, body)).id),
  );
  api.route(
    { method: 'get', path: '/api/tasks/:id', summary: 'One task with its full history', tags, access: 'user', params: IdParams, response: TaskDetail },
    ({ user, params }) => getTask(ctx, user, params.id),
  );
  api.route(
    { method: 'post', path: '/api/tasks/:id/progress', summary: 'Report progress (owner or co-operating unit)', tags, access: 'user', params: IdParams, body: ProgressBody, response: TaskDetail },
    async ({ user, params, body }) => {
      await reportProgress(ctx, user, params.id, body.comment, body.percent);
      return getTask(ctx, user, params.id);
    },
  );
  api.route(
    { method: 'post', path: '/api/tasks/:id/done', summary: 'The owner reports the task done', tags, access: 'user', params: IdParams, body: CommentBody, response: TaskDetail },
    async ({ user, params, body }) => {
      await markDone(ctx, user, params.id, body.comment);
      return getTask(ctx, user, params.id);
    },
  );
  api.route(
    { method: 'post', path: '/api/tasks/:id/confirm', summary: 'The secretary confirms a task reported done', tags, access: 'user', params: IdParams, body: CommentBody, response: TaskDetail },
    async ({ user, params, body }) => {
      await confirmDone(ctx, user, params.id, true, body.comment);
      return getTask(ctx, user, params.id);
    },
  );
  api.route(
    { method: 'post', path: '/api/tasks/:id/reopen', summary: 'The secretary sends a task reported done back', tags, access: 'user', params: IdParams, body: CommentBody, response: TaskDetail },
    async ({ user, params, body }) => {
      await confirmDone(ctx, user, params.id, false, body.comment);
      return getTask(ctx, user, params.id);
    },
  );
  api.route(
    { method: 'post', path: '/api/tasks/:id/cancel', summary: 'Cancel a task (committee secretary)', tags, access: 'user', params: IdParams, body: CommentBody, response: TaskDetail },
    async ({ user, params, body }) => {
      await cancelTask(ctx, user, params.id, body.comment);
      return getTask(ctx, user, params.id);
    },
  );
  taskAttachmentRoutes(ctx);
  api.route(
    { method: 'get', path: '/api/committees/:id/tasks', summary: 'Follow-up board: overdue first, filterable', tags, access: 'user', params: IdParams, query: BoardQuery, response: TaskList },
    async ({ user, params, query }) => ({ tasks: await committeeBoard(ctx, user, params.id, query) }),
  );
  api.route(
    { method: 'get', path: '/api/committees/:id/tasks.csv', summary: 'Follow-up board as CSV', tags, access: 'user', params: IdParams, query: BoardQuery, responseContentType: 'text/csv' },
    async ({ user, params, query, res }) => {
      const csv = boardCsv(await committeeBoard(ctx, user, params.id, query));
      res.setHeader('content-disposition', `attachment; filename="theo-doi-nhiem-vu-${params.id}.csv"`);
      res.type('text/csv; charset=utf-8').send(csv);
    },
  );
  api.route(
    { method: 'get', path: '/api/committees/:id/tasks.pdf', heavy: true, summary: 'Follow-up board as PDF', tags, access: 'user', params: IdParams, query: BoardQuery, responseContentType: 'application/pdf' },
    async ({ user, params, query, res }) => {
      const list = await committeeBoard(ctx, user, params.id, query);
      const [c] = await store.q.select({ name: committees.name }).from(committees).where(eq(committees.id, params.id)).limit(1);
      const fmt = (iso: string) => new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', day: '2-digit', month: '2-digit', year: 'numeric' }).format(new Date(iso));
      const pdf = await pdfPool(ctx.config).render('table', {
        heading: c?.name ?? '',
        title: 'BẢNG THEO DÕI THỰC HIỆN NHIỆM VỤ',
        subtitle: `Tính đến ngày ${fmt(new Date().toISOString())}`,
        rows: [
          ['STT', 'Nhiệm vụ', 'Chủ trì', 'Hạn', 'Trạng thái'],
          ...list.map((t, i) => [String(i + 1), t.title, t.owner.kind === 'user' ? t.owner.name : t.owner.unit, fmt(t.deadline), `${STATUS_VI[t.status]}${t.overdue ? ' (quá hạn)' : ''}`]),
        ],
      }, ctx.log);
      res.setHeader('content-disposition', `attachment; filename="theo-doi-nhiem-vu-${params.id}.pdf"`);
      res.type('application/pdf').send(pdf);
    },
  );
}
