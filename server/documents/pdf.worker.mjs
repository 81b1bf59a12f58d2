// Runs in a worker_thread with resourceLimits (see pdf.pool.ts); the pool sends one task at a time
// and terminates the worker when a task overruns its time limit. Plain ESM JavaScript so it loads
// the same way under node, tsx and vitest. Two tasks: `inspect` (page count, text per page,
// encryption) with pdfjs-dist's legacy build, and `watermark` (stamp every page) with pdf-lib.
import fs from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';

async function inspect(task) {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const data = new Uint8Array(await fs.readFile(task.path));
  const loading = pdfjs.getDocument({
    data,
    cMapUrl: task.cMapUrl,
    cMapPacked: true,
    standardFontDataUrl: task.standardFontDataUrl,
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    verbosity: 0,
    password: '',
  });
  let doc;
  try {
    doc = await loading.promise;
  } catch (err) {
    const name = err && err.name;
    if (name === 'PasswordException') return { ok: false, code: 'pdf_encrypted', message: 'The PDF is password-protected' };
    return { ok: false, code: 'invalid_pdf', message: `Not a readable PDF (${name || 'error'})` };
  }
  // An encrypted file that opens without a password (owner password only) still carries an
  // /Encrypt dictionary: we cannot watermark or index it reliably, so it is refused with a reason.
  const encrypted = !!(await doc.getPermissions()) || !!doc._transport?.pdfDocument?.xref?.trailer?.get?.('Encrypt');
  if (encrypted) {
    await doc.destroy();
    return { ok: false, code: 'pdf_encrypted', message: 'The PDF is encrypted or permission-protected; remove the protection and upload it again' };
  }
  const pageCount = doc.numPages;
  if (!(pageCount > 0)) return { ok: false, code: 'invalid_pdf', message: 'The PDF has no pages' };
  if (pageCount > task.maxPages) return { ok: false, code: 'pdf_too_complex', message: `More than ${task.maxPages} pages` };
  const pages = [];
  let total = 0;
  for (let n = 1; n <= pageCount; n++) {
    let text = '';
    if (total < task.maxTextChars) {
      try {
        const page = await doc.getPage(n);
        const content = await page.getTextContent({ disableNormalization: false });
        for (const item of content.items) {
          if (typeof item.str !== 'string') continue;
          text += item.str + (item.hasEOL ? '\n' : '');
          if (text.length > task.pageTextChars) break;
        }
        page.cleanup();
      } catch {
        // A damaged page keeps the document usable; it just has no searchable text.
        text = '';
      }
    }
    text = text.slice(0, task.pageTextChars);
    total += text.length;
    pages.push(text);
  }
  await doc.destroy();
  return { ok: true, pageCount, pages };
}

async function watermark(task) {
  const { PDFDocument, rgb, degrees } = await import('pdf-lib');
  const fontkit = (await import('@pdf-lib/fontkit')).default;
  const pdf = await PDFDocument.load(await fs.readFile(task.path), { updateMetadata: false });
  pdf.registerFontkit(fontkit);
  const font = await pdf.embedFont(await fs.readFile(task.fontPath), { subset: true });
  const lines = task.lines;
  for (const page of pdf.getPages()) {
    const { width, height } = page.getSize();
    const size = Math.max(10, Math.min(width, height) / 28);
    const angle = (Math.atan2(height, width) * 180) / Math.PI;
    lines.forEach((line, i) => {
      const w = font.widthOfTextAtSize(line, size);
      const rad = (angle * Math.PI) / 180;
      const cx = width / 2 - (Math.cos(rad) * w) / 2 + Math.sin(rad) * size * 1.6 * i;
      const cy = height / 2 - (Math.sin(rad) * w) / 2 - Math.cos(rad) * size * 1.6 * i;
      page.drawText(line, { x: cx, y: cy, size, font, color: rgb(0.75, 0.1, 0.1), opacity: 0.22, rotate: degrees(angle) });
    });
    page.drawText(lines.join(' · '), { x: 12, y: 8, size: 7, font, color: rgb(0.4, 0.4, 0.4), opacity: 0.8 });
  }
  const bytes = await pdf.save({ useObjectStreams: false });
  return { ok: true, bytes };
}

parentPort.on('message', ({ id, task }) => {
  const run = task.kind === 'watermark' ? watermark : inspect;
  run(task).then(
    (result) => parentPort.postMessage({ id, result }, result.bytes ? [result.bytes.buffer] : []),
    (err) =>
      parentPort.postMessage({
        id,
        result: { ok: false, code: task.kind === 'watermark' ? 'watermark_failed' : 'invalid_pdf', message: `Could not process the PDF (${(err && err.name) || 'error'})` },
      }),
  );
});
