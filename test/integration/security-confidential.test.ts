import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltMeeting, buildMeeting } from '../helpers/factories.js';
import { type HttpClient, type TestServer, startTestServer } from '../helpers/server.js';
import { pdf, upload } from './documents-helpers.js';
import { testSql } from '../helpers/sql.js';

const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

async function pdfText(bytes: Uint8Array): Promise<string> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const doc = await pdfjs.getDocument({ data: new Uint8Array(bytes), isEvalSupported: false, verbosity: 0 }).promise;
  const page = await doc.getPage(1);
  const content = await page.getTextContent();
  const text = content.items.map((i) => ('str' in i ? i.str : '')).join(' ');
  await doc.destroy();
  return text;
}

async function rawGet(s: TestServer, c: HttpClient, url: string, headers: Record<string, string> = {}) {
  const res = await fetch(s.url + url, { headers: { cookie: c.cookie, ...headers } });
  return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
}

describe('attacker: a view-only reader of a confidential document never gets the original', () => {
  let s: TestServer;
  let m: BuiltMeeting;
  let secretary: HttpClient;
  let reader: HttpClient;
  let docId: number;
  let v1: { id: number; bytes: Buffer };
  let v2: { id: number; bytes: Buffer };

  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
    m = await buildMeeting(s, { members: 2, agendaItems: 1 });
    secretary = await m.as('secretary');
    reader = await m.as('member', 0);
    const first = pdf('seed-4.pdf');
    const up = await upload(secretary, m.meetingId, m.itemIds[0], first, 'mat.pdf', { title: 'Tài liệu mật', access: 'confidential', viewerIds: String(m.members[0].id) });
    expect(up.status).toBe(201);
    docId = up.body.id;
    v1 = { id: up.body.current.id, bytes: first };
    const second = pdf('seed-3.pdf');
    const fd = new FormData();
    fd.append('file', new Blob([second as Uint8Array<ArrayBuffer>], { type: 'application/pdf' }), 'mat-2.pdf');
    const rep = await secretary.post(`/api/documents/${docId}/versions`, fd);
    expect(rep.status).toBe(201);
    v2 = { id: rep.body.current.id, bytes: second };
  });
  afterAll(() => s.close());

  const auditRows = () =>
    testSql(s).all<{ actorId: number; action: string; details: string | null }>(
      `SELECT actor_id AS "actorId", action, details FROM audit_log WHERE target_type = 'document' AND target_id = ? AND action LIKE 'document.confidential.%' ORDER BY id`,
      String(docId),
    );

  it('GET /file and its ?version= form serve a copy watermarked with the reader, never the original bytes', async () => {
    const cur = await rawGet(s, reader, `/api/documents/${docId}/file`);
    expect(cur.status).toBe(200);
    expect(Buffer.from(cur.bytes.subarray(0, 5)).toString()).toBe('%PDF-');
    expect(sha(cur.bytes)).not.toBe(sha(v2.bytes));
    expect(cur.headers.get('etag')).not.toBe(`"${sha(v2.bytes)}"`);
    expect(cur.headers.get('etag')).toBe(`"${sha(cur.bytes)}"`);
    const text = await pdfText(cur.bytes);
    expect(text).toContain(m.members[0].fullName);
    expect(text).toContain('CHỈ XEM');

    const old = await rawGet(s, reader, `/api/documents/${docId}/file?version=${v1.id}`);
    expect(old.status).toBe(200);
    expect(sha(old.bytes)).not.toBe(sha(v1.bytes));
    expect(await pdfText(old.bytes)).toContain(m.members[0].fullName);
  });

  it('range requests are cut from the watermarked copy (its length, its bytes), also with an If-Range of the original', async () => {
    const whole = await rawGet(s, reader, `/api/documents/${docId}/file`);
    const a = await rawGet(s, reader, `/api/documents/${docId}/file`, { range: 'bytes=0-1023' });
    expect(a.status).toBe(206);
    expect(a.headers.get('content-range')).toBe(`bytes 0-1023/${whole.bytes.length}`);
    expect(Buffer.from(a.bytes).equals(Buffer.from(whole.bytes.subarray(0, 1024)))).toBe(true);
    const tail = await rawGet(s, reader, `/api/documents/${docId}/file`, { range: 'bytes=-2048' });
    expect(Buffer.from(tail.bytes).equals(Buffer.from(whole.bytes.subarray(-2048)))).toBe(true);
    expect(Buffer.from(tail.bytes).equals(Buffer.from(v2.bytes.subarray(-2048)))).toBe(false);
    // If-Range naming the original's hash does not match: the whole (watermarked) copy comes back.
    const ir = await rawGet(s, reader, `/api/documents/${docId}/file`, { range: 'bytes=0-99', 'if-range': `"${sha(v2.bytes)}"` });
    expect(ir.status).toBe(200);
    expect(sha(ir.bytes)).toBe(sha(whole.bytes));
    // Revalidation with the original's ETag does not answer 304 either.
    expect((await rawGet(s, reader, `/api/documents/${docId}/file`, { 'if-none-match': `"${sha(v2.bytes)}"` })).status).toBe(200);
  });

  it('download and annotated copy are refused; the secretary (a manager) still gets the original', async () => {
    const dl = await reader.get(`/api/documents/${docId}/download`);
    expect(dl.status).toBe(403);
    expect(dl.body.error.code).toBe('download_forbidden');
    const copy = await reader.get(`/api/documents/${docId}/annotations/copy`);
    expect(copy.status).toBe(403);
    const orig = await rawGet(s, secretary, `/api/documents/${docId}/file`);
    expect(sha(orig.bytes)).toBe(sha(v2.bytes));
  });

  it('every access to the confidential document is audited: open, each file or range request, page text, refused downloads', async () => {
    const before = (await auditRows()).length;
    expect((await reader.get(`/api/documents/${docId}`)).status).toBe(200);
    await rawGet(s, reader, `/api/documents/${docId}/file`, { range: 'bytes=0-9' });
    await rawGet(s, reader, `/api/documents/${docId}/file`, { range: 'bytes=10-19' });
    expect((await reader.get(`/api/documents/${docId}/pages/1/text`)).status).toBe(200);
    expect((await reader.get(`/api/documents/${docId}/find?q=a`)).status).toBe(200);
    expect((await reader.get(`/api/documents/${docId}/download`)).status).toBe(403);
    const rows = (await auditRows()).slice(before);
    expect(rows.map((r) => r.action)).toEqual([
      'document.confidential.open',
      'document.confidential.view',
      'document.confidential.view',
      'document.confidential.page_text',
      'document.confidential.find',
      'document.confidential.download_refused',
    ]);
    expect(rows.every((r) => r.actorId === m.members[0].id)).toBe(true);
    expect(JSON.parse(rows[1].details!)).toMatchObject({ range: 'bytes=0-9', watermarked: true });
  });

  it('a search whose results show the confidential document (snippets of its pages) is audited for the reader; one that does not show it is not', async () => {
    const before = (await auditRows()).length;
    const found = await reader.get(`/api/search?q=${encodeURIComponent('phiên chất vấn')}&meetingId=${m.meetingId}`);
    expect(found.status).toBe(200);
    const hit = found.body.hits.find((h: { kind: string; refId: number }) => h.kind === 'document' && h.refId === docId);
    expect(hit.pages.length).toBeGreaterThan(0);
    const missed = await reader.get(`/api/search?q=${encodeURIComponent('không có trong tài liệu zyxwv')}&meetingId=${m.meetingId}`);
    expect(missed.body.hits).toEqual([]);
    const rows = (await auditRows()).slice(before);
    expect(rows.map((r) => r.action)).toEqual(['document.confidential.search']);
    expect(rows[0].actorId).toBe(m.members[0].id);
    expect(JSON.parse(rows[0].details!)).toEqual({ pages: hit.pages.map((p: { page: number }) => p.page) });
  });

  it('a member not named still gets 404 on every path, and nothing is served', async () => {
    const other = await m.as('member', 1);
    for (const url of [`/api/documents/${docId}/file`, `/api/documents/${docId}/file?version=${v1.id}`]) {
      expect((await rawGet(s, other, url, { range: 'bytes=0-9' })).status).toBe(404);
    }
  });
});
