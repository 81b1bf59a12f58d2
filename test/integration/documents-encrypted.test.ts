import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMeeting } from '../helpers/factories.js';
import { type HttpClient, type TestServer, startTestServer } from '../helpers/server.js';
import { testSql } from '../helpers/sql.js';
import { pdf, upload } from './documents-helpers.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/pdfs');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name));

/** Text of every page and the page count, read with pdf.js (what the browser's viewer uses). */
async function readPdf(bytes: Uint8Array): Promise<{ pages: number; text: string }> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const doc = await pdfjs.getDocument({ data: new Uint8Array(bytes), isEvalSupported: false, verbosity: 0 }).promise;
  let text = '';
  for (let n = 1; n <= doc.numPages; n++) {
    const content = await (await doc.getPage(n)).getTextContent();
    text += content.items.map((i) => ('str' in i ? i.str : '')).join(' ') + '\n';
  }
  const pages = doc.numPages;
  await doc.destroy();
  return { pages, text };
}

/** True when the file still carries an /Encrypt entry in a trailer (what makes readers decrypt it). */
const hasEncryptEntry = (bytes: Uint8Array) => /\/Encrypt\s+\d+\s+\d+\s+R/.test(Buffer.from(bytes).toString('latin1'));

describe('encrypted PDFs that open without a password are accepted; only those that need one are refused', () => {
  let s: TestServer;
  let secretary: HttpClient;
  let member: HttpClient;
  let meetingId: number;
  let itemId: number;

  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
    const m = await buildMeeting(s, { members: 1, agendaItems: 1, title: 'Phiên họp tài liệu mã hóa' });
    secretary = await m.as('secretary');
    member = await m.as('member', 0);
    meetingId = m.meetingId;
    itemId = m.itemIds[0];
  });
  afterAll(() => s.close());

  const openable: [string, () => Buffer, number, string][] = [
    ['owner-password-only.pdf (AES-256, empty user password, copying and changes forbidden)', () => fixture('owner-password-only.pdf'), 2, 'Chuyển đổi số'],
    ['owner-password-rc4.pdf (RC4 128, empty user password)', () => fixture('owner-password-rc4.pdf'), 2, 'Chuyển đổi số'],
    ['empty_protected.pdf (permission-protected, from the pdf.js corpus)', () => pdf('empty_protected.pdf'), 1, ''],
    ['encrypted-attachment.pdf (only the embedded file is encrypted)', () => pdf('encrypted-attachment.pdf'), 1, 'Example'],
  ];

  for (const [name, bytes, pages, phrase] of openable) {
    it(`${name}: uploads, opens in the viewer, is indexed, and downloads as plain watermarked and annotated copies that open`, async () => {
      const original = bytes();
      const r = await upload(secretary, meetingId, itemId, original, name.split(' ')[0]);
      expect([r.status, r.body.error?.code]).toEqual([201, undefined]);
      expect(r.body.current.pageCount).toBe(pages);
      const id = r.body.id as number;

      // The viewer's bytes open in pdf.js (the browser's viewer) without a password: the original
      // for owner-password files; for the encrypted-attachment one a copy without the /Encrypt entry.
      const file = await fetch(`${s.url}/api/documents/${id}/file`, { headers: { cookie: member.cookie } });
      expect(file.status).toBe(200);
      const served = Buffer.from(await file.arrayBuffer());
      expect((await readPdf(served)).pages).toBe(pages);
      if (!name.startsWith('encrypted-attachment')) expect(served.equals(original)).toBe(true);

      if (phrase) {
        const text = await member.get(`/api/documents/${id}/pages/1/text`);
        expect(text.status).toBe(200);
        expect(JSON.stringify(text.body)).toContain(phrase.split(' ')[0]);
      }

      // The downloaded copy is stamped with the reader's name and opens without a password.
      const dl = await fetch(`${s.url}/api/documents/${id}/download`, { headers: { cookie: member.cookie } });
      expect(dl.status).toBe(200);
      const copy = new Uint8Array(await dl.arrayBuffer());
      const read = await readPdf(copy);
      expect(read.pages).toBe(pages);
      const me = (await member.get('/api/auth/me')).body;
      expect(read.text).toContain((me.user ?? me).fullName);
      if (phrase) expect(read.text.normalize('NFC')).toContain(phrase);
      if (name.startsWith('owner')) expect(hasEncryptEntry(copy)).toBe(false);

      // "My annotated copy" (pdf-lib draws the annotations in) works on the same files.
      const annotated = await fetch(`${s.url}/api/documents/${id}/annotations/copy`, { headers: { cookie: member.cookie } });
      expect(annotated.status).toBe(200);
      const flat = await readPdf(new Uint8Array(await annotated.arrayBuffer()));
      expect(flat.pages).toBe(pages);
      if (phrase) expect(flat.text.normalize('NFC')).toContain(phrase);
    }, 60_000);
  }

  it('a PDF that needs a user password to open is refused with 422 pdf_encrypted, a message that says so, and nothing stored', async () => {
    const before = await testSql(s).value<number>('select count(*) from document_versions');
    const r = await upload(secretary, meetingId, itemId, fixture('user-password.pdf'), 'user-password.pdf');
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('pdf_encrypted');
    expect(r.body.error.message).toMatch(/needs a password/);
    expect(await testSql(s).value<number>('select count(*) from document_versions')).toBe(before);
    expect((await s.anonymous().get('/healthz')).status).toBe(200);
  });
});
