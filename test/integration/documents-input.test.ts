import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawUpload } from '../helpers/multipart.js';
import { buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer, until } from '../helpers/server.js';
import { testSql } from '../helpers/sql.js';
import { PDFS, pdf, upload } from './documents-helpers.js';

/** What ../shared/testdata/pdfs/README.md says a correct upload does, made exact for our server. */
const EXPECTED: Record<string, { pages: number } | { status: number; code: string }> = {
  'seed-0.pdf': { pages: 2 },
  'seed-1.pdf': { pages: 4 },
  'seed-2.pdf': { pages: 4 },
  'seed-3.pdf': { pages: 2 },
  'seed-4.pdf': { pages: 3 },
  'board-pack-large.pdf': { pages: 451 },
  'tracemonkey.pdf': { pages: 14 },
  'tracemonkey_with_annotations.pdf': { pages: 14 },
  'TAMReview.pdf': { pages: 23 },
  'alphatrans.pdf': { pages: 1 },
  'annotation-highlight.pdf': { pages: 1 },
  '160F-2019.pdf': { pages: 1 },
  'ArabicCIDTrueType.pdf': { pages: 1 },
  'empty.pdf': { pages: 1 },
  // Encrypted with an empty user password (owner-password restrictions) / only its attachment is
  // encrypted: both open without a password, so they are accepted like any other PDF.
  'empty_protected.pdf': { pages: 1 },
  'encrypted-attachment.pdf': { pages: 1 },
  // pdf.js recovers these damaged and fuzzed files (a single readable page each).
  'xref_command_missing.pdf': { pages: 1 },
  'GHOSTSCRIPT-698804-1-fuzzed.pdf': { pages: 1 },
  'PDFBOX-3148-2-fuzzed.pdf': { pages: 1 },
  // A JBIG2 decompression bomb: text extraction never decodes the image; bounded time and memory.
  'bomb_giant.pdf': { pages: 1 },
};

const head = Buffer.from('--XBOUNDARY\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n');
const tailPart = Buffer.from('\r\n--XBOUNDARY--\r\n');

/** Files of the store still waiting in tmp/ (partial or uncommitted uploads). */
const pendingFiles = (dataDir: string) => fs.readdirSync(path.join(dataDir, 'files', 'tmp'));

