import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIL_SEND_JOB, messageIdFor } from '../../server/mail/mail.service.js';
import { type HttpClient, type TestServer, buildMeeting, inDays, startTestServer, userIds } from '../helpers/server.js';
import { SmtpSink } from '../helpers/smtp.js';

const FROM = 'Văn phòng UBND <no-reply@ubnd.example.gov.vn>';
const APP_URL = 'https://hop.example.gov.vn';
const SMTP_PASS = 'smtp-secret-Pa55';

type Db = TestServer['app']['ctx']['db'];
const mailJobs = (db: Db, prefix: string) =>
  db.$client.prepare('select key, status, attempts, last_error lastError, payload from jobs where kind = ? and substr(key, 1, length(?)) = ? order by key').all(MAIL_SEND_JOB, prefix, prefix) as {
    key: string;
    status: string;
    attempts: number;
    lastError: string | null;
    payload: string;
  }[];

describe('reminder e-mails through a real SMTP server', () => {
  let sink: SmtpSink;
  let s: TestServer;
  let admin: HttpClient;
  let secretary: HttpClient;
  let ids: Record<string, number>;
  let meetingId: number;
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
      config: { mail: { smtpUrl: sink.url, from: FROM, appUrl: APP_URL } },
      logLevel: 'debug',
      logTo: { write: (l: string) => void logs.push(l) },
    });
    runner().setOptions({ now: () => new Date(now), intervalMs: 3600_000 });
    admin = await s.login('admin');
    secretary = await s.login('secretary');
    ids = await userIds(admin);
    meetingId = (await buildMeeting(secretary, { agendaItems: 1, publish: true, title: 'Phiên họp thường kỳ tháng 5' })).meetingId;
  });
  afterAll(async () => {
    await s?.close();
    await sink?.stop();
  });

  it('a task overdue reminder reaches the owner by e-mail exactly once, in Vietnamese, with the link and a Message-ID derived from the job key', async () => {
    const title = 'Báo cáo tiến độ số hóa hồ sơ một cửa';
    const t = (await secretary.post('/api/tasks', { meetingId, title, owner: { kind: 'user', userId: ids.member3 }, deadline: inDays(5) })).body;
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
    const key = `task:${t.id}:overdue:${t.deadline}:mail:${ids.member3}`;
    expect(overdue.key).toBe(key);
    expect(overdue.messageId).toBe(messageIdFor(key, FROM));
    expect(overdue.messageId).toMatch(/^<[0-9a-f]{40}\.ecabinet@ubnd\.example\.gov\.vn>$/);
    expect(overdue.rcpt).toEqual(['member3@demo.ecabinet.local']);
    expect(overdue.parsed.from?.value[0].address).toBe('no-reply@ubnd.example.gov.vn');
    expect(overdue.text).toContain('Kính gửi Lê Hoàng Cường,');
    expect(overdue.text).toContain('Phiên họp thường kỳ tháng 5');
    expect(overdue.text).toContain(`${APP_URL}/tasks`);
    expect(overdue.html).toContain(`href="${APP_URL}/tasks"`);
    expect(overdue.parsed.headers.get('auto-submitted')).toBe('auto-generated');

    // In the app: one reminder of each kind, carrying the same reminder key as the e-mail's job.
    const member3 = await s.login('member3');
    const notes = (await member3.get('/api/notifications')).body.notifications.filter((n: { data: { taskId?: number } }) => n.data.taskId === t.id);
    expect(notes.map((n: { kind: string }) => n.kind).sort()).toEqual(['task_assigned', 'task_due_soon', 'task_overdue']);
    expect(mailJobs(s.app.ctx.db, prefix).map((j) => j.status)).toEqual(['done', 'done']);
    // The job holds ids only: no address, no text.
    for (const j of mailJobs(s.app.ctx.db, prefix)) expect(j.payload).not.toMatch(/@|Nhiệm vụ/);
    now = Date.now();
  });

  it('a recipient who chose English gets the e-mail in English', async () => {
    const member4 = await s.login('member4');
    expect((await member4.patch('/api/auth/me', { locale: 'en' })).status).toBe(200);
    const t = (await secretary.post('/api/tasks', { meetingId, title: 'Rà soát thủ tục hành chính', owner: { kind: 'user', userId: ids.member4 }, deadline: inDays(4) })).body;
    now = Date.parse(t.deadline) + 60_000;
    await runTwice();
    const subjects = sink.withKeyPrefix(`task:${t.id}:`).map((m) => m.subject).sort();
    expect(subjects).toEqual(['[E-Cabinet] Task due soon: Rà soát thủ tục hành chính', '[E-Cabinet] Task overdue: Rà soát thủ tục hành chính']);
    expect(sink.withKeyPrefix(`task:${t.id}:overdue`)[0].text).toContain('Dear Phạm Thu Dung,');
    await member4.patch('/api/auth/me', { locale: 'vi' });
    now = Date.now();
  });

  it('a consultation reminder e-mail reaches only the recipients who have not answered', async () => {
    const committeeId = (await secretary.get('/api/committees')).body.committees[0].id;
    const deadline = new Date(Date.now() + 2 * 86400_000).toISOString();
    const c = await secretary.post('/api/consultations', {
      committeeId,
      title: 'Dự thảo Kế hoạch chuyển đổi số năm 2026',
      question: 'Đề nghị các đồng chí cho ý kiến về dự thảo.',
      deadline,
      recipients: [ids.member1, ids.member2, ids.member6],
    });
    expect(c.status).toBe(201);
    const m1 = await s.login('member1');
    expect((await m1.put(`/api/consultations/${c.body.id}/answer`, { answer: 'agree' })).status).toBe(200);

    now = Date.parse(deadline) - 86400_000 + 1000; // the 24-hour reminder
    await runTwice();
    const mails = sink.withKeyPrefix(`consultation:${c.body.id}:`);
    // Their addresses as they are now (another test of this file changes member6's).
    const users = (await admin.get('/api/users')).body.users as { id: number; email: string }[];
    const emailOf = (id: number) => users.find((u) => u.id === id)!.email;
    expect(mails.flatMap((m) => m.rcpt).sort()).toEqual([emailOf(ids.member2), emailOf(ids.member6)].sort());
    for (const m of mails) {
      expect(m.subject).toBe('[E-Cabinet] Nhắc trả lời lấy ý kiến: Dự thảo Kế hoạch chuyển đổi số năm 2026');
      expect(m.text).toContain(`${APP_URL}/consultations`);
      expect(m.messageId).toBe(messageIdFor(m.key!, FROM));
    }
    expect(new Set(mails.map((m) => m.messageId)).size).toBe(2);
    now = Date.now();
  });

  it('a user without an e-mail address gets only the in-app reminder', async () => {
    // Owner unit "Văn phòng UBND Thành phố": the secretary and member5. member5 loses the address.
    expect((await admin.patch(`/api/users/${ids.member5}`, { email: null })).body.email).toBeNull();
    const t = (await secretary.post('/api/tasks', { meetingId, title: 'Tổng hợp báo cáo tháng', owner: { kind: 'unit', unit: 'Văn phòng UBND Thành phố' }, deadline: inDays(6) })).body;
    now = Date.parse(t.deadline) + 60_000;
    await runTwice();
    const member5 = await s.login('member5');
    const kinds = (await member5.get('/api/notifications')).body.notifications.filter((n: { data: { taskId?: number } }) => n.data.taskId === t.id).map((n: { kind: string }) => n.kind);
    expect(kinds.sort()).toEqual(['task_assigned', 'task_due_soon', 'task_overdue']);
    const rcpt = sink.withKeyPrefix(`task:${t.id}:`).flatMap((m) => m.rcpt);
    expect(rcpt).toEqual(['secretary@demo.ecabinet.local', 'secretary@demo.ecabinet.local']);
    expect(mailJobs(s.app.ctx.db, `task:${t.id}:`).every((j) => !j.key.endsWith(`:mail:${ids.member5}`))).toBe(true);
    now = Date.now();
  });

  it('SMTP down, then refusing: the e-mail job is retried with backoff and delivered once the server is back; nothing crashes', async () => {
    await sink.stop();
    const t = (await secretary.post('/api/tasks', { meetingId, title: 'Cập nhật cơ sở dữ liệu cán bộ', owner: { kind: 'user', userId: ids.member7 }, deadline: inDays(7) })).body;
    const prefix = `task:${t.id}:overdue:`;
    now = Date.parse(t.deadline) + 60_000;
    await runTwice();
    let [job] = mailJobs(s.app.ctx.db, prefix);
    expect(job).toMatchObject({ status: 'pending', attempts: 1 });
    expect(job.lastError).toMatch(/^e-mail not sent: /);
    expect(job.lastError).not.toContain('@');

    // Back, but answering 421: the second attempt waits for the backoff (30 s) and fails again.
    sink.refuse = true;
    await sink.start();
    await runner().runDue();
    expect(mailJobs(s.app.ctx.db, prefix)[0].attempts).toBe(1); // not due yet
    now += 31_000;
    await runner().runDue();
    [job] = mailJobs(s.app.ctx.db, prefix);
    expect(job).toMatchObject({ status: 'pending', attempts: 2 });
    expect(job.lastError).toContain('smtp 421');

    sink.refuse = false;
    now += 61_000;
    await runner().runDue();
    expect(mailJobs(s.app.ctx.db, prefix)[0]).toMatchObject({ status: 'done', attempts: 3 });
    const mails = sink.withKeyPrefix(prefix);
    expect(mails).toHaveLength(1);
    expect(mails[0].rcpt).toEqual(['member7@demo.ecabinet.local']);
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    now = Date.now();
  });

  it('a permanent refusal (550 unknown mailbox) fails the e-mail job at once, without retries; the in-app reminder stands', async () => {
    sink.unknownMailboxes.add('member8@demo.ecabinet.local');
    try {
      const t = (await secretary.post('/api/tasks', { meetingId, title: 'Rà soát danh mục thủ tục', owner: { kind: 'user', userId: ids.member8 }, deadline: inDays(7) })).body;
      const prefix = `task:${t.id}:overdue:`;
      now = Date.parse(t.deadline) + 60_000;
      await runTwice();
      const [job] = mailJobs(s.app.ctx.db, prefix);
      expect(job).toMatchObject({ status: 'failed', attempts: 1 });
      expect(job.lastError).toContain('smtp 550');
      expect(job.lastError).not.toContain('@');
      now += 3600_000;
      await runner().runDue();
      expect(mailJobs(s.app.ctx.db, prefix)[0]).toMatchObject({ status: 'failed', attempts: 1 });
      expect(sink.withKeyPrefix(prefix)).toEqual([]);
      const inApp = (await (await s.login('member8')).get('/api/notifications')).body.notifications;
      expect(inApp.some((n: any) => n.kind === 'task_overdue' && n.data.taskId === t.id)).toBe(true);
    } finally {
      sink.unknownMailboxes.clear();
      now = Date.now();
    }
  });

  it('the admin sets, changes and removes an address; an invalid or taken address is refused and changes nothing', async () => {
    const get = async (id: number) => (await admin.get('/api/users')).body.users.find((u: { id: number }) => u.id === id);
    const before = await get(ids.member6);
    expect(before.email).toBe('member6@demo.ecabinet.local');

    for (const email of ['not-an-email', 'a@b', 'x@y.vn\r\nBcc: z@q.vn', `${'a'.repeat(250)}@b.vn`]) {
      const r = await admin.patch(`/api/users/${ids.member6}`, { fullName: 'Tên mới', email });
      expect(r.status, email).toBe(400);
      expect(r.body.error.code).toBe('invalid_payload');
    }
    const taken = await admin.patch(`/api/users/${ids.member6}`, { fullName: 'Tên mới', email: 'Member1@Demo.ECabinet.local' });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('email_taken');
    expect(await get(ids.member6)).toEqual(before);

    const created = await admin.post('/api/users', { username: 'thuky2', password: 'mat-khau-dai', fullName: 'Nguyễn Thư Ký', email: 'bad address' });
    expect(created.status).toBe(400);
    expect((await admin.get('/api/users')).body.users.some((u: { username: string }) => u.username === 'thuky2')).toBe(false);
    const ok = await admin.post('/api/users', { username: 'thuky2', password: 'mat-khau-dai', fullName: 'Nguyễn Thư Ký', email: '  ThuKy2@Ubnd.Example.gov.vn ' });
    expect(ok.status).toBe(201);
    expect(ok.body.email).toBe('ThuKy2@Ubnd.Example.gov.vn');
    expect((await admin.post('/api/users', { username: 'thuky3', password: 'mat-khau-dai', fullName: 'X', email: 'thuky2@ubnd.example.gov.vn' })).status).toBe(409);

    expect((await admin.patch(`/api/users/${ids.member6}`, { email: 'giang.vt@tuphap.example.gov.vn' })).body.email).toBe('giang.vt@tuphap.example.gov.vn');
    // Users see their own address; a secretary's directory shows nobody's.
    expect((await (await s.login('member6')).get('/api/auth/me')).body.email).toBe('giang.vt@tuphap.example.gov.vn');
    expect((await secretary.get('/api/users')).body.users.every((u: Record<string, unknown>) => !('email' in u))).toBe(true);
    const audit = s.app.ctx.db.$client.prepare("select details from audit_log where action like 'user.%'").all() as { details: string }[];
    expect(audit.map((a) => a.details).join('\n')).not.toContain('@');
  });

  it('the logs name no e-mail address and never the SMTP password', async () => {
    // A reminder e-mail of its own, so the logs hold one whatever ran before (tests run in any order).
    const t = (await secretary.post('/api/tasks', { meetingId, title: 'Kiểm tra nhật ký', owner: { kind: 'user', userId: ids.member3 }, deadline: inDays(5) })).body;
    now = Date.parse(t.deadline) + 60_000;
    await runTwice();
    now = Date.now();
    expect(sink.withKeyPrefix(`task:${t.id}:`).length).toBeGreaterThan(0);
    const all = logs.join('\n');
    expect(all).toContain('reminder e-mail');
    expect(all).not.toMatch(/@demo\.ecabinet\.local|@ubnd\.example|@tuphap\.example/);
    expect(all).not.toContain(SMTP_PASS);
  });
});

