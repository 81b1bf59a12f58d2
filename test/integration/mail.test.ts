import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { jobs } from '../../server/db/tables.js';
import { jobsByKeyPrefix } from '../../server/jobs/jobs.js';
import { MAIL_SEND_JOB, messageIdFor } from '../../server/mail/mail.service.js';
import { buildMeeting, buildUser, emailOf, giveEmails, ownUnit } from '../helpers/factories.js';
import { type HttpClient, type TestServer, inDays, startTestServer } from '../helpers/server.js';
import { SmtpSink } from '../helpers/smtp.js';
import { testSql } from '../helpers/sql.js';

const FROM = 'Văn phòng UBND <no-reply@ubnd.example.gov.vn>';
const APP_URL = 'https://hop.example.gov.vn';
const SMTP_PASS = 'smtp-secret-Pa55';

type Store = TestServer['app']['ctx']['store'];
/** The mail jobs whose key starts with `prefix`, by key, with the payload as the text stored. */
const mailJobs = async (store: Store, prefix: string) =>
  (await jobsByKeyPrefix(store, prefix, 1000))
    .filter((j) => j.kind === MAIL_SEND_JOB)
    .sort((a, b) => (a.key < b.key ? -1 : 1))
    .map((j) => ({ key: j.key, status: j.status, attempts: j.attempts, lastError: j.lastError, payload: JSON.stringify(j.payload) }));

/**
 * Each test builds its own committee, published meeting and members, all with e-mail addresses (`emailOf`), so
 * what one test does to an address or a locale never reaches another: they pass in any order. The server, its job
 * runner's clock and the SMTP sink are the file's; every assertion looks only at the test's own task or
 * consultation (by job key) or its own people.
 */