function storedFiles(dataDir: string): string[] {
  const root = path.join(dataDir, 'files');
  return fs
    .readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

describe('document uploads refuse bad input and survive hostile files', () => {
  /** This file's limits: a 3 MB upload cap (so the 10 MB uploads below are refused early), generous PDF budgets. */
  const config = { documents: { maxBytes: 3 * 1024 * 1024, pdfTimeoutMs: 60_000, pdfMaxHeapMb: 512 } };
  const logLines: string[] = [];
  const logOptions = { logLevel: 'info', logTo: { write: (l: string) => void logLines.push(l) } };
  /** Uploads the server refused with `code`: it logs `upload refused` once nothing of the upload is left on disk. */
  const refusals = (code: string) => logLines.filter((l) => l.includes('"msg":"upload refused"') && l.includes(`"code":"${code}"`)).length;
  /** The server as started with this file's limits and log (again after the crash test's restart). */
  const start = (dataDir?: string) => startTestServer({ seed: 'admin', dataDir, config, ...logOptions });
  let s: TestServer;
  const count = async () => testSql(s).value<number>('select count(*) from document_versions');

  /** Each test's own committee, published meeting of one agenda item and its secretary (and `members` members), signed in. */
  async function world(members = 0) {
    const m = await buildMeeting(s, { members, agendaItems: 1 });
    const secretary = await m.as('secretary');
    const meetingId = m.meetingId;
    const itemId = m.itemIds[0];
    return { m, secretary, meetingId, itemId, uploadUrl: `/api/meetings/${meetingId}/agenda/items/${itemId}/documents` };
  }

  beforeAll(async () => {
    s = await start();
  });
  afterAll(() => s.close());

  it('every file of the test corpus gets the outcome its table says, the server keeps answering, and search finds text deep inside the 451-page pack', async () => {
    const { m, secretary, meetingId, itemId } = await world(1);
    const files = fs.readdirSync(PDFS).filter((f) => f.endsWith('.pdf'));
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const f of files) {
      const r = await upload(secretary, meetingId, itemId, pdf(f), f);
      const want = EXPECTED[f];
      if ('pages' in want) {
        expect([f, r.status]).toEqual([f, 201]);
        expect([f, r.body.current.pageCount]).toEqual([f, want.pages]);
      } else {
        expect([f, r.status, r.body.error.code]).toEqual([f, want.status, want.code]);
      }
      expect((await s.anonymous().get('/healthz')).status).toBe(200);
    }
    // Search names the page of text deep inside the 451-page pack just uploaded.
    const member = await m.as('member', 0);
    const r = await member.get(`/api/search?q=${encodeURIComponent('420/451')}`);
    expect(r.status).toBe(200);
    expect(r.body.hits.find((h: { kind: string }) => h.kind === 'document')?.page).toBe(420);
  }, 120_000);

  it('refuses files that are not PDFs by content, whatever their name: zero bytes, a JPEG, HTML, a truncated PDF', async () => {
    const { secretary, meetingId, itemId } = await world();
    const before = await count();
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0'), Buffer.alloc(2000, 7)]);
    const cases: [string, Buffer, number, string][] = [
      ['zero.pdf', Buffer.alloc(0), 415, 'not_a_pdf'],
      ['photo.pdf', jpeg, 415, 'not_a_pdf'],
      ['page.pdf', Buffer.from('<!doctype html><html><body>%PDF-1.7 is mentioned, but not at the start</body></html>'), 415, 'not_a_pdf'],
      ['truncated.pdf', pdf('seed-0.pdf').subarray(0, 600), 422, 'invalid_pdf'],
    ];
    for (const [name, bytes, status, code] of cases) {
      const r = await upload(secretary, meetingId, itemId, bytes, name);
      expect([name, r.status, r.body.error?.code]).toEqual([name, status, code]);
    }
    expect(await count()).toBe(before);
    expect(pendingFiles(s.dataDir)).toEqual([]);
  });

  it('a file over the limit is refused with 413 before it is fully sent, and nothing is stored', async () => {
    const { secretary, uploadUrl } = await world();
    const before = await count();
    const tooLarge = refusals('payload_too_large');
    const chunk = Buffer.alloc(256 * 1024, 0x20);
    chunk.write('%PDF-1.7\n');
    const chunks = [head, ...Array.from({ length: 40 }, () => chunk), tailPart];
    // Declared honestly: refused from the header alone, while the client still holds back the body.
    const declared = await rawUpload(s, secretary, uploadUrl, { chunks, pauseAfter: 2 });
    expect(declared).toMatchObject({ status: 413 });
    expect(declared.sent).toBeLessThan(declared.total);
    // No declared length (chunked): caught by counting while streaming. 64 MB on the wire, far more than loopback's
    // socket buffers hold (send 4 MB + receive autotuned up to 32 MB here): with 10 MB a client could hand the kernel
    // the whole body before a loaded server had read its first 3 MB.
    const endless = [head, ...Array.from({ length: 256 }, () => chunk), tailPart];
    const lying = await rawUpload(s, secretary, uploadUrl, { chunks: endless, declaredLength: null });
    // The server answers 413 and closes the connection; a client still writing may see the close first.
    expect(lying.status === 413 || /EPIPE|ECONNRESET/.test(lying.error ?? '')).toBe(true);
    expect(lying.sent).toBeLessThan(lying.total);
    expect(await count()).toBe(before);
    // Whether the client saw the 413 or the close first, both refusals are logged once their files are gone.
    await until(() => refusals('payload_too_large') >= tooLarge + 2, { what: 'both uploads refused' });
    expect(pendingFiles(s.dataDir)).toEqual([]);
  });

  it('an upload cut off midway stores nothing', async () => {
    const { secretary, uploadUrl } = await world();
    const before = await count();
    const interrupted = refusals('upload_incomplete');
    const bytes = pdf('seed-1.pdf');
    const r = await rawUpload(s, secretary, uploadUrl, {
      chunks: [head, bytes.subarray(0, 20_000), bytes.subarray(20_000), tailPart],
      cutAfter: 2,
    });
    expect(r.status).toBeUndefined();
    // The client sees the cut before the server does: wait for the server's refusal, logged once the partial file's
    // stream has closed and the file is unlinked. From then on nothing of it may be on disk.
    await until(() => refusals('upload_incomplete') > interrupted, { what: 'the interrupted upload refused' });
    expect(pendingFiles(s.dataDir)).toEqual([]);
    expect(await count()).toBe(before);
    expect((await s.anonymous().get('/healthz')).status).toBe(200);
  });

  it('path traversal in the file name is only a display name', async () => {
    const { secretary, meetingId, itemId } = await world();
    const r = await upload(secretary, meetingId, itemId, pdf('empty.pdf'), '../../../../../tmp/ec-evil.pdf');
    expect(r.status).toBe(201);
    expect(r.body.current.fileName).toBe('ec-evil.pdf');
    for (const f of storedFiles(s.dataDir)) expect(path.basename(f)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('concurrent uploads of the same file are stored once', async () => {
    const { secretary, meetingId, itemId } = await world();
    const bytes = pdf('seed-3.pdf');
    const rs = await Promise.all(Array.from({ length: 4 }, (_, i) => upload(secretary, meetingId, itemId, bytes, `copy-${i}.pdf`)));
    expect(rs.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    const sha = rs[0].body.current.sha256;
    expect(new Set(rs.map((r) => r.body.current.sha256))).toEqual(new Set([sha]));
    expect(storedFiles(s.dataDir).filter((f) => path.basename(f) === sha)).toHaveLength(1);
  });

  it('after a crash, restart finishes interrupted commits and removes partial uploads and orphans', async () => {
    const { m, secretary, meetingId, itemId } = await world();
    const uploaded = (await upload(secretary, meetingId, itemId, pdf('seed-4.pdf'), 'seed-4.pdf')).body;
    const sha = uploaded.current.sha256 as string;
    await s.close();
    const files = path.join(s.dataDir, 'files');
    // Committed row whose rename never happened: the file still waits in tmp/.
    fs.renameSync(path.join(files, sha.slice(0, 2), sha), path.join(files, 'tmp', `${sha}.crash.pending`));
    fs.writeFileSync(path.join(files, 'tmp', 'half.part'), 'partial');
    fs.writeFileSync(path.join(files, 'tmp', `${'a'.repeat(64)}.x.pending`), 'uncommitted');
    fs.mkdirSync(path.join(files, 'ff'), { recursive: true });
    fs.writeFileSync(path.join(files, 'ff', 'f'.repeat(64)), 'orphan');
    // Restarted with the same limits and seed: later tests (in any order) still see the 3 MB cap.
    s = await start(s.dataDir);
    expect(fs.readdirSync(path.join(files, 'tmp'))).toEqual([]);
    expect(fs.existsSync(path.join(files, 'ff', 'f'.repeat(64)))).toBe(false);
    expect(fs.existsSync(path.join(files, sha.slice(0, 2), sha))).toBe(true);
    const referenced = await testSql(s).all<{ sha256: string }>('select distinct sha256 from document_versions');
    for (const { sha256 } of referenced) expect(fs.existsSync(path.join(files, sha256.slice(0, 2), sha256))).toBe(true);
    // The document whose commit was finished serves its bytes; its secretary signs in again on the restarted server.
    const again = await s.login(m.secretary.username, m.secretary.password);
    const file = await fetch(`${s.url}/api/documents/${uploaded.id}/file`, { headers: { cookie: again.cookie } });
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer()).equals(pdf('seed-4.pdf'))).toBe(true);
    // Still this file's 3 MB cap: a 10 MB upload is refused (413, or the close that follows it); without the cap it would be read whole.
    const before = await count();
    const chunk = Buffer.alloc(256 * 1024, 0x20);
    chunk.write('%PDF-1.7\n');
    const big = await rawUpload(s, again, `/api/meetings/${meetingId}/agenda/items/${itemId}/documents`, { chunks: [head, ...Array.from({ length: 40 }, () => chunk), tailPart] });
    expect(big.status === 413 || /EPIPE|ECONNRESET/.test(big.error ?? ''), JSON.stringify(big)).toBe(true);
    expect(await count()).toBe(before);
  });
});
