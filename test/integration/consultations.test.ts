import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobRunner } from '../../server/jobs/jobs.js';
import { type HttpClient, type TestServer, startTestServer, userIds } from '../helpers/server.js';

describe('written consultations (lấy ý kiến bằng văn bản)', () => {
  let s: TestServer;
  let secretary: HttpClient;
  let ids: Record<string, number>;
  let committeeId: number;

  beforeAll(async () => {
    s = await startTestServer();
    secretary = await s.login('secretary');
    ids = await userIds(await s.login('admin'));
    committeeId = (await secretary.get('/api/committees')).body.committees[0].id;
  });
  afterAll(() => s?.close());

  const unread = async (c: HttpClient, kind: string) => ((await c.get('/api/notifications')).body.notifications as { kind: string; readAt: string | null }[]).filter((n) => n.kind === kind && !n.readAt).length;

  it('the secretary sends a question; members answer until the deadline; reminders reach only those who have not answered; after the deadline the report is a PDF', async () => {
    const deadline = new Date(Date.now() + 2 * 86400_000).toISOString();
    const r = await secretary.post('/api/consultations', {
      committeeId,
      title: 'Dự thảo Quy chế làm việc của Ban Chỉ đạo',
      question: 'Đề nghị các đồng chí cho ý kiến về dự thảo Quy chế làm việc (sửa đổi) của Ban Chỉ đạo.',
      deadline,
      recipients: [ids.member1, ids.member2, ids.member3],
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const id = r.body.id as number;
    const [m1, m2, m3, m4] = await Promise.all(['member1', 'member2', 'member3', 'member4'].map((u) => s.login(u)));
    expect(await unread(m1, 'consultation_sent')).toBe(1);

    // Bad input and the wrong people, each refused with a clear code.
    expect((await m4.get(`/api/consultations/${id}`)).status).toBe(404);
    expect((await m4.put(`/api/consultations/${id}/answer`, { answer: 'agree' })).status).toBe(404);
    expect((await m1.put(`/api/consultations/${id}/answer`, { answer: 'other' })).body.error.code).toBe('invalid_payload');
    expect((await m1.put(`/api/consultations/${id}/answer`, { answer: 'maybe' })).body.error.code).toBe('invalid_payload');
    expect((await m1.post('/api/consultations', { committeeId, title: 'x', question: 'y', deadline })).status).toBe(403);
    expect((await secretary.post('/api/consultations', { committeeId, title: 'x', question: 'y', deadline: new Date(Date.now() - 1000).toISOString() })).body.error.code).toBe('invalid_payload');
    expect((await m1.get(`/api/consultations/${id}/report.pdf`)).body.error.code).toBe('consultation_open');

    expect((await m1.put(`/api/consultations/${id}/answer`, { answer: 'disagree' })).status).toBe(200);
    const changed = await m1.put(`/api/consultations/${id}/answer`, { answer: 'agree', comment: 'Nhất trí với dự thảo.' });
    expect(changed.body).toMatchObject({ mine: { answer: 'agree', comment: 'Nhất trí với dự thảo.' }, counts: null, answers: null });
    expect((await m2.put(`/api/consultations/${id}/answer`, { answer: 'other', comment: 'Đề nghị bổ sung Điều 5: chế độ báo cáo định kỳ hằng quý; làm rõ trách nhiệm của Thường trực.' })).status).toBe(200);
    expect((await secretary.get(`/api/consultations/${id}`)).body.counts).toEqual({ agree: 1, disagree: 0, other: 1, none: 1 });

    // A day before the deadline the runner sends the reminder: member3 only.
    const runner = jobRunner(s.app.ctx);
    runner.setOptions({ now: () => new Date(Date.parse(deadline) - 86400_000 + 1000) });
    await runner.runDue();
    expect(await unread(m3, 'consultation_reminder')).toBe(1);
    expect(await unread(m1, 'consultation_reminder')).toBe(0);
    // At the deadline it closes: answers are refused, everyone sees the result and the report.
    runner.setOptions({ now: () => new Date(Date.parse(deadline) + 1000) });
    await runner.runDue();
    expect((await m3.put(`/api/consultations/${id}/answer`, { answer: 'agree' })).body.error.code).toBe('consultation_closed');
    const closed = await m3.get(`/api/consultations/${id}`);
    expect(closed.body).toMatchObject({ state: 'closed', canAnswer: false, counts: { agree: 1, disagree: 0, other: 1, none: 1 } });
    expect(closed.body.answers).toHaveLength(2);
    expect(await unread(m3, 'consultation_closed')).toBe(1);

    const pdf = await fetch(`${s.url}/api/consultations/${id}/report.pdf`, { headers: { cookie: m3.cookie } });
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    const bytes = Buffer.from(await pdf.arrayBuffer());
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    // Vietnamese text is in the PDF as text (extractable), with its diacritics.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec-consult-'));
    fs.writeFileSync(path.join(dir, 'r.pdf'), bytes);
    const text = execFileSync('pdftotext', [path.join(dir, 'r.pdf'), '-']).toString();
    expect(text).toContain('BÁO CÁO TỔNG HỢP Ý KIẾN');
    expect(text).toContain('Đề nghị bổ sung Điều 5');
    expect(text).toMatch(/Đồng ý: 1\s+Không đồng ý: 0\s+Ý kiến khác: 1\s+Không trả lời: 1/);
    if (process.env.KEEP_REPORT) fs.copyFileSync(path.join(dir, 'r.pdf'), process.env.KEEP_REPORT);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