describe('reminder e-mails through a real SMTP server', () => {
  let sink: SmtpSink;
  let s: TestServer;
  let admin: HttpClient;
  let now = Date.now();
  const logs: string[] = [];
  const runner = () => s.app.ctx.jobs;
  /** Two batches: the reminders, then the e-mails they queued (due at once). */
  const runTwice = async () => {
    await runner().runDue();
    await runner().runDue();
  };

  beforeAll(async () => {
    sink = await SmtpSink.create({ auth: { user: 'ecabinet', pass: SMTP_PASS } });
    s = await startTestServer({
      seed: 'admin',
      config: { mail: { smtpUrl: sink.url, from: FROM, appUrl: APP_URL } },
      logLevel: 'debug',
      logTo: { write: (l: string) => void logs.push(l) },
    });
    runner().setOptions({ now: () => new Date(now), intervalMs: 3600_000 });
    admin = await s.login('admin');
  });

  /** A published meeting of a committee of its own with `members` members; everyone has an e-mail address. */
  async function world(members = 1) {
    const m = await buildMeeting(s, { members, agendaItems: 1, title: 'Phiên họp thường kỳ tháng 5' });
    await giveEmails(admin, [m.chair, m.secretary, ...m.members]);
    return { m, meetingId: m.meetingId, secretary: await m.as('secretary') };
  }
  afterAll(async () => {
    await s?.close();
    await sink?.stop();
  });

  it('a task overdue reminder reaches the owner by e-mail exactly once, in Vietnamese, with the link and a Message-ID derived from the job key', async () => {
    const { m, meetingId, secretary } = await world();
    const owner = m.members[0];
    const title = 'Báo cáo tiến độ số hóa hồ sơ một cửa';
    const t = (await secretary.post('/api/tasks', { meetingId, title, owner: { kind: 'user', userId: owner.id }, deadline: inDays(5) })).body;
    expect(t.id).toBeGreaterThan(0);
    const prefix = `task:${t.id}:`;

    now = Date.parse(t.deadline) - 2 * 86400_000; // due soon
    await runTwice();
    now = Date.parse(t.deadline) + 60_000; // overdue
    await runTwice();
    await runTwice(); // nothing more to do: still one e-mail per reminder

    const mails = sink.withKeyPrefix(prefix);
    expect(mails.map((m) => m.subject).sort()).toEqual([`[E-Cabinet] Nhiệm vụ quá hạn: ${title}`, `[E-Cabinet] Nhiệm vụ sắp đến hạn: ${title}`]);
    const overdue = mails.find((m) => m.subject!.includes('quá hạn'))!;
    const key = `task:${t.id}:overdue:${t.deadline}:mail:${owner.id}`;
    expect(overdue.key).toBe(key);
    expect(overdue.messageId).toBe(messageIdFor(key, FROM));
    expect(overdue.messageId).toMatch(/^<[0-9a-f]{40}\.ecabinet@ubnd\.example\.gov\.vn>$/);
    expect(overdue.rcpt).toEqual([emailOf(owner)]);
    expect(overdue.parsed.from?.value[0].address).toBe('no-reply@ubnd.example.gov.vn');
    expect(overdue.text).toContain(`Kính gửi ${owner.fullName},`);
    expect(overdue.text).toContain('Phiên họp thường kỳ tháng 5');
    expect(overdue.text).toContain(`${APP_URL}/tasks`);
    expect(overdue.html).toContain(`href="${APP_URL}/tasks"`);
    expect(overdue.parsed.headers.get('auto-submitted')).toBe('auto-generated');

    // In the app: one reminder of each kind, carrying the same reminder key as the e-mail's job.
    const ownerClient = await m.login(owner);
    const notes = (await ownerClient.get('/api/notifications')).body.notifications.filter((n: { data: { taskId?: number } }) => n.data.taskId === t.id);
    expect(notes.map((n: { kind: string }) => n.kind).sort()).toEqual(['task_assigned', 'task_due_soon', 'task_overdue']);
    expect((await mailJobs(s.app.ctx.store, prefix)).map((j) => j.status)).toEqual(['done', 'done']);
    // The job holds ids only: no address, no text.
    for (const j of await mailJobs(s.app.ctx.store, prefix)) expect(j.payload).not.toMatch(/@|Nhiệm vụ/);
    now = Date.now();
  });

  it('a recipient who chose English gets the e-mail in English', async () => {
    const { m, meetingId, secretary } = await world();
    const owner = m.members[0];
    expect((await (await m.login(owner)).patch('/api/auth/me', { locale: 'en' })).status).toBe(200);
    const t = (await secretary.post('/api/tasks', { meetingId, title: 'Rà soát thủ tục hành chính', owner: { kind: 'user', userId: owner.id }, deadline: inDays(4) })).body;
    now = Date.parse(t.deadline) + 60_000;
    await runTwice();
    const subjects = sink.withKeyPrefix(`task:${t.id}:`).map((m) => m.subject).sort();
    expect(subjects).toEqual(['[E-Cabinet] Task due soon: Rà soát thủ tục hành chính', '[E-Cabinet] Task overdue: Rà soát thủ tục hành chính']);
    expect(sink.withKeyPrefix(`task:${t.id}:overdue`)[0].text).toContain(`Dear ${owner.fullName},`);
    now = Date.now();
  });

  it('a consultation reminder e-mail reaches only the recipients who have not answered', async () => {
    const { m, secretary } = await world(3);
    const [answering, silent1, silent2] = m.members;
    const deadline = new Date(Date.now() + 2 * 86400_000).toISOString();
    const c = await secretary.post('/api/consultations', {
      committeeId: m.committeeId,
      title: 'Dự thảo Kế hoạch chuyển đổi số năm 2026',
      question: 'Đề nghị các đồng chí cho ý kiến về dự thảo.',
      deadline,
      recipients: m.members.map((u) => u.id),
    });
    expect(c.status).toBe(201);
    expect((await (await m.login(answering)).put(`/api/consultations/${c.body.id}/answer`, { answer: 'agree' })).status).toBe(200);

    now = Date.parse(deadline) - 86400_000 + 1000; // the 24-hour reminder
    await runTwice();
    const mails = sink.withKeyPrefix(`consultation:${c.body.id}:`);
    expect(mails.flatMap((x) => x.rcpt).sort()).toEqual([emailOf(silent1), emailOf(silent2)].sort());
    for (const x of mails) {
      expect(x.subject).toBe('[E-Cabinet] Nhắc trả lời lấy ý kiến: Dự thảo Kế hoạch chuyển đổi số năm 2026');
      expect(x.text).toContain(`${APP_URL}/consultations`);
      expect(x.messageId).toBe(messageIdFor(x.key!, FROM));
    }
    expect(new Set(mails.map((x) => x.messageId)).size).toBe(2);
    now = Date.now();
  });

  it('a user without an e-mail address gets only the in-app reminder', async () => {
    const { m, meetingId, secretary } = await world();
    // An owner unit of two people of its own, both with an address at first; the second loses it.
    const unit = ownUnit('Văn phòng UBND Thành phố');
    const withAddress = await buildUser(s, { unit, admin });
    const without = await buildUser(s, { unit, admin });
    await giveEmails(admin, [withAddress, without]);
    expect((await admin.patch(`/api/users/${without.id}`, { email: null })).body.email).toBeNull();
    const t = (await secretary.post('/api/tasks', { meetingId, title: 'Tổng hợp báo cáo tháng', owner: { kind: 'unit', unit }, deadline: inDays(6) })).body;
    now = Date.parse(t.deadline) + 60_000;
    await runTwice();
    const kinds = (await (await m.login(without)).get('/api/notifications')).body.notifications.filter((n: { data: { taskId?: number } }) => n.data.taskId === t.id).map((n: { kind: string }) => n.kind);
    expect(kinds.sort()).toEqual(['task_assigned', 'task_due_soon', 'task_overdue']);
    const rcpt = sink.withKeyPrefix(`task:${t.id}:`).flatMap((m) => m.rcpt);
    expect(rcpt).toEqual([emailOf(withAddress), emailOf(withAddress)]);
    expect((await mailJobs(s.app.ctx.store, `task:${t.id}:`)).every((j) => !j.key.endsWith(`:mail:${without.id}`))).toBe(true);
    now = Date.now();
  });

  it('SMTP down, then refusing: the e-mail job is retried with backoff and delivered once the server is back; nothing crashes', async () => {
    const { m, meetingId, secretary } = await world();
    const owner = m.members[0];
    await sink.stop();
    const t = (await secretary.post('/api/tasks', { meetingId, title: 'Cập nhật cơ sở dữ liệu cán bộ', owner: { kind: 'user', userId: owner.id }, deadline: inDays(7) })).body;
    const prefix = `task:${t.id}:overdue:`;
    now = Date.parse(t.deadline) + 60_000;
    await runTwice();
    let [job] = await mailJobs(s.app.ctx.store, prefix);
    expect(job).toMatchObject({ status: 'pending', attempts: 1 });
    expect(job.lastError).toMatch(/^e-mail not sent: /);
    expect(job.lastError).not.toContain('@');

    // Back, but answering 421: the second attempt waits for the backoff (30 s) and fails again.
    sink.refuse = true;
    await sink.start();
    await runner().runDue();
    expect((await mailJobs(s.app.ctx.store, prefix))[0].attempts).toBe(1); // not due yet
    now += 31_000;
    await runner().runDue();
    [job] = await mailJobs(s.app.ctx.store, prefix);
    expect(job).toMatchObject({ status: 'pending', attempts: 2 });
    expect(job.lastError).toContain('smtp 421');

    sink.refuse = false;
    now += 61_000;
    await runner().runDue();
    expect((await mailJobs(s.app.ctx.store, prefix))[0]).toMatchObject({ status: 'done', attempts: 3 });
    const mails = sink.withKeyPrefix(prefix);
    expect(mails).toHaveLength(1);
    expect(mails[0].rcpt).toEqual([emailOf(owner)]);
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    now = Date.now();
  });

  it('a permanent refusal (550 unknown mailbox) fails the e-mail job at once, without retries; the in-app reminder stands', async () => {
    const { m, meetingId, secretary } = await world();
    const owner = m.members[0];
    sink.unknownMailboxes.add(emailOf(owner));
    try {
      const t = (await secretary.post('/api/tasks', { meetingId, title: 'Rà soát danh mục thủ tục', owner: { kind: 'user', userId: owner.id }, deadline: inDays(7) })).body;
      const prefix = `task:${t.id}:overdue:`;
      now = Date.parse(t.deadline) + 60_000;
      await runTwice();
      const [job] = await mailJobs(s.app.ctx.store, prefix);
      expect(job).toMatchObject({ status: 'failed', attempts: 1 });
      expect(job.lastError).toContain('smtp 550');
      expect(job.lastError).not.toContain('@');
      now += 3600_000;
      await runner().runDue();
      expect((await mailJobs(s.app.ctx.store, prefix))[0]).toMatchObject({ status: 'failed', attempts: 1 });
      expect(sink.withKeyPrefix(prefix)).toEqual([]);
      const inApp = (await (await m.login(owner)).get('/api/notifications')).body.notifications;
      expect(inApp.some((n: any) => n.kind === 'task_overdue' && n.data.taskId === t.id)).toBe(true);
    } finally {
      sink.unknownMailboxes.clear();
      now = Date.now();
    }
  });

  it('the admin sets, changes and removes an address; an invalid or taken address is refused and changes nothing', async () => {
    const { m, secretary } = await world(2);
    const [other, user] = m.members;
    const get = async (id: number) => (await admin.get('/api/users')).body.users.find((u: { id: number }) => u.id === id);
    const before = await get(user.id);
    expect(before.email).toBe(emailOf(user));

    for (const email of ['not-an-email', 'a@b', 'x@y.vn\r\nBcc: z@q.vn', `${'a'.repeat(250)}@b.vn`]) {
      const r = await admin.patch(`/api/users/${user.id}`, { fullName: 'Tên mới', email });
      expect(r.status, email).toBe(400);
      expect(r.body.error.code).toBe('invalid_payload');
    }
    // Another user's address in other letter case is still taken.
    const theirs = emailOf(other).replace(/^u/, 'U').replace('test.ecabinet', 'Test.ECabinet');
    expect(theirs).not.toBe(emailOf(other));
    const taken = await admin.patch(`/api/users/${user.id}`, { fullName: 'Tên mới', email: theirs });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('email_taken');
    expect(await get(user.id)).toEqual(before);

    // New accounts and addresses of their own (the usernames and addresses are this test's alone).
    const tag = crypto.randomBytes(4).toString('hex');
    const created = await admin.post('/api/users', { username: `thuky${tag}`, password: 'mat-khau-dai', fullName: 'Nguyễn Thư Ký', email: 'bad address' });
    expect(created.status).toBe(400);
    expect((await admin.get('/api/users')).body.users.some((u: { username: string }) => u.username === `thuky${tag}`)).toBe(false);
    const ok = await admin.post('/api/users', { username: `thuky${tag}`, password: 'mat-khau-dai', fullName: 'Nguyễn Thư Ký', email: `  ThuKy.${tag}@Ubnd.Example.gov.vn ` });
    expect(ok.status).toBe(201);
    expect(ok.body.email).toBe(`ThuKy.${tag}@Ubnd.Example.gov.vn`);
    expect((await admin.post('/api/users', { username: `thuky${tag}b`, password: 'mat-khau-dai', fullName: 'X', email: `thuky.${tag}@ubnd.example.gov.vn` })).status).toBe(409);

    const changed = `giang.${tag}@tuphap.example.gov.vn`;
    expect((await admin.patch(`/api/users/${user.id}`, { email: changed })).body.email).toBe(changed);
    // Users see their own address; a secretary's directory shows nobody's.
    expect((await (await m.login(user)).get('/api/auth/me')).body.email).toBe(changed);
    expect((await secretary.get('/api/users')).body.users.every((u: Record<string, unknown>) => !('email' in u))).toBe(true);
    const audit = await testSql(s).all<{ details: string }>("select details from audit_log where action like 'user.%'");
    expect(audit.map((a) => a.details).join('\n')).not.toContain('@');
  });

  it('the logs name no e-mail address and never the SMTP password', async () => {
    // A reminder e-mail of its own, so the logs hold one whatever ran before (tests run in any order).
    const { m, meetingId, secretary } = await world();
    const t = (await secretary.post('/api/tasks', { meetingId, title: 'Kiểm tra nhật ký', owner: { kind: 'user', userId: m.members[0].id }, deadline: inDays(5) })).body;
    now = Date.parse(t.deadline) + 60_000;
    await runTwice();
    now = Date.now();
    expect(sink.withKeyPrefix(`task:${t.id}:`).length).toBeGreaterThan(0);
    const all = logs.join('\n');
    expect(all).toContain('reminder e-mail');
    expect(all).not.toMatch(/@test\.ecabinet\.local|@ubnd\.example|@tuphap\.example/i);
    expect(all).not.toContain(SMTP_PASS);
  });
});

