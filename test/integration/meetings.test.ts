import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../server/db/tables.js';
import { type TestServer, inDays, startTestServer } from '../helpers/server.js';
import { buildCommitteeMeeting, buildMeeting, buildUser } from '../helpers/factories.js';

/**
 * Each test builds its own committee (a chair, a secretary, members) and meeting through the factories, and its
 * own outsiders: nothing is shared between tests, so they pass in any order (vitest --sequence.shuffle).
 */
describe('meetings and agenda preparation', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
  });
  afterAll(() => s?.close());

  /** A user of no committee, signed in. */
  const outsider = async () => {
    const u = await buildUser(s);
    return { user: u, client: await s.login(u.username, u.password) };
  };
  const agendaOf = async (c: Awaited<ReturnType<TestServer['login']>>, meetingId: number) => (await c.get(`/api/meetings/${meetingId}/agenda`)).body;

  it('a draft is visible to the secretary only; publishing invites and notifies every participant', async () => {
    const m = await buildMeeting(s, { members: 1, agendaItems: 2, publish: false });
    const [secretary, member1] = [await m.as('secretary'), await m.as('member', 0)];
    const meetingId = m.meetingId;
    expect((await secretary.get(`/api/meetings/${meetingId}`)).status).toBe(200);
    expect((await member1.get(`/api/meetings/${meetingId}`)).status).toBe(404);
    expect((await member1.get('/api/meetings')).body.meetings.map((x: { id: number }) => x.id)).not.toContain(meetingId);
    const before = (await member1.get('/api/notifications')).body.unread;
    const pub = await secretary.post(`/api/meetings/${meetingId}/publish`);
    expect(pub.status).toBe(200);
    expect(pub.body.status).toBe('published');
    expect(pub.body.participants.every((p: { invitedAt: string | null }) => p.invitedAt)).toBe(true);
    const got = await member1.get(`/api/meetings/${meetingId}`);
    expect(got.status).toBe(200);
    expect(got.body.myRole).toBe('member');
    const n = (await member1.get('/api/notifications')).body;
    expect(n.unread).toBe(before + 1);
    expect(n.notifications[0]).toMatchObject({ kind: 'meeting_published', meetingId });
    expect((await secretary.post(`/api/meetings/${meetingId}/publish`)).body.error.code).toBe('invalid_state');
  });

  it('a guest not invited gets 404 for the meeting and its agenda, and does not see it listed', async () => {
    const m = await buildMeeting(s, { members: 1, agendaItems: 1, publish: true });
    // The guest is invited to another meeting of the same committee, not to this one.
    const { user, client: guest } = await outsider();
    const invited = await buildCommitteeMeeting(m, {
      publish: true,
      participants: [
        { user: m.chair, role: 'chair' },
        { user: m.secretary, role: 'secretary' },
        { user, role: 'guest' },
      ],
    });
    expect((await guest.get(`/api/meetings/${m.meetingId}`)).status).toBe(404);
    expect((await guest.get(`/api/meetings/${m.meetingId}/agenda`)).status).toBe(404);
    const list = (await guest.get('/api/meetings?scope=all')).body.meetings.map((x: { id: number }) => x.id);
    expect(list).not.toContain(m.meetingId);
    expect(list).toContain(invited.meetingId); // the meeting they are invited to
  });

  it('a member cannot create meetings or edit an agenda', async () => {
    const m = await buildMeeting(s, { members: 1, agendaItems: 1, publish: true });
    const member1 = await m.as('member', 0);
    expect((await member1.get('/api/committees')).body.committees.map((c: { id: number }) => c.id)).toContain(m.committeeId);
    const r = await member1.post('/api/meetings', { committeeId: m.committeeId, title: 'x', startsAt: inDays(2), endsAt: inDays(3) });
    expect(r.status).toBe(403);
    const before = await agendaOf(member1, m.meetingId);
    const add = await member1.post(`/api/meetings/${m.meetingId}/agenda/items`, { version: before.version, title: 'chen ngang' });
    expect(add.status).toBe(403);
    const after = await agendaOf(member1, m.meetingId);
    expect(after.items.some((i: { title: string }) => i.title === 'chen ngang')).toBe(false);
    expect(after).toEqual(before);
  });

  it('builds nested agendas, numbers them, and moves items between parents', async () => {
    const m = await buildMeeting(s, { members: 1, agendaItems: 3, publish: false });
    const secretary = await m.as('secretary');
    const meetingId = m.meetingId;
    let a = await agendaOf(secretary, meetingId);
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
    const m = await buildMeeting(s, { members: 1, agendaItems: 1, publish: false });
    const secretary = await m.as('secretary');
    const meetingId = m.meetingId;
    let a = await agendaOf(secretary, meetingId);
    const parent = a.items[0];
    a = (await secretary.post(`/api/meetings/${meetingId}/agenda/items`, { version: a.version, parentId: parent.id, title: 'con' })).body;
    const child = a.items[1];
    for (const target of [parent.id, child.id]) {
      const r = await secretary.post(`/api/meetings/${meetingId}/agenda/items/${parent.id}/move`, { version: a.version, parentId: target, position: 0 });
      expect(r.status).toBe(422);
      expect(r.body.error.code).toBe('invalid_move');
    }
    expect(await agendaOf(secretary, meetingId)).toEqual(a);
  });

  it('two secretaries editing the same agenda: the stale write gets 409 version_conflict, nothing is lost', async () => {
    const m = await buildMeeting(s, { members: 1, agendaItems: 1, publish: false });
    const [secretary, other] = [await m.as('secretary'), await m.as('secretary')];
    const meetingId = m.meetingId;
    const { version } = await agendaOf(secretary, meetingId);
    const [r1, r2] = await Promise.all([
      secretary.post(`/api/meetings/${meetingId}/agenda/items`, { version, title: 'A' }),
      other.post(`/api/meetings/${meetingId}/agenda/items`, { version, title: 'B' }),
    ]);
    const statuses = [r1.status, r2.status].sort();
    expect(statuses).toEqual([201, 409]);
    const loser = r1.status === 409 ? r1 : r2;
    expect(loser.body.error.code).toBe('version_conflict');
    const items = (await agendaOf(secretary, meetingId)).items;
    expect(items).toHaveLength(2);
  });

  it('meeting edits use optimistic concurrency too', async () => {
    const m = await buildMeeting(s, { members: 1, agendaItems: 0, publish: false });
    const secretary = await m.as('secretary');
    const meetingId = m.meetingId;
    const meeting = (await secretary.get(`/api/meetings/${meetingId}`)).body;
    const ok = await secretary.patch(`/api/meetings/${meetingId}`, { version: meeting.version, title: 'Đổi tên' });
    expect(ok.status).toBe(200);
    const stale = await secretary.patch(`/api/meetings/${meetingId}`, { version: meeting.version, title: 'Ghi đè' });
    expect(stale.status).toBe(409);
    expect((await secretary.get(`/api/meetings/${meetingId}`)).body.title).toBe('Đổi tên');
  });

  it('changing a published agenda notifies participants again, once per unread batch', async () => {
    const m = await buildMeeting(s, { members: 1, agendaItems: 1, publish: true });
    const [secretary, member1] = [await m.as('secretary'), await m.as('member', 0)];
    const meetingId = m.meetingId;
    const count = async () =>
      (await member1.get('/api/notifications')).body.notifications.filter((n: { kind: string; meetingId: number }) => n.kind === 'agenda_updated' && n.meetingId === meetingId).length;
    expect(await count()).toBe(0);
    const { version } = await agendaOf(secretary, meetingId);
    const a = (await secretary.post(`/api/meetings/${meetingId}/agenda/items`, { version, title: 'Bổ sung' })).body;
    expect((await secretary.post(`/api/meetings/${meetingId}/agenda/items`, { version: a.version, title: 'Bổ sung 2' })).status).toBe(201);
    expect(await count()).toBe(1);
  });

  it('participants: explicit list with roles; guests never vote; a guest added after publishing is invited', async () => {
    const m = await buildMeeting(s, { members: 2, agendaItems: 0, publish: false });
    const { user: guestUser, client: guest } = await outsider();
    const [secretary, member1] = [await m.as('secretary'), await m.as('member', 0)];
    const [chair, sec, member2] = [m.chair, m.secretary, m.members[1]];
    const { meetingId } = await buildCommitteeMeeting(m, {
      secretary,
      participants: [
        { user: chair, role: 'chair' },
        { user: sec, role: 'secretary' },
        { user: member2, role: 'member' },
      ],
      publish: true,
    });
    const meeting = (await secretary.get(`/api/meetings/${meetingId}`)).body;
    expect(meeting.status).toBe('published');
    const bad = await secretary.patch(`/api/meetings/${meetingId}`, {
      version: meeting.version,
      participants: [{ userId: guestUser.id, role: 'guest', canVote: true }],
    });
    expect(bad.status).toBe(400);
    const r = await secretary.patch(`/api/meetings/${meetingId}`, {
      version: meeting.version,
      participants: [
        { userId: chair.id, role: 'chair' },
        { userId: sec.id, role: 'secretary' },
        { userId: member2.id, role: 'member' },
        { userId: guestUser.id, role: 'guest' },
      ],
    });
    expect(r.status).toBe(200);
    const g = r.body.participants.find((p: { userId: number }) => p.userId === guestUser.id);
    expect(g).toMatchObject({ role: 'guest', canVote: false });
    expect(g.invitedAt).toBeTruthy();
    expect((await guest.get(`/api/meetings/${meetingId}`)).status).toBe(200);
    expect((await member1.get(`/api/meetings/${meetingId}`)).status).toBe(404);
  });

  it('every change is in the audit log with actor, action and target', async () => {
    const m = await buildMeeting(s, { members: 1, agendaItems: 1, publish: true });
    const rows = await s.app.ctx.store.q
      .select({ actorId: auditLog.actorId, action: auditLog.action })
      .from(auditLog)
      .where(and(eq(auditLog.targetType, 'meeting'), eq(auditLog.targetId, String(m.meetingId))))
      .orderBy(auditLog.id);
    expect(rows.map((r) => r.action)).toEqual(['meeting.create', 'agenda.create', 'meeting.publish']);
    expect(rows.every((r) => r.actorId === m.secretary.id)).toBe(true);
  });
});
