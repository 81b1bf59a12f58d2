import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltMeeting, buildMeeting, buildUser } from '../helpers/factories.js';
import { type HttpClient, type TestServer, startTestServer } from '../helpers/server.js';
import { SmtpSink } from '../helpers/smtp.js';
import { connectSocket, connected } from '../helpers/socket.js';
import { pdf, upload } from './documents-helpers.js';
import { testSql } from '../helpers/sql.js';

/**
 * Attacker's checks of "authorized at the moment of use": news, e-mails and consultations that were
 * granted while someone had access must not reach them after the access is gone.
 */
describe('attacker: what was granted earlier is re-checked when it is used', () => {
  let sink: SmtpSink;
  let s: TestServer;
  let admin: HttpClient;
  let now = Date.now();
  const runner = () => s.app.ctx.jobs;

  beforeAll(async () => {
    sink = await SmtpSink.create();
    s = await startTestServer({ seed: 'admin', config: { mail: { smtpUrl: sink.url, from: 'E-Cabinet <no-reply@ubnd.example.gov.vn>', appUrl: 'https://hop.example.gov.vn' } } });
    runner().setOptions({ now: () => new Date(now), intervalMs: 3600_000 });
    admin = await s.login('admin');
  });
  afterAll(async () => {
    await s?.close();
    await sink?.stop();
  });

  const notificationsOf = async (c: HttpClient) => (await c.get('/api/notifications')).body as { notifications: { kind: string; meetingId: number | null; data: Record<string, unknown> }[]; unread: number };
  const setEmail = async (userId: number) => {
    const email = `u${crypto.randomBytes(4).toString('hex')}@so.example.gov.vn`;
    expect((await admin.patch(`/api/users/${userId}`, { email })).status).toBe(200);
    return email;
  };
  const removeFromCommittee = async (m: BuiltMeeting, userId: number) => {
    const c = (await admin.get('/api/committees')).body.committees.find((x: { id: number }) => x.id === m.committeeId);
    const members = (c.members as { userId: number; defaultRole: string; votingRight: boolean }[]).filter((x) => x.userId !== userId).map(({ userId: u, defaultRole, votingRight }) => ({ userId: u, defaultRole, votingRight }));
    expect((await admin.patch(`/api/committees/${m.committeeId}`, { members })).status).toBe(200);
  };

  it("a participant removed from a meeting no longer sees its news: the notifications naming it leave their list and the unread count", async () => {
    const title = `Phiên họp kín về nhân sự ${crypto.randomBytes(3).toString('hex')}`;
    const m = await buildMeeting(s, { members: 2, agendaItems: 1, title });
    const [victim, control] = [await m.as('member', 0), await m.as('member', 1)];
    const before = await notificationsOf(victim);
    expect(before.notifications.filter((n) => n.meetingId === m.meetingId).map((n) => n.kind)).toEqual(['meeting_published']);

    const sec = await m.as('secretary');
    const meeting = (await sec.get(`/api/meetings/${m.meetingId}`)).body;
    const keep = (meeting.participants as { userId: number; role: string; canVote: boolean }[]).filter((x) => x.userId !== m.members[0].id).map(({ userId, role, canVote }) => ({ userId, role, canVote }));
    expect((await sec.patch(`/api/meetings/${m.meetingId}`, { version: meeting.version, participants: keep })).status).toBe(200);

    const after = await notificationsOf(victim);
    expect(after.notifications.filter((n) => n.meetingId === m.meetingId)).toEqual([]);
    expect(JSON.stringify(after)).not.toContain(title);
    expect(after.unread).toBe(before.unread - 1);
    // The participant who stays keeps the news.
    expect((await notificationsOf(control)).notifications.some((n) => n.meetingId === m.meetingId && n.data.title === title)).toBe(true);
  });

  it('a removed participant is told on their sockets that never joined the meeting too (a tablet reading one of its documents); others are not', async () => {
    const m = await buildMeeting(s, { members: 2, agendaItems: 1 });
    const [victim, control] = [await m.as('member', 0), await m.as('member', 1)];
    const idle = await connected(connectSocket(s.url, victim, { reconnection: false }));
    const joined = await connected(connectSocket(s.url, victim, { reconnection: false }));
    const other = await connected(connectSocket(s.url, control, { reconnection: false }));
    try {
      expect((await joined.cmd('meeting:join', { meetingId: m.meetingId })).ok).toBe(true);
      const sec = await m.as('secretary');
      const meeting = (await sec.get(`/api/meetings/${m.meetingId}`)).body;
      const keep = (meeting.participants as { userId: number; role: string; canVote: boolean }[]).filter((x) => x.userId !== m.members[0].id).map(({ userId, role, canVote }) => ({ userId, role, canVote }));
      expect((await sec.patch(`/api/meetings/${m.meetingId}`, { version: meeting.version, participants: keep })).status).toBe(200);
      for (const x of [idle, joined]) expect(await x.waitFor('meeting:access_revoked')).toEqual({ meetingId: m.meetingId });
      // One notice per socket, and none for a participant who stays (they got the news of the change instead).
      await other.waitFor('notifications:new');
      expect([idle, joined].map((x) => x.pushes('meeting:access_revoked').length)).toEqual([1, 1]);
      expect(other.pushes('meeting:access_revoked')).toEqual([]);
    } finally {
      for (const x of [idle, joined, other]) x.close();
    }
  });

  it('a recipient removed from the committee loses the consultation at once: reading, answering, listing and its documents are 404; an e-mail queued before the removal is not sent, and later reminders skip them', async () => {
    const m = await buildMeeting(s, { members: 3, agendaItems: 1 });
    const sec = await m.as('secretary');
    // The document sits in a second meeting of the committee that neither recipient attends: they read it only through the consultation.
    const start = Date.now() + 48 * 3600_000;
    const other = (await sec.post('/api/meetings', {
      committeeId: m.committeeId,
      title: 'Phiên họp chuyên đề',
      startsAt: new Date(start).toISOString(),
      endsAt: new Date(start + 3600_000).toISOString(),
      participants: [{ userId: m.chair.id, role: 'chair' }, { userId: m.members[2].id, role: 'member' }],
    })).body;
    const item = await sec.post(`/api/meetings/${other.id}/agenda/items`, { version: 0, title: 'Đề án' });
    const itemId = item.body.items.at(-1).id as number;
    expect((await sec.post(`/api/meetings/${other.id}/publish`)).status).toBe(200);
    const doc = await upload(sec, other.id, itemId, pdf('seed-4.pdf'), 'de-an.pdf', { title: 'Đề án tái cơ cấu' });
    expect(doc.status, JSON.stringify(doc.body)).toBe(201);

    const [victimMail, controlMail] = [await setEmail(m.members[0].id), await setEmail(m.members[1].id)];
    const title = `Xin ý kiến về phương án nhân sự ${crypto.randomBytes(3).toString('hex')}`;
    const deadline = new Date(Date.now() + 3 * 86400_000).toISOString();
    const c = await sec.post('/api/consultations', { committeeId: m.committeeId, title, question: 'Đề nghị cho ý kiến.', deadline, recipients: [m.members[0].id, m.members[1].id], documentIds: [doc.body.id] });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    const [victim, control] = [await m.as('member', 0), await m.as('member', 1)];
    expect((await victim.get(`/api/consultations/${c.body.id}`)).body.documents).toHaveLength(1);
    expect((await victim.get(`/api/documents/${doc.body.id}/file`)).status).toBe(200);

    // The 24-hour reminder runs: in-app reminders and one e-mail job per recipient are queued…
    now = Date.parse(deadline) - 86400_000 + 1000;
    await runner().runDue();
    // …then the victim leaves the committee before the e-mails go out.
    await removeFromCommittee(m, m.members[0].id);
    await runner().runDue();
    const mails = sink.received.filter((x) => x.key?.startsWith(`consultation:${c.body.id}:`));
    expect(mails.flatMap((x) => x.rcpt)).toEqual([controlMail]);
    expect(sink.received.some((x) => x.rcpt.includes(victimMail))).toBe(false);

    // Every path of the consultation is closed to the victim, as if it never existed.
    for (const r of [
      await victim.get(`/api/consultations/${c.body.id}`),
      await victim.put(`/api/consultations/${c.body.id}/answer`, { answer: 'agree' }),
      await victim.get(`/api/documents/${doc.body.id}`),
      await victim.get(`/api/documents/${doc.body.id}/file`),
      await victim.get(`/api/documents/${doc.body.id}/pages/1/text`),
    ]) {
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('not_found');
    }
    const list = await victim.get('/api/consultations');
    expect(list.status).toBe(200);
    expect(list.body.consultations.map((x: { id: number }) => x.id)).not.toContain(c.body.id);
    const news = await notificationsOf(victim);
    expect(JSON.stringify(news)).not.toContain(title);
    // Nothing was recorded for them.
    expect((await sec.get(`/api/consultations/${c.body.id}`)).body.answers).toEqual([]);

    // The 1-hour reminder skips them too; the remaining recipient is reminded and still answers.
    now = Date.parse(deadline) - 3600_000 + 1000;
    await runner().runDue();
    await runner().runDue();
    // JSON read in the test (json_extract is SQLite's; PostgreSQL hands jsonb over parsed).
    const reminderRows = await testSql(s).all<{ u: number; data: string | { consultationId: number } }>("select user_id as u, data from notifications where kind = 'consultation_reminder' order by user_id");
    const counts = new Map<number, number>();
    for (const r of reminderRows) if ((typeof r.data === 'string' ? JSON.parse(r.data) : r.data).consultationId === c.body.id) counts.set(r.u, (counts.get(r.u) ?? 0) + 1);
    const reminders = [...counts].map(([u, n]) => ({ u, n }));
    expect(reminders).toEqual([
      { u: m.members[0].id, n: 1 },
      { u: m.members[1].id, n: 2 },
    ].sort((a, b) => a.u - b.u));
    expect(sink.received.filter((x) => x.key?.startsWith(`consultation:${c.body.id}:`)).flatMap((x) => x.rcpt)).toEqual([controlMail, controlMail]);
    expect((await control.put(`/api/consultations/${c.body.id}/answer`, { answer: 'agree' })).status).toBe(200);
    now = Date.now();
  });

  it('a task reminder e-mail queued for a person of the owner unit is not sent once they have left the unit', async () => {
    const m = await buildMeeting(s, { members: 1, agendaItems: 1 });
    const unit = `Phòng thử ${crypto.randomBytes(3).toString('hex')}`;
    const [stays, leaves] = [await buildUser(s, { unit, admin }), await buildUser(s, { unit, admin })];
    const [staysMail, leavesMail] = [await setEmail(stays.id), await setEmail(leaves.id)];
    const sec = await m.as('secretary');
    const taskTitle = `Rà soát hồ sơ mật ${crypto.randomBytes(3).toString('hex')}`;
    const t = await sec.post('/api/tasks', { meetingId: m.meetingId, title: taskTitle, owner: { kind: 'unit', unit }, deadline: new Date(Date.now() + 5 * 86400_000).toISOString() });
    expect(t.status, JSON.stringify(t.body)).toBe(201);

    now = Date.parse(t.body.deadline) + 60_000; // overdue: the due-soon and overdue reminders run
    await runner().runDue();
    expect((await admin.patch(`/api/users/${leaves.id}`, { unit: 'Phòng khác' })).status).toBe(200);
    await runner().runDue();
    const mails = sink.received.filter((x) => x.key?.startsWith(`task:${t.body.id}:`));
    expect(mails.length).toBeGreaterThan(0);
    expect([...new Set(mails.flatMap((x) => x.rcpt))]).toEqual([staysMail]);
    expect(sink.received.some((x) => x.rcpt.includes(leavesMail))).toBe(false);
    now = Date.now();
  });
});