describe('without SMTP_URL', () => {
  let s: TestServer;
  let now = Date.now();
  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
    s.app.ctx.jobs.setOptions({ now: () => new Date(now), intervalMs: 3600_000 });
  });
  afterAll(() => s?.close());

  it('reminders stay in the app and no e-mail job is ever queued', async () => {
    expect(s.app.ctx.config.mail.smtpUrl).toBeNull();
    const m = await buildMeeting(s, { members: 1, agendaItems: 1 });
    const owner = m.members[0];
    // The owner has an address: only the missing SMTP_URL keeps the e-mail from being queued.
    await giveEmails(await s.login('admin'), [owner]);
    const secretary = await m.as('secretary');
    const t = (await secretary.post('/api/tasks', { meetingId: m.meetingId, title: 'Nhiệm vụ không gửi thư', owner: { kind: 'user', userId: owner.id }, deadline: inDays(5) })).body;
    now = Date.parse(t.deadline) + 60_000;
    await s.app.ctx.jobs.runDue();
    await s.app.ctx.jobs.runDue();
    const kinds = (await (await m.login(owner)).get('/api/notifications')).body.notifications.map((n: { kind: string }) => n.kind);
    expect(kinds).toContain('task_overdue');
    expect(await s.app.ctx.store.q.select({ id: jobs.id }).from(jobs).where(eq(jobs.kind, MAIL_SEND_JOB))).toEqual([]);
  });
});
