import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbDigest, testSql } from '../helpers/sql.js';
import { rawUpload } from '../helpers/multipart.js';
import { type HttpClient, type TestServer, inDays, startTestServer, until } from '../helpers/server.js';
import { buildMeeting, buildUser, giveUnits, ownUnit } from '../helpers/factories.js';

const TESTDATA = path.resolve(import.meta.dirname, '../../../shared/testdata');
const seedPdf = fs.readFileSync(path.join(TESTDATA, 'pdfs', 'seed-0.pdf'));
const seedTxtName = fs.readdirSync(path.join(TESTDATA, 'seeds')).filter((f) => f.endsWith('.txt'))[0];
const seedTxt = fs.readFileSync(path.join(TESTDATA, 'seeds', seedTxtName));

/** A minimal ZIP (stored entries) — enough for the Office sniffer, which reads the central directory. */
function zip(entries: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(entries)) {
    const n = Buffer.from(name);
    const data = Buffer.from(content);
    const crc = zlib.crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(data.length, 20);
    cd.writeUInt32LE(data.length, 24);
    cd.writeUInt16LE(n.length, 28);
    cd.writeUInt32LE(offset, 42);
    locals.push(local, n, data);
    central.push(cd, n);
    offset += 30 + n.length + data.length;
  }
  const cdBuf = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(Object.keys(entries).length, 8);
  eocd.writeUInt16LE(Object.keys(entries).length, 10);
  eocd.writeUInt32LE(cdBuf.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cdBuf, eocd]);
}
const CT = '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>';
const docx = zip({ '[Content_Types].xml': CT, '_rels/.rels': '<Relationships/>', 'word/document.xml': '<w:document/>' });
const xlsx = zip({ '[Content_Types].xml': CT, 'xl/workbook.xml': '<workbook/>' });
const docm = zip({ '[Content_Types].xml': CT, 'word/document.xml': '<w:document/>', 'word/vbaProject.bin': 'macro' });
const plainZip = zip({ 'readme.txt': 'hello', 'evil.exe': 'MZ' });
const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 1)]);
const exe = Buffer.concat([Buffer.from('MZ'), Buffer.from([0x90, 0, 3, 0, 0, 0, 4, 0]), Buffer.alloc(500, 0)]);
const html = Buffer.from('  <!doctype html><html><body><script>alert(1)</script>%PDF-1.7</body></html>');

type Part = { bytes: Uint8Array; name: string; type?: string };
function form(comment: string, files: Part[], extra: Record<string, string> = {}) {
  const fd = new FormData();
  fd.append('comment', comment);
  for (const [k, v] of Object.entries(extra)) fd.append(k, v);
  for (const f of files) fd.append('file', new Blob([f.bytes as Uint8Array<ArrayBuffer>], { type: f.type ?? 'application/pdf' }), f.name);
  return fd;
}