describe('without SMTP_URL', () => {
  let s: TestServer;
  let now = Date.now();
  beforeAll(async () => {
    s = await startTestServer();
    s.app.ctx.jobs.setOptions({ now: () => new Date(now), intervalMs: 3600_000 });
  });
  afterAll(() => s?.close());

  it('reminders stay in the app and no e-mail job is ever queued', async () => {
    expect(s.app.ctx.config.mail.smtpUrl).toBeNull();
    const secretary = await s.login('secretary');
    const ids = await userIds(await s.login('admin'));
    const { meetingId } = await buildMeeting(secretary, { agendaItems: 1, publish: true });
    const t = (await secretary.post('/api/tasks', { meetingId, title: 'Nhiệm vụ không gửi thư', owner: { kind: 'user', userId: ids.member2 }, deadline: inDays(5) })).body;
    now = Date.parse(t.deadline) + 60_000;
    await s.app.ctx.jobs.runDue();
    await s.app.ctx.jobs.runDue();
    const kinds = (await (await s.login('member2')).get('/api/notifications')).body.notifications.map((n: { kind: string }) => n.kind);
    expect(kinds).toContain('task_overdue');
    expect(s.app.ctx.db.$client.prepare('select count(*) n from jobs where kind = ?').get(MAIL_SEND_JOB)).toEqual({ n: 0 });
  });
});
