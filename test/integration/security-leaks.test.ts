import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltMeeting, buildMeeting } from '../helpers/factories.js';
import { type HttpClient, type TestServer, startTestServer } from '../helpers/server.js';

describe('attacker: no leaks across meetings (tasks, follow-up copies), checked at read time', () => {
  let s: TestServer;
  let m: BuiltMeeting;
  let sec: HttpClient;
  let restricted: { meetingId: number; itemId: number };
  let taskId: number;
  const SECRET = 'Phương án tái cơ cấu mật';

  /** Another meeting of the same committee, `hours` from now, with the given participants. */
  async function meetingOf(hours: number, participants: { userId: number; role: string; canVote?: boolean }[]) {
    const start = Date.now() + hours * 3_600_000;
    const r = await sec.post('/api/meetings', {
      committeeId: m.committeeId,
      title: `Phiên họp ${hours}`,
      startsAt: new Date(start).toISOString(),
      endsAt: new Date(start + 3_600_000).toISOString(),
      participants: participants.map((p) => ({ canVote: p.role !== 'guest', ...p })),
    });
    expect(r.status).toBe(201);
    const agenda = await sec.get(`/api/meetings/${r.body.id}/agenda`);
    const it = await sec.post(`/api/meetings/${r.body.id}/agenda/items`, { version: agenda.body.version, title: 'Nội dung' });
    expect((await sec.post(`/api/meetings/${r.body.id}/publish`)).status).toBe(200);
    return { meetingId: r.body.id as number, itemId: Math.max(...(it.body.items as { id: number }[]).map((x) => x.id)) };
  }

  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
    m = await buildMeeting(s, { members: 2, guests: 1, agendaItems: 1, startsInHours: 48 });
    sec = await m.as('secretary');
    // A restricted meeting earlier than m: chair, secretary and member 0 only (member 1 and the guest are not invited).
    restricted = await meetingOf(2, [
      { userId: m.chair.id, role: 'chair' },
      { userId: m.secretary.id, role: 'secretary' },
      { userId: m.members[0].id, role: 'member' },
    ]);
    const t = await sec.post('/api/tasks', {
      meetingId: restricted.meetingId,
      agendaItemId: restricted.itemId,
      title: SECRET,
      owner: { kind: 'user', userId: m.members[0].id },
      deadline: new Date(Date.now() + 30 * 86400_000).toISOString(),
    });
    expect(t.status).toBe(201);
    taskId = t.body.id;
  });
  afterAll(() => s.close());

  const titles = (list: { title: string }[]) => list.map((t) => t.title);

  it('a committee member not invited to a meeting sees none of its tasks, on the board or by id; the owner and the secretary do', async () => {
    const outsider = await m.as('member', 1);
    const board = await outsider.get(`/api/committees/${m.committeeId}/tasks`);
    expect(board.status).toBe(200);
    expect(titles(board.body.tasks)).not.toContain(SECRET);
    expect((await outsider.get(`/api/tasks/${taskId}`)).status).toBe(404);
    const owner = await m.as('member', 0);
    expect(titles((await owner.get(`/api/committees/${m.committeeId}/tasks`)).body.tasks)).toContain(SECRET);
    expect(titles((await sec.get(`/api/committees/${m.committeeId}/tasks`)).body.tasks)).toContain(SECRET);
  });

  it('a later restriction hides the tasks at once (read time, not grant time)', async () => {
    const open = await meetingOf(3, [
      { userId: m.chair.id, role: 'chair' },
      { userId: m.secretary.id, role: 'secretary' },
      { userId: m.members[0].id, role: 'member' },
      { userId: m.members[1].id, role: 'member' },
    ]);
    const t = await sec.post('/api/tasks', { meetingId: open.meetingId, agendaItemId: open.itemId, title: 'Việc sắp hạn chế', owner: { kind: 'user', userId: m.members[0].id }, deadline: new Date(Date.now() + 20 * 86400_000).toISOString() });
    expect(t.status).toBe(201);
    const viewer = await m.as('member', 1);
    expect((await viewer.get(`/api/tasks/${t.body.id}`)).status).toBe(200);
    const meeting = await sec.get(`/api/meetings/${open.meetingId}`);
    const keep = (meeting.body.participants as { userId: number; role: string; canVote: boolean }[])
      .filter((p) => p.userId !== m.members[1].id)
      .map(({ userId, role, canVote }) => ({ userId, role, canVote }));
    expect((await sec.patch(`/api/meetings/${open.meetingId}`, { version: meeting.body.version, participants: keep })).status).toBe(200);
    expect((await viewer.get(`/api/tasks/${t.body.id}`)).status).toBe(404);
    expect(titles((await viewer.get(`/api/committees/${m.committeeId}/tasks`)).body.tasks)).not.toContain('Việc sắp hạn chế');
  });

  it('the "follow up" copy in the next meeting\'s agenda never lists a restricted task where its guests can read it', async () => {
    // Any meeting change refreshes the follow-up item of the committee's upcoming meetings.
    const meeting = await sec.get(`/api/meetings/${m.meetingId}`);
    expect((await sec.patch(`/api/meetings/${m.meetingId}`, { version: meeting.body.version, description: 'Cập nhật' })).status).toBe(200);
    const guest = await m.as('guest', 0);
    const agenda = await guest.get(`/api/meetings/${m.meetingId}/agenda`);
    expect(agenda.status).toBe(200);
    expect(JSON.stringify(agenda.body)).not.toContain(SECRET);
    const search = await guest.get(`/api/search?q=${encodeURIComponent('tái cơ cấu')}`);
    expect(JSON.stringify(search.body)).not.toContain(SECRET);
  });
});
