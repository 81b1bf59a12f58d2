import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCommitteeMeeting, buildMeeting } from '../helpers/factories.js';
import { type HttpClient, type TestServer, startTestServer } from '../helpers/server.js';
import { testSql } from '../helpers/sql.js';
import { pdf, upload } from './documents-helpers.js';

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

/**
 * Each test builds its own world (test/helpers/factories.ts): a committee with a chair, a secretary, two members and
 * a guest, and a published meeting of it, to which it uploads ../shared/testdata PDFs through the API. Nothing
 * is shared between tests, so they pass in any order (vitest --sequence.shuffle).
 */
describe('meeting documents', () => {
  let s: TestServer;

  /** A published meeting with `agendaItems` items: its secretary, two members and a guest, signed in. */
  async function world(agendaItems = 1) {
    const m = await buildMeeting(s, { members: 2, guests: 1, agendaItems });
    const [secretary, member1, member2, guest] = await Promise.all([m.as('secretary'), m.as('member', 0), m.as('member', 1), m.as('guest')]);
    return { m, meetingId: m.meetingId, itemIds: m.itemIds, secretary, member1, member2, guest };
  }

  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
  });
  afterAll(() => s.close());

  it('the secretary uploads PDFs to agenda items and every participant sees them in the meeting pack, in agenda order', async () => {
    const { secretary, member1, ...own } = await world(3);
    const items = (await secretary.get(`/api/meetings/${own.meetingId}/agenda`)).body.items as { id: number }[];
    expect(items.map((i) => i.id)).toEqual(own.itemIds);
    const a = await upload(secretary, own.meetingId, items[2].id, pdf('seed-2.pdf'), 'seed-2.pdf', { title: 'Báo cáo chuyển đổi số' });
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({ title: 'Báo cáo chuyển đổi số', access: 'all', published: true, current: { pageCount: 4, version: 1, fileName: 'seed-2.pdf' } });
    const b = await upload(secretary, own.meetingId, items[1].id, pdf('seed-0.pdf'), 'seed-0.pdf');
    expect(b.status).toBe(201);
    expect(b.body.title).toBe('seed-0');

    const pack = await member1.get(`/api/meetings/${own.meetingId}/documents`);
    expect(pack.status).toBe(200);
    expect(pack.body.items.map((i: { id: number }) => i.id)).toEqual(items.map((i) => i.id));
    const titles = pack.body.items.flatMap((i: { documents: { title: string }[] }) => i.documents.map((d) => d.title));
    expect(titles).toEqual(['seed-0', 'Báo cáo chuyển đổi số']);
    expect(pack.body.items[2].documents[0]).toMatchObject({ canDownload: true, canManage: false, viewerIds: [] });
  });

  it('serves the file with Range, a content-hash ETag and private caching; If-None-Match revalidates with 304', async () => {
    const { secretary, member1, meetingId, itemIds } = await world();
    const doc = (await upload(secretary, meetingId, itemIds[0], pdf('seed-3.pdf'), 'seed-3.pdf')).body;
    const whole = pdf('seed-3.pdf');
    const full = await rawGet(s, member1, `/api/documents/${doc.id}/file`);
    expect(full.status).toBe(200);
    expect(Buffer.from(full.bytes).equals(whole)).toBe(true);
    expect(full.headers.get('cache-control')).toBe('private, no-store');
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    expect(full.headers.get('etag')).toBe(`"${doc.current.sha256}"`);

    const part = await rawGet(s, member1, `/api/documents/${doc.id}/file`, { range: 'bytes=100-1123' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-1123/${whole.length}`);
    expect(Buffer.from(part.bytes).equals(whole.subarray(100, 1124))).toBe(true);

    const tail = await rawGet(s, member1, `/api/documents/${doc.id}/file`, { range: 'bytes=-50' });
    expect(Buffer.from(tail.bytes).equals(whole.subarray(whole.length - 50))).toBe(true);

    const bad = await rawGet(s, member1, `/api/documents/${doc.id}/file`, { range: `bytes=${whole.length + 10}-` });
    expect(bad.status).toBe(416);
    expect(bad.headers.get('content-range')).toBe(`bytes */${whole.length}`);

    const again = await rawGet(s, member1, `/api/documents/${doc.id}/file`, { 'if-none-match': full.headers.get('etag')! });
    expect(again.status).toBe(304);

    const text = await member1.get(`/api/documents/${doc.id}/pages/1/text`);
    expect(text.status).toBe(200);
    expect(text.body.text).toContain('Hà Nội');

    const find = await member1.get(`/api/documents/${doc.id}/find?q=${encodeURIComponent('ha noi')}`);
    expect(find.status).toBe(200);
    expect(find.body.terms).toEqual(['ha', 'noi']);
    expect(find.body.pages[0].page).toBe(1);
    expect(find.body.pages[0].snippet.filter((p: { hit: boolean }) => p.hit).map((p: { text: string }) => p.text)).toEqual(expect.arrayContaining(['Hà', 'Nội']));
  });

  it('a file missing from the file store (a restore without its files) is a clear 500 before any byte, and the server goes on', async () => {
    const { secretary, member1, meetingId, itemIds } = await world();
    const doc = (await upload(secretary, meetingId, itemIds[0], pdf('seed-1.pdf'), 'seed-1.pdf')).body;
    const sha: string = doc.current.sha256;
    const stored = path.join(s.dataDir, 'files', sha.slice(0, 2), sha);
    fs.renameSync(stored, `${stored}.away`);
    try {
      for (const headers of [{}, { range: 'bytes=0-99' }] as Record<string, string>[]) {
        const res = await fetch(`${s.url}/api/documents/${doc.id}/file`, { headers: { cookie: member1.cookie, ...headers } });
        expect(res.status).toBe(500);
        expect(res.headers.get('content-type')).toMatch(/json/);
        const body = (await res.json()) as { error: { code: string; message: string } };
        expect(body.error.code).toBe('internal');
      }
    } finally {
      fs.renameSync(`${stored}.away`, stored);
    }
    const back = await rawGet(s, member1, `/api/documents/${doc.id}/file`);
    expect(back.status).toBe(200);
    expect(Buffer.from(back.bytes).equals(pdf('seed-1.pdf'))).toBe(true);
  });

  it('a confidential document is viewable by its named participants only, never downloadable; everyone else gets 404 on every path', async () => {
    const { m, secretary, member1, member2, guest, meetingId, itemIds } = await world();
    const member1Id = m.members[0].id;
    const doc = (
      await upload(secretary, meetingId, itemIds[0], pdf('seed-4.pdf'), 'mat.pdf', { title: 'Tài liệu mật', access: 'confidential', viewerIds: String(member1Id) })
    ).body;
    expect(doc.access).toBe('confidential');
    expect(doc.viewerIds).toEqual([member1Id]);

    // member1 is named: may view (file, ranges, text, search), may not download.
    expect((await member1.get(`/api/documents/${doc.id}`)).body.canDownload).toBe(false);
    expect((await rawGet(s, member1, `/api/documents/${doc.id}/file`, { range: 'bytes=0-9' })).status).toBe(206);
    const dl = await member1.get(`/api/documents/${doc.id}/download`);
    expect(dl.status).toBe(403);
    expect(dl.body.error.code).toBe('download_forbidden');

    // member2 and the guest are participants of the meeting but not named.
    for (const c of [member2, guest]) {
      for (const url of [`/api/documents/${doc.id}`, `/api/documents/${doc.id}/file`, `/api/documents/${doc.id}/download`, `/api/documents/${doc.id}/pages/1/text`, `/api/documents/${doc.id}/find?q=ung`]) {
        const r = await c.get(url);
        expect(r.status, url).toBe(404);
        expect(r.body.error.code).toBe('not_found');
      }
      expect((await rawGet(s, c, `/api/documents/${doc.id}/file`, { range: 'bytes=0-9' })).status).toBe(404);
      expect((await rawGet(s, c, `/api/documents/${doc.id}/file?version=${doc.current.id}`)).status).toBe(404);
      const pack = await c.get(`/api/meetings/${meetingId}/documents`);
      expect(pack.status).toBe(200);
      expect(pack.body.items.flatMap((i: { documents: { id: number }[] }) => i.documents.map((d) => d.id))).not.toContain(doc.id);
      const found = await c.get(`/api/search?q=${encodeURIComponent('Ứng dụng công nghệ thông tin')}`);
      expect(found.body.hits.filter((h: { kind: string; refId: number }) => h.kind === 'document' && h.refId === doc.id)).toEqual([]);
    }
    const mine = await member1.get(`/api/search?q=${encodeURIComponent('ung dung cong nghe thong tin')}`);
    expect(mine.body.hits.some((h: { kind: string; refId: number }) => h.kind === 'document' && h.refId === doc.id)).toBe(true);
    // Anonymous callers are asked to sign in.
    expect((await s.anonymous().get(`/api/documents/${doc.id}/file`)).status).toBe(401);
  });

  it('the upload, file and search routes are described in the OpenAPI document', async () => {
    const spec = (await s.anonymous().get('/api/openapi.json')).body;
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/api/meetings/{id}/agenda/items/{itemId}/documents', '/api/documents/{id}/file', '/api/search']));
    expect(spec.paths['/api/meetings/{id}/agenda/items/{itemId}/documents'].post.requestBody.content).toHaveProperty(['multipart/form-data']);
    expect(spec.paths['/api/documents/{id}/file'].get.responses['200'].content).toHaveProperty(['application/pdf']);
  });

  it('an unpublished document is visible to the secretary only until it is published', async () => {
    const { secretary, member1, meetingId, itemIds } = await world();
    const doc = (await upload(secretary, meetingId, itemIds[0], pdf('empty.pdf'), 'draft.pdf', { published: 'false' })).body;
    expect((await member1.get(`/api/documents/${doc.id}`)).status).toBe(404);
    expect((await secretary.get(`/api/documents/${doc.id}`)).status).toBe(200);
    expect((await secretary.patch(`/api/documents/${doc.id}`, { published: true })).status).toBe(200);
    expect((await member1.get(`/api/documents/${doc.id}`)).status).toBe(200);
  });

  it('members may not upload, rename or remove; a non-participant cannot even learn the meeting has documents', async () => {
    const { m, secretary, member1, member2, meetingId, itemIds } = await world();
    const r = await upload(member1, meetingId, itemIds[0], pdf('empty.pdf'), 'x.pdf');
    expect(r.status).toBe(403);
    expect((await upload(secretary, meetingId, itemIds[0], pdf('seed-0.pdf'), 'seed-0.pdf')).status).toBe(201);
    const any = (await member1.get(`/api/meetings/${meetingId}/documents`)).body.items.flatMap((i: { documents: { id: number }[] }) => i.documents)[0];
    expect((await member1.patch(`/api/documents/${any.id}`, { title: 'Đổi tên' })).status).toBe(403);
    expect((await member1.delete(`/api/documents/${any.id}`)).status).toBe(403);
    expect((await secretary.patch(`/api/documents/${any.id}`, { viewerIds: [999999] })).status).toBe(400);

    // Another meeting of the same committee with member1 as its only participant: member2 is a committee member, not invited.
    const other = await buildCommitteeMeeting(m, { title: 'Họp riêng', agendaItems: 1, participants: [{ user: m.members[0], role: 'member', canVote: true }], secretary });
    const d = (await upload(secretary, other.meetingId, other.itemIds[0], pdf('seed-1.pdf'), 'rieng.pdf')).body;
    expect((await secretary.post(`/api/meetings/${other.meetingId}/publish`)).status).toBe(200);
    expect((await member1.get(`/api/documents/${d.id}`)).status).toBe(200);
    expect((await member2.get(`/api/documents/${d.id}`)).status).toBe(404);
    expect((await member2.get(`/api/meetings/${other.meetingId}/documents`)).status).toBe(404);
    expect((await upload(member2, other.meetingId, other.itemIds[0], pdf('empty.pdf'), 'x.pdf')).status).toBe(404);
  });

  it('search folds Vietnamese: "chuyen doi so" finds "Chuyển đổi số" with a highlighted snippet and the page to open', async () => {
    const { secretary, member1, meetingId, itemIds } = await world();
    // A document whose title does not hold the words: the hit comes from its text.
    const uploaded = (await upload(secretary, meetingId, itemIds[0], pdf('seed-2.pdf'), 'seed-2.pdf', { title: 'Tài liệu tham khảo' })).body;
    const agendaVersion = (await secretary.get(`/api/meetings/${meetingId}/agenda`)).body.version;
    const opening = await secretary.post(`/api/meetings/${meetingId}/agenda/items`, { version: agendaVersion, title: 'Khai mạc, giới thiệu đại biểu' });
    expect(opening.status).toBe(201);
    const openingId = Math.max(...(opening.body.items as { id: number }[]).map((i) => i.id));
    const r = await member1.get(`/api/search?q=${encodeURIComponent('chuyen doi so')}`);
    expect(r.status).toBe(200);
    const doc = r.body.hits.find((h: { kind: string }) => h.kind === 'document');
    expect(doc).toMatchObject({ refId: uploaded.id });
    expect(doc.page).toBeGreaterThanOrEqual(1);
    const marked = doc.snippet.filter((p: { hit: boolean }) => p.hit).map((p: { text: string }) => p.text.toLowerCase());
    expect(marked).toEqual(expect.arrayContaining(['chuyển', 'đổi', 'số']));
    // Agenda titles are indexed too, and "d" matches "đ".
    const agenda = await member1.get(`/api/search?q=${encodeURIComponent('khai mac dai bieu')}`);
    expect(agenda.body.hits[0]).toMatchObject({ kind: 'agenda_item', refId: openingId, page: null });
    // Agenda edits are re-indexed.
    expect((await member1.get(`/api/search?q=${encodeURIComponent('diem danh')}`)).body.hits.map((h: { refId: number }) => h.refId)).not.toContain(openingId);
    const v = (await secretary.get(`/api/meetings/${meetingId}/agenda`)).body.version;
    expect((await secretary.patch(`/api/meetings/${meetingId}/agenda/items/${openingId}`, { version: v, title: 'Khai mạc và điểm danh đại biểu' })).status).toBe(200);
    const renamed = await member1.get(`/api/search?q=${encodeURIComponent('diem danh')}`);
    expect(renamed.body.hits.map((h: { refId: number }) => h.refId)).toContain(openingId);
    expect((await member1.get('/api/search?q=')).status).toBe(400);
  });

  it('rename, reorder, replace (old versions kept and listed) and remove; each change is audited', async () => {
    const { secretary, member1, meetingId, itemIds } = await world();
    const item = { id: itemIds[0] };
    const one = (await upload(secretary, meetingId, item.id, pdf('seed-1.pdf'), 'mot.pdf')).body;
    const two = (await upload(secretary, meetingId, item.id, pdf('alphatrans.pdf'), 'hai.pdf')).body;
    expect([one.position, two.position]).toEqual([0, 1]);

    const renamed = await secretary.patch(`/api/documents/${one.id}`, { title: 'Tờ trình số 1' });
    expect(renamed.body.title).toBe('Tờ trình số 1');
    expect((await secretary.post(`/api/documents/${two.id}/move`, { position: 0 })).body.position).toBe(0);
    const pack = await member1.get(`/api/meetings/${meetingId}/documents`);
    expect(pack.body.items.find((i: { id: number }) => i.id === item.id).documents.map((d: { id: number }) => d.id)).toEqual([two.id, one.id]);

    const replaced = await (async () => {
      const fd = new FormData();
      fd.append('file', new Blob([pdf('seed-2.pdf')]), 'mot-v2.pdf');
      return secretary.post(`/api/documents/${one.id}/versions`, fd);
    })();
    expect(replaced.status).toBe(201);
    expect(replaced.body.current).toMatchObject({ version: 2, pageCount: 4, fileName: 'mot-v2.pdf' });
    expect(replaced.body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    const old = await rawGet(s, member1, `/api/documents/${one.id}/file?version=${replaced.body.versions[0].id}`);
    expect(Buffer.from(old.bytes).equals(pdf('seed-1.pdf'))).toBe(true);
    const cur = await rawGet(s, member1, `/api/documents/${one.id}/file`);
    expect(Buffer.from(cur.bytes).equals(pdf('seed-2.pdf'))).toBe(true);

    expect((await secretary.delete(`/api/documents/${two.id}`)).status).toBe(204);
    expect((await member1.get(`/api/documents/${two.id}`)).status).toBe(404);
    expect((await secretary.get(`/api/documents/${two.id}/file`)).status).toBe(404);
    const actions = (await testSql(s).all<{ action: string }>("select action from audit_log where target_type = 'document' and target_id in (?, ?) order by id", String(one.id), String(two.id))).map((r) => r.action);
    expect(actions).toEqual(['document.upload', 'document.upload', 'document.update', 'document.move', 'document.replace', 'document.remove']);
  });

  it('a download is stamped with the downloader\u2019s name and unit on the page', async () => {
    const { m, secretary, member1, meetingId, itemIds } = await world();
    const doc = (await upload(secretary, meetingId, itemIds[0], pdf('empty.pdf'), 'trang.pdf')).body;
    const r = await rawGet(s, member1, `/api/documents/${doc.id}/download`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-disposition')).toMatch(/^attachment/);
    const me = (await member1.get('/api/auth/me')).body;
    const user = me.user ?? me;
    expect(user.fullName).toBe(m.members[0].fullName);
    const text = await pdfText(r.bytes);
    expect(text).toContain(user.fullName);
    expect(text).toContain(user.unit);
  });
});
