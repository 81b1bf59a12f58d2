import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltMeeting, buildCommitteeMeeting, buildMeeting } from '../helpers/factories.js';
import { type HttpClient, type TestServer, startTestServer } from '../helpers/server.js';
import { pdf, upload } from './documents-helpers.js';
import { rawSocket } from '../helpers/yjs.js';

/**
 * Each test builds its own committee (a chair, a secretary and four members, named member1…member4 here): the
 * consultations, answers and documents of one test never meet another's, so they pass in any order.
 */
describe('written consultations (lấy ý kiến bằng văn bản)', () => {
  let s: TestServer;

  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
  });
  afterAll(() => s?.close());
  // A test that moves the job runner's clock to a deadline gives it back: the next test's consultations are due in real time.
  afterEach(() => s.app.ctx.jobs.setOptions({ now: () => new Date() }));

  /** A committee of its own with four members (its built meeting, a draft without items, is not used); its secretary signed in. */
  async function committee() {
    const m: BuiltMeeting = await buildMeeting(s, { members: 4, agendaItems: 0, publish: false });
    const ids: Record<string, number> = { chair: m.chair.id, ...Object.fromEntries(m.members.map((u, i) => [`member${i + 1}`, u.id])) };
    const members = () => Promise.all(m.members.map((u) => m.login(u)));
    return { m, ids, committeeId: m.committeeId, secretary: await m.as('secretary'), members };
  }

  /** Unread notifications of a kind about one consultation. */
  const unread = async (c: HttpClient, kind: string, consultationId: number) =>
    ((await c.get('/api/notifications')).body.notifications as { kind: string; readAt: string | null; data: { consultationId?: number } }[]).filter(
      (n) => n.kind === kind && !n.readAt && n.data.consultationId === consultationId,
    ).length;

  it('the secretary sends a question; members answer until the deadline; reminders reach only those who have not answered; after the deadline the report is a PDF', async () => {
    const { ids, committeeId, secretary, members } = await committee();
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
    const [m1, m2, m3, m4] = await members();
    expect(await unread(m1, 'consultation_sent', id)).toBe(1);

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
    const runner = s.app.ctx.jobs;
    runner.setOptions({ now: () => new Date(Date.parse(deadline) - 86400_000 + 1000) });
    await runner.runDue();
    expect(await unread(m3, 'consultation_reminder', id)).toBe(1);
    expect(await unread(m1, 'consultation_reminder', id)).toBe(0);
    // At the deadline it closes: answers are refused, everyone sees the result and the report.
    runner.setOptions({ now: () => new Date(Date.parse(deadline) + 1000) });
    await runner.runDue();
    expect((await m3.put(`/api/consultations/${id}/answer`, { answer: 'agree' })).body.error.code).toBe('consultation_closed');
    const closed = await m3.get(`/api/consultations/${id}`);
    expect(closed.body).toMatchObject({ state: 'closed', canAnswer: false, counts: { agree: 1, disagree: 0, other: 1, none: 1 } });
    expect(closed.body.answers).toHaveLength(2);
    expect(await unread(m3, 'consultation_closed', id)).toBe(1);

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
  it('recipients open the documents sent with a consultation (file, page text, find, download); nobody else gains anything, and a confidential document never travels', async () => {
    const { m, ids, committeeId, secretary, members } = await committee();
    // A meeting of the committee with member1 and member4 as its members; member2 and member3 are not invited.
    const { meetingId, itemIds } = await buildCommitteeMeeting(m, {
      agendaItems: 1,
      publish: true,
      participants: [{ user: m.chair, role: 'chair' }, { user: m.members[0], role: 'member' }, { user: m.members[3], role: 'member' }],
      secretary,
    });
    const up = async (file: string, fields: Record<string, string>) => {
      const r = await upload(secretary, meetingId, itemIds[0], pdf(file), file, fields);
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      return r.body.id as number;
    };
    const open = await up('seed-4.pdf', { title: 'Đề án ứng dụng công nghệ thông tin' });
    const named = await up('seed-2.pdf', { title: 'Báo cáo chuyển đổi số', access: 'named', viewerIds: String(ids.member1) });
    const secret = await up('seed-3.pdf', { title: 'Tài liệu mật', access: 'confidential', viewerIds: String(ids.member1) });
    const draft = await up('empty.pdf', { title: 'Bản nháp', published: 'false' });
    const deadline = new Date(Date.now() + 86400_000).toISOString();
    const send = (recipients: number[], documentIds: number[]) => secretary.post('/api/consultations', { committeeId, title: 'Xin ý kiến về đề án', question: 'Đề nghị cho ý kiến.', deadline, recipients, documentIds });
    const [m1, m2, m3, m4] = await members();
    const urls = (id: number) => [`/api/documents/${id}`, `/api/documents/${id}/file`, `/api/documents/${id}/download`, `/api/documents/${id}/pages/1/text`, `/api/documents/${id}/find?q=ung`];
    const expect404 = async (c: HttpClient, id: number) => {
      for (const url of urls(id)) {
        const r = await c.get(url);
        expect(r.status, url).toBe(404);
        expect(r.body.error.code).toBe('not_found');
      }
    };
    // Before: member2 sees nothing of the meeting's documents.
    await expect404(m2, open);

    // Refused attachments: a draft, a confidential document for someone who may not see it.
    expect((await send([ids.member2], [draft])).body.error.code).toBe('document_not_published');
    const conf = await send([ids.member1, ids.member2], [secret]);
    expect(conf.status).toBe(422);
    expect(conf.body.error).toMatchObject({ code: 'document_confidential' });
    expect((await send([ids.member2], [999_999])).body.error.code).toBe('invalid_payload');
    await expect404(m2, secret);
    // A document shared with named people follows its own list: not to a recipient it does not name.
    const restricted = await send([ids.member1, ids.member2], [open, named]);
    expect(restricted.status).toBe(422);
    expect(restricted.body.error).toMatchObject({ code: 'document_restricted', details: { documentId: named, recipients: [ids.member2] } });
    await expect404(m2, named);

    const sent = await send([ids.member2], [open, open]);
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    expect(sent.body.documentIds).toEqual([open]);
    const seen = await m2.get(`/api/consultations/${sent.body.id}`);
    expect(seen.body.documents).toEqual([expect.objectContaining({ id: open, title: 'Đề án ứng dụng công nghệ thông tin', meetingId, access: 'all', pageCount: expect.any(Number) })]);
    // The recipient reads it: details, bytes (ranges too), page text, find, a stamped download.
    for (const id of [open]) {
      for (const url of urls(id)) expect((await m2.get(url)).status, url).toBe(200);
      const range = await fetch(`${s.url}/api/documents/${id}/file`, { headers: { cookie: m2.cookie, range: 'bytes=0-9' } });
      expect(range.status).toBe(206);
      expect(Buffer.from(await range.arrayBuffer()).toString()).toMatch(/^%PDF-/);
    }
    expect((await m2.get(`/api/documents/${open}`)).body).toMatchObject({ canManage: false, canDownload: true });
    // Search finds the documents sent to the recipient, though they are not in the meeting.
    const searchDocs = async (c: HttpClient, q = 'công nghệ thông tin') =>
      ((await c.get(`/api/search?q=${encodeURIComponent(q)}`)).body.hits as { kind: string; refId: number }[]).filter((h) => h.kind === 'document').map((h) => h.refId);
    expect(await searchDocs(m2)).toContain(open);
    expect(await searchDocs(m2, 'chuyển đổi số')).not.toContain(named);
    expect(await searchDocs(m2)).not.toContain(secret);
    // …but only those documents, and nothing else of the meeting.
    await expect404(m2, secret);
    expect((await m2.get(`/api/meetings/${meetingId}`)).status).toBe(404);
    expect((await m2.get(`/api/meetings/${meetingId}/documents`)).status).toBe(404);
    expect((await m2.patch(`/api/documents/${open}`, { title: 'x' })).status).not.toBe(200);
    // The meeting's shared annotations are the meeting's, not the consultation's: refused (4403).
    const shared = await rawSocket(s.url, `annotation:${open}:shared:${meetingId}`, m2.cookie);
    expect(await shared.closed).toBe(4403);

    // Not a recipient: 404 on every path, and search finds nothing — whether outside the meeting
    // (member3) or a participant the named document does not name (member4).
    await expect404(m3, open);
    await expect404(m3, named);
    await expect404(m4, named);
    const found = (await m1.get(`/api/search?q=${encodeURIComponent('chuyển đổi số')}`)).body.hits as { kind: string; refId: number }[];
    expect(found.some((h) => h.kind === 'document' && h.refId === named)).toBe(true); // the query does find it for a named viewer
    for (const c of [m3, m4]) {
      const hits = (await c.get(`/api/search?q=${encodeURIComponent('chuyển đổi số')}`)).body.hits as { kind: string; refId: number }[];
      expect(hits.filter((h) => h.kind === 'document' && h.refId === named)).toEqual([]);
    }
    expect((await m3.get(`/api/consultations/${sent.body.id}`)).status).toBe(404);

    // A confidential document may go to those who already see it; it still never opens through the consultation.
    const toNamed = await send([ids.member1], [secret]);
    expect(toNamed.status, JSON.stringify(toNamed.body)).toBe(201);
    expect((await m1.get(`/api/consultations/${toNamed.body.id}`)).body.documents).toEqual([expect.objectContaining({ id: secret, access: 'confidential' })]);
    // Restricted after sending — shared with named people only, made confidential, unpublished or removed: the recipient loses it.
    expect((await secretary.patch(`/api/documents/${open}`, { access: 'named', viewerIds: [ids.member1] })).status).toBe(200);
    await expect404(m2, open);
    expect(await searchDocs(m2)).not.toContain(open);
    expect((await secretary.patch(`/api/documents/${open}`, { access: 'all' })).status).toBe(200);
    expect((await m2.get(`/api/documents/${open}`)).status).toBe(200);
    expect((await secretary.patch(`/api/documents/${open}`, { access: 'confidential' })).status).toBe(200);
    await expect404(m2, open);
    expect(await searchDocs(m2)).not.toContain(open);
    expect((await secretary.patch(`/api/documents/${open}`, { access: 'all' })).status).toBe(200);
    expect((await m2.get(`/api/documents/${open}`)).status).toBe(200);
    expect((await secretary.patch(`/api/documents/${open}`, { published: false })).status).toBe(200);
    await expect404(m2, open);
    expect((await m2.get(`/api/consultations/${sent.body.id}`)).body.documents).toEqual([]);
    expect((await secretary.patch(`/api/documents/${open}`, { published: true })).status).toBe(200);
    expect((await m2.get(`/api/documents/${open}`)).status).toBe(200);
    expect((await secretary.delete(`/api/documents/${open}`)).status).toBeLessThan(300);
    await expect404(m2, open);
  });
});
