// Runs in a worker_thread with resourceLimits (see pdf.pool.ts); the pool sends one task at a time
// and terminates the worker when a task overruns its time limit. Plain ESM JavaScript so it loads
// the same way under node, tsx and vitest. Tasks: `inspect` (page count, text per page, encryption)
// with pdfjs-dist's legacy build; `watermark` and `annotated` (an annotated copy:
// editable + flatten + watermark) with pdf-lib; `render` (a generated PDF: one of the TypeScript
// renderers of server/pdf/pdf.renderers.ts).
import fs from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';

let renderers = null;

/**
 * server/pdf/pdf.renderers.ts, loaded on the first task that needs it. Under `node --import tsx` (or
 * the tsx CLI) the worker inherits the loader and imports TypeScript directly; elsewhere (vitest runs
 * the server in its own module runner, which workers do not share) tsx's API loads it with a scoped
 * loader. Never Node's own type stripping (Node >= 22.18): it resolves neither our `.js` specifiers
 * of `.ts` files nor TypeScript-only syntax.
 */
function loadRenderers() {
  renderers ??= (async () => {
    if (process.execArgv.some((a) => a.includes('tsx'))) {
      try {
        return await import('../pdf/pdf.renderers.ts');
      } catch {
        // The scoped loader below reports the real error if there is one.
      }
    }
    const { tsImport } = await import('tsx/esm/api');
    return tsImport('../pdf/pdf.renderers.ts', import.meta.url);
  })().catch((err) => {
    renderers = null;
    throw err;
  });
  return renderers;
}

async function inspect(task) {
  const data = new Uint8Array(await fs.readFile(task.path));
  const first = await inspectBytes(task, data);
  if (first.code !== 'pdf_encrypted') return first;
  // pdf.js asks for a password when the /Encrypt dictionary's password check fails, even where
  // nothing but embedded files is encrypted (StmF/StrF /Identity, a key only through /EFF): the
  // pages are plain, and poppler shows them. Such a file is stored without the /Encrypt entry and
  // without the attachments nobody can open, so every viewer shows it.
  const plain = await withoutAttachmentEncryption(task.path);
  if (!plain) return first;
  const second = await inspectBytes(task, plain.slice());
  return second.ok ? { ...second, rewritten: plain } : first;
}

/** The PDF re-saved without its /Encrypt entry and embedded files, when only those were encrypted; else null. */
async function withoutAttachmentEncryption(file) {
  const { PDFDocument, PDFDict, PDFName } = await import('pdf-lib');
  let pdf;
  try {
    pdf = await PDFDocument.load(await fs.readFile(file), { updateMetadata: false, ignoreEncryption: true });
  } catch {
    return null;
  }
  if (!pdf.isEncrypted || !stringsAndStreamsInClear(pdf, PDFDict, PDFName)) return null;
  pdf.context.trailerInfo.Encrypt = undefined;
  const names = pdf.catalog.lookupMaybe(PDFName.of('Names'), PDFDict);
  names?.delete(PDFName.of('EmbeddedFiles'));
  return pdf.save({ useObjectStreams: false });
}

/** True when an encrypted file's crypt filters leave strings and streams unencrypted (only /EFF encrypts). */
function stringsAndStreamsInClear(pdf, PDFDict, PDFName) {
  const encrypt = pdf.context.lookup(pdf.context.trailerInfo.Encrypt);
  if (!(encrypt instanceof PDFDict)) return false;
  const identity = PDFName.of('Identity');
  return encrypt.get(PDFName.of('StmF')) === identity && encrypt.get(PDFName.of('StrF')) === identity;
}

