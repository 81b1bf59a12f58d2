import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpClient, type TestServer, buildMeeting, inDays, startTestServer, userIds } from '../helpers/server.js';

describe('meetings and agenda preparation', () => {
  let s: TestServer;
  let secretary: HttpClient;
  let member1: HttpClient;
  let guest: HttpClient;
  let ids: Record<string, number>;
  beforeAll(async () => {
    s = await startTestServer();
    secretary = await s.login('secretary');
    member1 = await s.login('member1');
    guest = await s.login('guest');
    ids = await userIds(await s.login('admin'));
  });
  afterAll(() => s.close());

  it('a draft is visible to the secretary only; publishing invites and notifies every participant', async () => {
    const { meetingId } = await buildMeeting(secretary, { agendaItems: 2 });
    expect((await member1.get(`/api/meetings/${meetingId}`)).status).toBe(404);
    expect((await member1.get('/api/meetings')).body.meetings.map((m: { id: number }) => m.id)).not.toContain(meetingId);
    const before = (await member1.get('/api/notifications')).body.unread;
    const pub = await secretary.post(`/api/meetings/${meetingId}/publish`);
    expect(pub.status).toBe(200);
    expect(pub.body.status).toBe('published');
    expect(pub.body.participants.every((p: { invitedAt: string | null }) => p.invitedAt)).toBe(true);
    const m = await member1.get(`/api/meetings/${meetingId}`);
    expect(m.status).toBe(200);
    expect(m.body.myRole).toBe('member');
    const n = (await member1.get('/api/notifications')).body;
    expect(n.unread).toBe(before + 1);
    expect(n.notifications[0]).toMatchObject({ kind: 'meeting_published', meetingId });
    expect((await secretary.post(`/api/meetings/${meetingId}/publish`)).body.error.code).toBe('invalid_state');
  });

  it('a guest not invited gets 404 for the meeting and its agenda, and does not see it listed', async () => {
    const { meetingId } = await buildMeeting(secretary, { agendaItems: 1, publish: true });
    expect((await guest.get(`/api/meetings/${meetingId}`)).status).toBe(404);
    expect((await guest.get(`/api/meetings/${meetingId}/agenda`)).status).toBe(404);
    const list = (await guest.get('/api/meetings?scope=all')).body.meetings.map((m: { id: number }) => m.id);
    expect(list).not.toContain(meetingId);
    expect(list).toContain(1); // the demo meeting they are invited to
  });

  it('a member cannot create meetings or edit an agenda', async () => {
    const committeeId = (await member1.get('/api/committees')).body.committees[0].id;
    const r = await member1.post('/api/meetings', { committeeId, title: 'x', startsAt: inDays(2), endsAt: inDays(3) });
    expect(r.status).toBe(403);
    const add = await member1.post('/api/meetings/1/agenda/items', { version: 1, title: 'chen ngang' });
    expect(add.status).toBe(403);
    expect((await member1.get('/api/meetings/1/agenda')).body.items.some((i: { title: string }) => i.title === 'chen ngang')).toBe(false);
  });

  it('builds nested agendas, numbers them, and moves items between parents', async () => {
    const { meetingId } = await buildMeeting(secretary, { agendaItems: 3 });
    let a = (await secretary.get(`/api/meetings/${meetingId}/agenda`)).body;
    const [one, two, three] = a.items;
    a = (await secretary.post(`/api/meetings/${meetingId}/agenda/items`, { version: a.version, parentId: two.id, title: 'Tiểu mục 2.1' })).body;
    expect(a.items.map((i: { number: string }) => i.number)).toEqual(['1', '2', '2.1', '3']);
    a = (await secretary.post(`/api/meetings/${meetingId}/agenda/items/${three.id}/move`, { version: a.version, parentId: null, position: 0 })).body;
    expect(a.items.map((i: { title: string }) => i.title)).toEqual(['Nội dung 3', 'Nội dung 1', 'Nội dung 2', 'Tiểu mục 2.1']);
    a = (await secretary.post(`/api/meetings/${meetingId}/agenda/items/${one.id}/move`, { version: a.version, parentId: two.id, position: 1 })).body;
    expect(a.items.map((i: { number: string; title: string }) => `${i.number} ${i.title}`)).toEqual([
      '1 Nội dung 3',
      '2 Nội dung 2',
      '2.1 Tiểu mục 2.1',
      '2.2 Nội dung 1',
    ]);
    const del = await secretary.delete(`/api/meetings/${meetingId}/agenda/items/${two.id}?version=${a.version}`);
    expect(del.body.items.map((i: { title: string }) => i.title)).toEqual(['Nội dung 3']);
  });

  it('moving an item under its own descendant is refused with invalid_move and changes nothing', async () => {
    const { meetingId } = await buildMeeting(secretary, { agendaItems: 1 });
    let a = (await secretary.get(`/api/meetings/${meetingId}/agenda`)).body;
    const parent = a.items[0];
    a = (await secretary.post(`/api/meetings/${meetingId}/agenda/items`, { version: a.version, parentId: parent.id, title: 'con' })).body;
    const child = a.items[1];
    for (const target of [parent.id, child.id]) {
      const r = await secretary.post(`/api/meetings/${meetingId}/agenda/items/${parent.id}/move`, { version: a.version, parentId: target, position: 0 });
      expect(r.status).toBe(422);
      expect(r.body.error.code).toBe('invalid_move');
    }
    expect((await secretary.get(`/api/meetings/${meetingId}/agenda`)).body).toEqual(a);
  });

  it('two secretaries editing the same agenda: the stale write gets 409 version_conflict, nothing is lost', async () => {
    const { meetingId, agendaVersion } = await buildMeeting(secretary, { agendaItems: 1 });
    const other = await s.login('secretary');
    const [r1, r2] = await Promise.all([
      secretary.post(`/api/meetings/${meetingId}/agenda/items`, { version: agendaVersion, title: 'A' }),
      other.post(`/api/meetings/${meetingId}/agenda/items`, { version: agendaVersion, title: 'B' }),
    ]);
    const statuses = [r1.status, r2.status].sort();
    expect(statuses).toEqual([201, 409]);
    const loser = r1.status === 409 ? r1 : r2;
    expect(loser.body.error.code).toBe('version_conflict');
    const items = (await secretary.get(`/api/meetings/${meetingId}/agenda`)).body.items;
    expect(items).toHaveLength(2);
  });

  it('meeting edits use optimistic concurrency too', async () => {
    const { meetingId, meeting } = await buildMeeting(secretary);
    const ok = await secretary.patch(`/api/meetings/${meetingId}`, { version: meeting.version, title: 'Đổi tên' });
    expect(ok.status).toBe(200);
    const stale = await secretary.patch(`/api/meetings/${meetingId}`, { version: meeting.version, title: 'Ghi đè' });
    expect(stale.status).toBe(409);
    expect((await secretary.get(`/api/meetings/${meetingId}`)).body.title).toBe('Đổi tên');
  });

  it('changing a published agenda notifies participants again, once per unread batch', async () => {
    const { meetingId, agendaVersion } = await buildMeeting(secretary, { agendaItems: 1, publish: true });
    const count = async () =>
      (await member1.get('/api/notifications')).body.notifications.filter((n: { kind: string; meetingId: number }) => n.kind === 'agenda_updated' && n.meetingId === meetingId).length;
    expect(await count()).toBe(0);
    const a = (await secretary.post(`/api/meetings/${meetingId}/agenda/items`, { version: agendaVersion, title: 'Bổ sung' })).body;
    await secretary.post(`/api/meetings/${meetingId}/agenda/items`, { version: a.version, title: 'Bổ sung 2' });
    expect(await count()).toBe(1);
  });

  it('participants: explicit list with roles; guests never vote; a guest added after publishing is invited', async () => {
    const { meetingId, meeting } = await buildMeeting(secretary, {
      participants: [
        { userId: ids.chair, role: 'chair' },
        { userId: ids.secretary, role: 'secretary' },
        { userId: ids.member2, role: 'member' },
      ],
      publish: true,
    });
    const bad = await secretary.patch(`/api/meetings/${meetingId}`, {
      version: meeting.version + 1,
      participants: [{ userId: ids.guest, role: 'guest', canVote: true }],
    });
    expect(bad.status).toBe(400);
    const r = await secretary.patch(`/api/meetings/${meetingId}`, {
      version: meeting.version + 1,
      participants: [
        { userId: ids.chair, role: 'chair' },
        { userId: ids.secretary, role: 'secretary' },
        { userId: ids.member2, role: 'member' },
        { userId: ids.guest, role: 'guest' },
      ],
    });
    expect(r.status).toBe(200);
    const g = r.body.participants.find((p: { userId: number }) => p.userId === ids.guest);
    expect(g).toMatchObject({ role: 'guest', canVote: false });
    expect(g.invitedAt).toBeTruthy();
    expect((await guest.get(`/api/meetings/${meetingId}`)).status).toBe(200);
    expect((await member1.get(`/api/meetings/${meetingId}`)).status).toBe(404);
  });

  it('every change is in the audit log with actor, action and target', async () => {
    const { meetingId } = await buildMeeting(secretary, { agendaItems: 1, publish: true });
    const rows = s.db.$client
      .prepare("select actor_id, action, target_type, target_id from audit_log where target_type='meeting' and target_id=? order by id")
      .all(String(meetingId)) as { actor_id: number; action: string }[];
    expect(rows.map((r) => r.action)).toEqual(['meeting.create', 'agenda.create', 'meeting.publish']);
    expect(rows.every((r) => r.actor_id === ids.secretary)).toBe(true);
  });
});