/** Raw bytes of a download (HttpClient decodes text). */
async function download(s: TestServer, c: HttpClient, url: string) {
  const res = await fetch(s.url + url, { headers: { cookie: c.cookie } });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** Every file of the store (committed and temporary). */
function storedFiles(dataDir: string): string[] {
  const root = path.join(dataDir, 'files');
  return fs
    .readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

const fieldPart = (name: string, value: string) => Buffer.from(`--XBOUNDARY\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
const fileHead = (fileName: string) => Buffer.from(`--XBOUNDARY\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: application/pdf\r\n\r\n`);
const closing = Buffer.from('\r\n--XBOUNDARY--\r\n');

/**
 * Each test builds its own world (`world`): a committee with a chair, a secretary, the task's owner, a member of
 * a co-operating unit of this test only and a member not involved, a published meeting, an outsider and a task.
 * Nothing is shared between tests, so they pass in any order (vitest --sequence.shuffle).
 */
describe('task progress reports with attachments', () => {
  let s: TestServer;
  const logLines: string[] = [];
  // Browsers percent-encode `"` in multipart file names, so the name has none.
  const vietName = 'Báo cáo tiến độ — Sở Nội vụ (đợt 1), bản cuối; ý kiến.txt';

  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin', logLevel: 'debug', logTo: { write: (l) => void logLines.push(l) } });
  });
  afterAll(() => s?.close());

  /** A task of a meeting of its own, owned by `owner`, with the unit of `coop` co-operating; everyone signed in. */
  async function world() {
    const m = await buildMeeting(s, { members: 3, agendaItems: 1, publish: true });
    const [ownerUser, otherUser, coopUser] = m.members;
    const finance = ownUnit('Sở Tài chính');
    await giveUnits(await s.login('admin'), [[coopUser, finance]]);
    const stranger = await buildUser(s);
    const secretary = await m.as('secretary');
    const created = await secretary.post('/api/tasks', { meetingId: m.meetingId, agendaItemId: m.itemIds[0], title: 'Số hóa hồ sơ một cửa', owner: { kind: 'user', userId: ownerUser.id }, coUnits: [finance], deadline: inDays(10) });
    expect(created.status).toBe(201);
    return {
      taskId: created.body.id as number,
      secretary,
      owner: await m.login(ownerUser),
      coop: await m.login(coopUser), // Sở Tài chính
      otherMember: await m.login(otherUser), // committee member, not involved
      guest: await s.login(stranger.username, stranger.password),
      chair: await m.as('chair'),
    };
  }

  /** Database and file store, to prove a refused upload left nothing behind. */
  const snapshot = async () => ({ db: await dbDigest(s, ['sessions']), files: storedFiles(s.dataDir) });
  /**
   * How many uploads the server has refused with `code`: it logs `upload refused` once nothing of the upload is
   * left on disk, the only moment a test can know for an upload whose client has gone (no answer to wait for).
   */
  const refusals = (code: string) => logLines.filter((l) => l.includes('"msg":"upload refused"') && l.includes(`"code":"${code}"`)).length;

  it('the owner reports progress with a PDF and a text file; the history lists them and the bytes download unchanged, with a Vietnamese name', async () => {
    const { taskId, owner } = await world();
    const r = await owner.post(`/api/tasks/${taskId}/reports`, form('Đã hoàn thành dự thảo, gửi kèm tài liệu', [{ bytes: seedPdf, name: 'seed-0.pdf' }, { bytes: seedTxt, name: vietName, type: 'application/octet-stream' }], { percent: '40' }));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'in_progress', percent: 40 });
    const ev = r.body.history.at(-1);
    expect(ev).toMatchObject({ kind: 'progress', comment: 'Đã hoàn thành dự thảo, gửi kèm tài liệu' });
    expect(ev.attachments.map((a: { fileName: string; contentType: string; size: number }) => [a.fileName, a.contentType, a.size])).toEqual([
      ['seed-0.pdf', 'application/pdf', seedPdf.length],
      [vietName, 'text/plain', seedTxt.length],
    ]);
    for (const [a, bytes] of [
      [ev.attachments[0], seedPdf],
      [ev.attachments[1], seedTxt],
    ] as const) {
      const d = await download(s, owner, a.url);
      expect(d.status).toBe(200);
      expect(d.bytes.equals(bytes)).toBe(true);
      expect(d.headers.get('x-content-type-options')).toBe('nosniff');
      expect(d.headers.get('content-disposition')).toMatch(/^attachment; /);
    }
    const cd = (await download(s, owner, ev.attachments[1].url)).headers;
    expect(cd.get('content-type')).toBe('text/plain; charset=utf-8');
    const star = /filename\*=UTF-8''([^;]+)/.exec(cd.get('content-disposition')!)![1];
    expect(decodeURIComponent(star)).toBe(vietName);
    expect(cd.get('content-disposition')).toContain('filename="Bao cao tien do');
    // The task detail, the owner's list view and the board show the same history.
    const detail = await owner.get(`/api/tasks/${taskId}`);
    expect(detail.body.history.at(-1).attachments).toHaveLength(2);
    expect(detail.body.can.seeAttachments).toBe(true);
    // Audited, without names; names never reach the log.
    const uploads = await testSql(s).all<{ details: unknown }>("select details from audit_log where action = 'task.attachment.upload' and target_type = 'task' and target_id = ?", String(taskId));
    // The details column is JSON text on SQLite, jsonb (an object) on PostgreSQL.
    const audits = uploads.map((a) => (typeof a.details === 'string' ? a.details : JSON.stringify(a.details))).filter((d) => JSON.parse(d).eventId === ev.id);
    expect(audits).toHaveLength(2);
    for (const a of audits) expect(a).not.toContain('seed-0');
    expect(logLines.join('\n')).not.toContain('Báo cáo tiến độ');
    expect(logLines.join('\n')).not.toContain(encodeURIComponent('Báo cáo tiến độ'));
  });

  it('a co-operating unit attaches Office files and images; types come from the content; identical files are stored once', async () => {
    const { taskId, owner, coop } = await world();
    // The owner's report already holds the PDF the co-operating unit attaches again.
    const first = await owner.post(`/api/tasks/${taskId}/reports`, form('Dự thảo', [{ bytes: seedPdf, name: 'seed-0.pdf' }]));
    expect(first.status).toBe(200);
    const r = await coop.post(
      `/api/tasks/${taskId}/reports`,
      form('Sở Tài chính phối hợp: số liệu kèm theo', [
        { bytes: docx, name: 'du-toan.docx', type: 'text/html' },
        { bytes: xlsx, name: 'so-lieu.xlsx' },
        { bytes: png, name: 'anh.png', type: 'application/x-msdownload' },
        { bytes: seedPdf, name: 'ban-sao.pdf' },
      ]),
    );
    expect(r.status).toBe(200);
    expect(r.body.history.at(-1).attachments.map((a: { contentType: string }) => a.contentType)).toEqual([
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'image/png',
      'application/pdf',
    ]);
    const shaOf = (a: { id: number }) => testSql(s).get<{ sha256: string }>('select sha256 from task_attachments where id = ?', a.id);
    const copy = r.body.history.at(-1).attachments[3];
    expect(copy.fileName).toBe('ban-sao.pdf');
    const sha = (await shaOf(copy))!;
    expect(await shaOf(first.body.history.at(-1).attachments[0])).toEqual(sha);
    expect(storedFiles(s.dataDir).filter((f) => path.basename(f) === sha.sha256)).toHaveLength(1);
    expect(fs.readdirSync(path.join(s.dataDir, 'files', 'tmp'))).toEqual([]);
    const d = await download(s, coop, r.body.history.at(-1).attachments[0].url);
    expect(d.bytes.equals(docx)).toBe(true);
  });

  it('only those involved and the managers download: a committee member not involved and a stranger get 404, and cannot upload', async () => {
    const { taskId, owner, secretary, chair, otherMember, guest } = await world();
    const reported = await owner.post(`/api/tasks/${taskId}/reports`, form('Dự thảo', [{ bytes: seedPdf, name: 'seed-0.pdf' }]));
    expect(reported.status).toBe(200);
    const url = reported.body.history.at(-1).attachments[0].url as string;
    expect((await download(s, secretary, url)).status).toBe(200);
    expect((await download(s, chair, url)).status).toBe(200);
    expect((await download(s, otherMember, url)).status).toBe(404);
    expect((await download(s, guest, url)).status).toBe(404);
    expect((await download(s, s.anonymous(), url)).status).toBe(401);
    // The other member sees the task on the board, but not the attachments.
    const seen = await otherMember.get(`/api/tasks/${taskId}`);
    expect(seen.status).toBe(200);
    expect(seen.body.can.seeAttachments).toBe(false);
    expect(seen.body.history.every((h: { attachments: unknown[] }) => h.attachments.length === 0)).toBe(true);
    // Attachment ids of another task are not reachable through this one.
    const attId = Number(url.split('/').pop());
    expect((await download(s, owner, `/api/tasks/${taskId + 1000}/attachments/${attId}`)).status).toBe(404);

    const before = await snapshot();
    expect((await otherMember.post(`/api/tasks/${taskId}/reports`, form('Tôi báo cáo thay', [{ bytes: seedPdf, name: 'x.pdf' }]))).status).toBe(403);
    expect((await guest.post(`/api/tasks/${taskId}/reports`, form('x', [{ bytes: seedPdf, name: 'x.pdf' }]))).status).toBe(404);
    expect(await snapshot()).toEqual(before);
  });

  it('too many files, forbidden types and malformed requests are refused and leave nothing behind', async () => {
    const { taskId, owner } = await world();
    const before = await snapshot();
    const six = Array.from({ length: 6 }, (_, i) => ({ bytes: Buffer.from(`tệp số ${i}\n`), name: `t${i}.txt` }));
    const tooMany = await owner.post(`/api/tasks/${taskId}/reports`, form('Sáu tệp', six));
    expect([tooMany.status, tooMany.body.error.code]).toEqual([413, 'too_many_files']);
    const cases: [string, Buffer, number, string][] = [
      ['trang.pdf', html, 415, 'unsupported_file_type'],
      ['setup.pdf', exe, 415, 'unsupported_file_type'],
      ['nen.docx', plainZip, 415, 'unsupported_file_type'],
      ['macro.docx', docm, 415, 'unsupported_file_type'],
      ['hong.docx', docx.subarray(0, docx.length - 30), 422, 'invalid_file'],
      ['rong.txt', Buffer.alloc(0), 415, 'unsupported_file_type'],
    ];
    for (const [name, bytes, status, code] of cases) {
      // A good file first: the bad one must undo the whole report.
      const r = await owner.post(`/api/tasks/${taskId}/reports`, form('Báo cáo', [{ bytes: seedTxt, name: 'ok.txt' }, { bytes, name }]));
      expect([name, r.status, r.body.error?.code]).toEqual([name, status, code]);
    }
    // Not multipart, a broken multipart body, a missing comment, a part with another name, a bad percent.
    expect((await owner.post(`/api/tasks/${taskId}/reports`, { comment: 'json' })).body.error.code).toBe('unsupported_media_type');
    const broken = await rawUpload(s, owner, `/api/tasks/${taskId}/reports`, { chunks: [fieldPart('comment', 'x'), Buffer.from('--XBOUNDARY\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nabc')] });
    expect(broken.status).toBe(400);
    const noBoundary = await rawUpload(s, owner, `/api/tasks/${taskId}/reports`, { chunks: [fieldPart('comment', 'x'), closing], contentType: 'multipart/form-data' });
    expect(noBoundary.status).toBe(400);
    expect((await owner.post(`/api/tasks/${taskId}/reports`, form('', [{ bytes: seedTxt, name: 'a.txt' }]))).status).toBe(400);
    expect((await owner.post(`/api/tasks/${taskId}/reports`, form('x', [], { percent: '101' }))).status).toBe(400);
    const other = new FormData();
    other.append('comment', 'x');
    other.append('photo', new Blob([png]), 'a.png');
    expect((await owner.post(`/api/tasks/${taskId}/reports`, other)).status).toBe(400);
    // Each refusal was answered only once its partial files were unlinked: nothing to wait for.
    expect(await snapshot()).toEqual(before);
  });

  it('a file over 20 MB is refused while streaming and an upload cut midway stores nothing', async () => {
    const { taskId, owner } = await world();
    const before = await snapshot();
    const [tooLarge, interrupted] = [refusals('payload_too_large'), refusals('upload_incomplete')];
    const chunk = Buffer.alloc(512 * 1024, 0x61); // "aaaa…": plain text, so only the size refuses it
    // 80 MB: more than the 20 MB limit plus what loopback's socket buffers can take in before a loaded server reads
    // (send 4 MB + receive autotuned up to 32 MB here), so "refused before fully sent" cannot pass or fail by luck.
    const chunks = [fieldPart('comment', 'Tệp quá lớn'), fileHead('lon.txt'), ...Array.from({ length: 160 }, () => chunk), closing];
    // No declared length (chunked): caught by counting while streaming.
    const big = await rawUpload(s, owner, `/api/tasks/${taskId}/reports`, { chunks, declaredLength: null });
    expect(big.status === 413 || /EPIPE|ECONNRESET/.test(big.error ?? '')).toBe(true);
    if (big.status) expect(JSON.parse(big.body!).error.code).toBe('payload_too_large');
    expect(big.sent).toBeLessThan(big.total);
    // Declared: refused from the header alone.
    const declared = await rawUpload(s, owner, `/api/tasks/${taskId}/reports`, { chunks: [...chunks.slice(0, 2), ...Array.from({ length: 220 }, () => chunk), closing] });
    expect(declared.status === 413 || /EPIPE|ECONNRESET/.test(declared.error ?? '')).toBe(true);
    expect(declared.sent).toBeLessThan(declared.total);
    // Cut off midway.
    const cut = await rawUpload(s, owner, `/api/tasks/${taskId}/reports`, { chunks: [fieldPart('comment', 'Mất mạng'), fileHead('a.pdf'), seedPdf.subarray(0, 10_000), seedPdf.subarray(10_000), closing], cutAfter: 3 });
    expect(cut.status).toBeUndefined();
    // The client may see the cut (or EPIPE) before the server does: wait for the server's refusals, logged once the
    // partial files' streams have closed and the files are unlinked. From then on nothing of them may be on disk.
    await until(() => refusals('payload_too_large') >= tooLarge + 2 && refusals('upload_incomplete') >= interrupted + 1, { what: 'the three uploads refused' });
    expect(await snapshot()).toEqual(before);
    expect((await s.anonymous().get('/healthz')).status).toBe(200);
  });

  it('a progress report without files works over multipart too, and a closed task takes no reports', async () => {
    const { taskId, owner, secretary } = await world();
    const r = await owner.post(`/api/tasks/${taskId}/reports`, form('Chỉ có nhận xét', [], { percent: '90' }));
    expect(r.status).toBe(200);
    expect(r.body.history.at(-1)).toMatchObject({ comment: 'Chỉ có nhận xét', percent: 90, attachments: [] });
    await owner.post(`/api/tasks/${taskId}/done`, { comment: 'Xong' });
    await secretary.post(`/api/tasks/${taskId}/confirm`, {});
    const before = await snapshot();
    const late = await owner.post(`/api/tasks/${taskId}/reports`, form('Bổ sung', [{ bytes: seedTxt, name: 'a.txt' }]));
    expect([late.status, late.body.error.code]).toEqual([409, 'invalid_state']);
    expect(await snapshot()).toEqual(before);
  });

  it('after a restart, the store keeps attachment files (recovery knows the table)', async () => {
    // A server of its own: the restart changes the port, which the file's other clients keep using.
    let t = await startTestServer({ seed: 'admin' });
    try {
      const m = await buildMeeting(t, { members: 1, agendaItems: 1, publish: true });
      const sec = await m.as('secretary');
      const member1 = m.members[0];
      const created = await sec.post('/api/tasks', { meetingId: m.meetingId, agendaItemId: m.itemIds[0], title: 'Ảnh hiện trường', owner: { kind: 'user', userId: member1.id }, deadline: inDays(10) });
      expect(created.status).toBe(201);
      const id = created.body.id as number;
      const r = await (await m.login(member1)).post(`/api/tasks/${id}/reports`, form('Ảnh hiện trường', [{ bytes: png, name: 'anh.png', type: 'image/png' }]));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const attachment = r.body.history.at(-1).attachments[0];
      const sha = (await testSql(t).value<string>('select sha256 from task_attachments where id = ?', attachment.id))!;
      await t.close();
      t = await startTestServer({ seed: 'admin', dataDir: t.dataDir });
      expect(storedFiles(t.dataDir).some((f) => path.basename(f) === sha)).toBe(true);
      const d = await download(t, await t.login(member1.username, member1.password), attachment.url);
      expect(d.status).toBe(200);
      expect(d.bytes.equals(png)).toBe(true);
    } finally {
      await t.close();
    }
  });
});