async function inspectBytes(task, data) {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
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
    // Only a file whose *user* password is not empty needs a password to open (PasswordException,
    // NEED_PASSWORD or INCORRECT_PASSWORD for the empty one we tried). Files encrypted with an empty
    // user password (owner-password restrictions on printing/copying, common on official documents)
    // or whose only encrypted parts are attachments open here like any other and are accepted:
    // poppler and pdf.js in the browser open them too.
    if (name === 'PasswordException') return { ok: false, code: 'pdf_encrypted', message: 'The PDF needs a password to open; save a copy without the password and upload that' };
    return { ok: false, code: 'invalid_pdf', message: `Not a readable PDF (${name || 'error'})` };
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

/**
 * Opens a PDF for editing with pdf-lib. pdf-lib cannot decrypt, and writing into an encrypted file
 * without re-encrypting gives a copy whose new content (the watermark, its font) readers "decrypt"
 * into garbage. So a file with an /Encrypt dictionary is first decrypted with its empty user password
 * by @cantoo/pdf-lib (a maintained pdf-lib fork with the standard security handler) and saved plain;
 * a file whose strings and streams are not encrypted at all (StmF/StrF Identity: only embedded files
 * are) is edited as it is. Anything else (a real user password) is refused, as at upload.
 */
async function openForEditing(bytes) {
  const { PDFDocument, PDFDict, PDFName } = await import('pdf-lib');
  const pdf = await PDFDocument.load(bytes, { updateMetadata: false, ignoreEncryption: true });
  if (!pdf.isEncrypted || stringsAndStreamsInClear(pdf, PDFDict, PDFName)) return pdf;
  const cantoo = await import('@cantoo/pdf-lib');
  const decrypted = await cantoo.PDFDocument.load(bytes, { password: '', updateMetadata: false });
  const plain = await PDFDocument.load(await decrypted.save({ useObjectStreams: false }), { updateMetadata: false, ignoreEncryption: true });
  // The fork may carry the old cross-reference streams over as plain objects, whose dictionaries
  // name /Encrypt: the saved copy's trailer must not.
  plain.context.trailerInfo.Encrypt = undefined;
  return plain;
}

async function watermark(task) {
  return { ok: true, bytes: await watermarkBytes(await fs.readFile(task.path), task.lines, task.fontPath) };
}

/** `bytes` with `lines` stamped diagonally across every page and in the footer, in the font at `fontPath`. */
async function watermarkBytes(bytes, lines, fontPath) {
  const { rgb, degrees } = await import('pdf-lib');
  const fontkit = (await import('@pdf-lib/fontkit')).default;
  const pdf = await openForEditing(bytes);
  pdf.registerFontkit(fontkit);
  const font = await pdf.embedFont(await fs.readFile(fontPath), { subset: true });
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
  return pdf.save({ useObjectStreams: false });
}

/** The file's bytes, decrypted when it is encrypted with an empty user password (pdf-lib cannot edit those). */
async function editableBytes(file) {
  const bytes = await fs.readFile(file);
  // Cheap test first: a file without the word /Encrypt is not encrypted and is passed on as it is.
  if (!bytes.includes('/Encrypt')) return new Uint8Array(bytes);
  const pdf = await openForEditing(bytes);
  return pdf.save({ useObjectStreams: false });
}

/** "My annotated copy": the file made editable, the items flattened in, then watermarked like every download. */
async function annotated(task) {
  const original = await editableBytes(task.path);
  const { runRenderer } = await loadRenderers();
  const flat = await runRenderer('annotations', { pdf: original, items: task.items, fontPath: task.fontPath });
  return { ok: true, bytes: await watermarkBytes(flat.bytes, task.lines, task.fontPath) };
}

async function render(task) {
  const { runRenderer } = await loadRenderers();
  const { bytes, warnings } = await runRenderer(task.name, task.input);
  return { ok: true, bytes, warnings };
}

const TASKS = { inspect, watermark, annotated, render };

parentPort.on('message', ({ id, task }) => {
  const run = TASKS[task.kind] ?? inspect;
  run(task).then(
    (result) => parentPort.postMessage({ id, result }, [result.bytes?.buffer, result.rewritten?.buffer].filter(Boolean)),
    (err) =>
      parentPort.postMessage({
        id,
        result: { ok: false, code: task.kind === 'inspect' ? 'invalid_pdf' : 'watermark_failed', message: `Could not process the PDF (${(err && err.name) || 'error'})` },
      }),
  );
});
