import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, inDays, startTestServer } from '../helpers/server.js';
import { buildCommitteeMeeting, buildMeeting, buildUser, giveUnits, ownUnit } from '../helpers/factories.js';

/**
 * Each test builds its own world: a committee with a chair, a secretary and members (named member1…memberN here)
 * in units of their own, a published meeting of it with two agenda items, and an outsider. Nothing is shared
 * between tests, so they pass in any order (vitest --sequence.shuffle).
 */
describe('tasks and follow-up', () => {
  let s: TestServer;
  let now = Date.now();
  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
    // The test drives the clock and the batches itself.
    s.app.ctx.jobs.setOptions({ now: () => new Date(now), intervalMs: 3600_000 });
  });
  afterAll(() => s?.close());

  /**
   * `members` members; member1 works at the home affairs department, member2 at information and communications,
   * member4 at finance and member5 at health (those that exist), each unit of this test only.
   */
  async function world(members: number) {
    const m = await buildMeeting(s, { members, agendaItems: 2, publish: true });
    const units = { noiVu: ownUnit('Sở Nội vụ'), ttTT: ownUnit('Sở Thông tin và Truyền thông'), taiChinh: ownUnit('Sở Tài chính'), yTe: ownUnit('Sở Y tế') };
    const inUnits: [number, string][] = [[0, units.noiVu], [1, units.ttTT], [3, units.taiChinh], [4, units.yTe]];
    await giveUnits(await s.login('admin'), inUnits.filter(([i]) => i < members).map(([i, unit]) => [m.members[i], unit]));
    const ids: Record<string, number> = Object.fromEntries(m.members.map((u, i) => [`member${i + 1}`, u.id]));
    const member = (n: number) => m.as('member', n - 1);
    const secretary = await m.as('secretary');
    const stranger = await buildUser(s);
    const outsider = () => s.login(stranger.username, stranger.password);
    const base = () => ({ meetingId: m.meetingId, agendaItemId: m.itemIds[0], title: 'Hoàn thiện quy chế số hóa hồ sơ', deadline: inDays(10) });
    return { m, units, ids, member, secretary, outsider, base, board: `/api/committees/${m.committeeId}/tasks` };
  }

  it('a task without an owner, with two owners, or with a deadline in the past is refused and nothing is created', async () => {
    const { ids, units, secretary, base, board } = await world(1);
    const count = async () => (await secretary.get(`${board}?status=all`)).body.tasks.length;
    const before = await count();
    const none = await secretary.post('/api/tasks', base());
    expect(none.status).toBe(400);
    expect(none.body.error.code).toBe('invalid_payload');
    const both = await secretary.post('/api/tasks', { ...base(), owner: { kind: 'user', userId: ids.member1, unit: units.noiVu } });
    expect(both.status).toBe(400);
    const list = await secretary.post('/api/tasks', { ...base(), owner: [{ kind: 'user', userId: ids.member1 }, { kind: 'unit', unit: units.noiVu }] });
    expect(list.status).toBe(400);
    const past = await secretary.post('/api/tasks', { ...base(), owner: { kind: 'user', userId: ids.member1 }, deadline: new Date(now - 60_000).toISOString() });
    expect(past.status).toBe(400);
    expect(past.body.error.code).toBe('deadline_in_past');
    const unknownUnit = await secretary.post('/api/tasks', { ...base(), owner: { kind: 'unit', unit: 'Sở Không Tồn Tại' } });
    expect(unknownUnit.body.error.code).toBe('unknown_owner');
    expect(await count()).toBe(before);
    // The same task with its owner is accepted: the refusals above were for their faults only.
    expect((await secretary.post('/api/tasks', { ...base(), owner: { kind: 'unit', unit: units.noiVu } })).status).toBe(201);
    expect(await count()).toBe(before + 1);
  });

  it('only meeting managers create tasks; a member is refused', async () => {
    const { ids, member, base, board, secretary } = await world(1);
    const r = await (await member(1)).post('/api/tasks', { ...base(), owner: { kind: 'user', userId: ids.member1 } });
    expect(r.status).toBe(403);
    expect((await secretary.get(`${board}?status=all`)).body.tasks).toEqual([]);
  });

  it('a task from a conclusion shows on the owner\'s and the co-operating unit\'s "my tasks"; progress on someone else\'s task is refused', async () => {
    const { m, ids, units, member, secretary, outsider, base } = await world(4);
    expect((await secretary.put(`/api/meetings/${m.meetingId}/agenda/items/${m.itemIds[0]}/conclusion`, { text: 'Giao Sở Nội vụ chủ trì hoàn thiện quy chế.' })).status).toBe(200);
    const created = await secretary.post('/api/tasks', { ...base(), owner: { kind: 'user', userId: ids.member1 }, coUnits: [units.taiChinh] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'open', owner: { kind: 'user', userId: ids.member1 }, coUnits: [units.taiChinh] });
    const taskId = created.body.id;

    const owner = await member(1);
    expect((await owner.get('/api/tasks/mine')).body.tasks.map((t: { id: number }) => t.id)).toContain(taskId);
    const coop = await member(4); // Sở Tài chính
    expect((await coop.get('/api/tasks/mine')).body.tasks.map((t: { id: number }) => t.id)).toContain(taskId);
    const other = await member(2);
    expect((await other.get('/api/tasks/mine')).body.tasks.map((t: { id: number }) => t.id)).not.toContain(taskId);

    const refused = await other.post(`/api/tasks/${taskId}/progress`, { comment: 'Tôi báo cáo thay' });
    expect(refused.status).toBe(403);
    expect((await (await outsider()).post(`/api/tasks/${taskId}/progress`, { comment: 'x' })).status).toBe(404);

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
    const { ids, units, member, secretary, outsider, base, board } = await world(5);
    const t1 = (await secretary.post('/api/tasks', { ...base(), title: 'Nhiệm vụ hạn xa', owner: { kind: 'unit', unit: units.yTe }, deadline: inDays(30) })).body;
    const t2 = (await secretary.post('/api/tasks', { ...base(), title: 'Nhiệm vụ hạn gần', owner: { kind: 'user', userId: ids.member3 }, deadline: inDays(5) })).body;
    const runner = s.app.ctx.jobs;
    const member3 = await member(3);
    const kinds = async () => (await member3.get('/api/notifications')).body.notifications.map((n: { kind: string }) => n.kind).filter((k: string) => k.startsWith('task_'));

    try {
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

      const tasks = (await secretary.get(board)).body.tasks;
      expect(tasks[0]).toMatchObject({ id: t2.id, overdue: true });
      expect(tasks.map((t: { id: number }) => t.id)).toContain(t1.id);
      const overdueOnly = (await secretary.get(`${board}?status=overdue`)).body.tasks;
      expect(overdueOnly.map((t: { id: number }) => t.id)).toEqual([t2.id]);
      const csv = await secretary.get(`${board}.csv`);
      expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
      expect(csv.body).toContain('Nhiệm vụ hạn gần');
      const pdf = await secretary.request('GET', `${board}.pdf`);
      expect(pdf.headers.get('content-type')).toBe('application/pdf');
      expect((await (await outsider()).get(board)).status).toBe(404);
    } finally {
      now = Date.now();
    }
  });

  it('the next meeting of the committee gets a follow-up agenda item listing the open tasks', async () => {
    const { m, ids, member, secretary, base } = await world(2);
    // Tasks in the earlier meeting: one open, one done.
    const open = await secretary.post('/api/tasks', { ...base(), title: 'Rà soát thủ tục kỳ trước', owner: { kind: 'user', userId: ids.member2 } });
    expect(open.status).toBe(201);
    const done = await secretary.post('/api/tasks', { ...base(), title: 'Báo cáo đã xong kỳ trước', owner: { kind: 'user', userId: ids.member1 } });
    const owner = await member(1);
    expect((await owner.post(`/api/tasks/${done.body.id}/done`, { comment: 'xong' })).status).toBe(200);
    expect((await secretary.post(`/api/tasks/${done.body.id}/confirm`, {})).status).toBe(200);
    const next = await buildCommitteeMeeting(m, { secretary, title: 'Phiên họp kỳ sau', startsInHours: 20 * 24, publish: true });
    const agenda = await secretary.get(`/api/meetings/${next.meetingId}/agenda`);
    const items = agenda.body.items as { title: string; description: string }[];
    const follow = items.find((i) => i.title === 'Theo dõi thực hiện kết luận kỳ trước');
    expect(follow).toBeDefined();
    expect(follow!.description).toContain('Rà soát thủ tục kỳ trước');
    expect(follow!.description).not.toContain('Báo cáo đã xong kỳ trước'); // done tasks are not listed
  });
});
