import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpClient, type TestServer, buildMeeting, inDays, startTestServer, userIds } from '../helpers/server.js';

describe('tasks and follow-up', () => {
  let s: TestServer;
  let secretary: HttpClient;
  let ids: Record<string, number>;
  let meetingId: number;
  let itemId: number;
  let now = Date.now();
  beforeAll(async () => {
    s = await startTestServer();
    // The test drives the clock and the batches itself.
    s.app.ctx.jobs.setOptions({ now: () => new Date(now), intervalMs: 3600_000 });
    secretary = await s.login('secretary');
    ids = await userIds(await s.login('admin'));
    const m = await buildMeeting(secretary, { agendaItems: 2, publish: true });
    meetingId = m.meetingId;
    itemId = m.itemIds[0];
  });
  afterAll(() => s.close());

  const base = () => ({ meetingId, agendaItemId: itemId, title: 'Hoàn thiện quy chế số hóa hồ sơ', deadline: inDays(10) });

  it('a task without an owner, with two owners, or with a deadline in the past is refused and nothing is created', async () => {
    // Other tests of this file (run in any order) create tasks too: count, don't assume an empty board.
    const count = async () => (await secretary.get(`/api/committees/1/tasks?status=all`)).body.tasks.length;
    const before = await count();
    const none = await secretary.post('/api/tasks', base());
    expect(none.status).toBe(400);
    expect(none.body.error.code).toBe('invalid_payload');
    const both = await secretary.post('/api/tasks', { ...base(), owner: { kind: 'user', userId: ids.member1, unit: 'Sở Nội vụ' } });
    expect(both.status).toBe(400);
    const list = await secretary.post('/api/tasks', { ...base(), owner: [{ kind: 'user', userId: ids.member1 }, { kind: 'unit', unit: 'Sở Nội vụ' }] });
    expect(list.status).toBe(400);
    const past = await secretary.post('/api/tasks', { ...base(), owner: { kind: 'user', userId: ids.member1 }, deadline: new Date(now - 60_000).toISOString() });
    expect(past.status).toBe(400);
    expect(past.body.error.code).toBe('deadline_in_past');
    const unknownUnit = await secretary.post('/api/tasks', { ...base(), owner: { kind: 'unit', unit: 'Sở Không Tồn Tại' } });
    expect(unknownUnit.body.error.code).toBe('unknown_owner');
    expect(await count()).toBe(before);
  });

  it('only meeting managers create tasks; a member is refused', async () => {
    const m = await s.login('member5');
    const r = await m.post('/api/tasks', { ...base(), owner: { kind: 'user', userId: ids.member5 } });
    expect(r.status).toBe(403);
  });

  it('a task from a conclusion shows on the owner\'s and the co-operating unit\'s "my tasks"; progress on someone else\'s task is refused', async () => {
    expect((await secretary.put(`/api/meetings/${meetingId}/agenda/items/${itemId}/conclusion`, { text: 'Giao Sở Nội vụ chủ trì hoàn thiện quy chế.' })).status).toBe(200);
    const created = await secretary.post('/api/tasks', { ...base(), owner: { kind: 'user', userId: ids.member1 }, coUnits: ['Sở Tài chính'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'open', owner: { kind: 'user', userId: ids.member1 }, coUnits: ['Sở Tài chính'] });
    const taskId = created.body.id;

    const owner = await s.login('member1');
    expect((await owner.get('/api/tasks/mine')).body.tasks.map((t: { id: number }) => t.id)).toContain(taskId);
    const coop = await s.login('member4'); // Sở Tài chính
    expect((await coop.get('/api/tasks/mine')).body.tasks.map((t: { id: number }) => t.id)).toContain(taskId);
    const other = await s.login('member2');
    expect((await other.get('/api/tasks/mine')).body.tasks.map((t: { id: number }) => t.id)).not.toContain(taskId);

    const refused = await other.post(`/api/tasks/${taskId}/progress`, { comment: 'Tôi báo cáo thay' });
    expect(refused.status).toBe(403);
    const outsider = await s.login('guest');
    expect((await outsider.post(`/api/tasks/${taskId}/progress`, { comment: 'x' })).status).toBe(404);

    const p = await owner.post(`/api/tasks/${taskId}/progress`, { comment: 'Đã xây dựng dự thảo', percent: 40 });
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ status: 'in_progress', percent: 40 });
    expect((await coop.post(`/api/tasks/${taskId}/done`, { comment: 'xong' })).status).toBe(403);
    expect((await owner.post(`/api/tasks/${taskId}/done`, { comment: 'Đã ban hành' })).body.status).toBe('done_reported');
    expect((await owner.post(`/api/tasks/${taskId}/confirm`, {})).status).toBe(403);
    const confirmed = await secretary.post(`/api/tasks/${taskId}/confirm`, { comment: 'Xác nhận' });
    expect(confirmed.body.status).toBe('done');
    expect(confirmed.body.history.map((h: { kind: string; toStatus: string }) => `${h.kind}:${h.toStatus}`)).toEqual(['created:open', 'progress:in_progress', 'status:done_reported', 'status:done']);
  });

  it('reminders: one before the deadline and one when overdue, each exactly once; the board puts overdue tasks first and exports CSV', async () => {
    const t1 = (await secretary.post('/api/tasks', { ...base(), title: 'Nhiệm vụ hạn xa', owner: { kind: 'unit', unit: 'Sở Y tế' }, deadline: inDays(30) })).body;
    const t2 = (await secretary.post('/api/tasks', { ...base(), title: 'Nhiệm vụ hạn gần', owner: { kind: 'user', userId: ids.member3 }, deadline: inDays(5) })).body;
    const runner = s.app.ctx.jobs;
    const member3 = await s.login('member3');
    const kinds = async () => (await member3.get('/api/notifications')).body.notifications.map((n: { kind: string }) => n.kind).filter((k: string) => k.startsWith('task_'));

    await runner.runDue();
    expect(await kinds()).toEqual(['task_assigned']);
    now = Date.parse(t2.deadline) - 2 * 86400_000; // within 3 days of the deadline
    await runner.runDue();
    await runner.runDue();
    expect((await kinds()).sort()).toEqual(['task_assigned', 'task_due_soon']);
    now = Date.parse(t2.deadline) + 60_000;
    await runner.runDue();
    await runner.runDue();
    expect((await kinds()).sort()).toEqual(['task_assigned', 'task_due_soon', 'task_overdue']);

    const board = (await secretary.get('/api/committees/1/tasks')).body.tasks;
    expect(board[0]).toMatchObject({ id: t2.id, overdue: true });
    expect(board.map((t: { id: number }) => t.id)).toContain(t1.id);
    const overdueOnly = (await secretary.get('/api/committees/1/tasks?status=overdue')).body.tasks;
    expect(overdueOnly.map((t: { id: number }) => t.id)).toEqual([t2.id]);
    const csv = await secretary.get('/api/committees/1/tasks.csv');
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    expect(csv.body).toContain('Nhiệm vụ hạn gần');
    const pdf = await secretary.request('GET', '/api/committees/1/tasks.pdf');
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect((await (await s.login('guest')).get('/api/committees/1/tasks')).status).toBe(404);
    now = Date.now();
  });

  it('the next meeting of the committee gets a follow-up agenda item listing the open tasks', async () => {
    // Its own tasks in the earlier meeting (tests run in any order): one open, one done.
    const open = await secretary.post('/api/tasks', { ...base(), title: 'Rà soát thủ tục kỳ trước', owner: { kind: 'user', userId: ids.member2 } });
    expect(open.status).toBe(201);
    const done = await secretary.post('/api/tasks', { ...base(), title: 'Báo cáo đã xong kỳ trước', owner: { kind: 'user', userId: ids.member1 } });
    const owner = await s.login('member1');
    expect((await owner.post(`/api/tasks/${done.body.id}/done`, { comment: 'xong' })).status).toBe(200);
    expect((await secretary.post(`/api/tasks/${done.body.id}/confirm`, {})).status).toBe(200);
    const created = await secretary.post('/api/meetings', { committeeId: 1, title: 'Phiên họp kỳ sau', startsAt: inDays(20, 1), endsAt: inDays(20, 4) });
    expect(created.status).toBe(201);
    await secretary.post(`/api/meetings/${created.body.id}/publish`);
    const agenda = await secretary.get(`/api/meetings/${created.body.id}/agenda`);
    const items = agenda.body.items as { title: string; description: string }[];
    const follow = items.find((i) => i.title === 'Theo dõi thực hiện kết luận kỳ trước');
    expect(follow).toBeDefined();
    expect(follow!.description).toContain('Rà soát thủ tục kỳ trước');
    expect(follow!.description).not.toContain('Báo cáo đã xong kỳ trước'); // done tasks are not listed
  });
});
