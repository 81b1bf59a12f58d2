import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Request } from 'express';
import busboy from 'busboy';
import { UploadFields } from '../../shared/protocol/documents.js';
import type { Db } from '../db/client.js';
import { AppError } from '../http/errors.js';
import type { Logger } from '../log.js';

/** A received, hashed, not yet committed upload. */
export interface ReceivedFile {
  /** `<files>/tmp/<sha256>.<uuid>.pending`: the name carries the hash so startup recovery can finish a commit. */
  tmpPath: string;
  sha256: string;
  size: number;
  /** Display name only, sanitized; never used to build a path. */
  fileName: string;
}

const SHA = /^[0-9a-f]{64}$/;
const PDF_MAGIC = Buffer.from('%PDF-');

/**
 * Content-addressed PDF storage under `<dataDir>/files/<sha[0..2]>/<sha>`.
 *
 * Write protocol (crash safety): bytes stream to `tmp/<uuid>.part` while hashing; once complete the
 * file is renamed to `tmp/<sha>.<uuid>.pending`; the database rows are written in one transaction;
 * only then is the pending file renamed into place. A crash before the commit leaves only a pending
 * file (deleted at startup); a crash between commit and rename leaves a row whose file is pending
 * (renamed into place at startup). Identical uploads share one file.
 */
export class FileStore {
  readonly root: string;
  readonly tmp: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'files');
    this.tmp = path.join(this.root, 'tmp');
    fs.mkdirSync(this.tmp, { recursive: true });
  }

  /** Where the bytes of `sha256` live. */
  pathFor(sha256: string): string {
    if (!SHA.test(sha256)) throw new Error('bad sha256');
    return path.join(this.root, sha256.slice(0, 2), sha256);
  }

  /** Moves a committed upload into place (after its rows committed). Identical content may already be there. */
  commit(f: ReceivedFile): void {
    const dest = this.pathFor(f.sha256);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    if (fs.existsSync(dest)) fs.rmSync(f.tmpPath, { force: true });
    else fs.renameSync(f.tmpPath, dest);
  }

  /** Forgets an upload that was refused. */
  discard(f: { tmpPath: string } | null | undefined): void {
    if (f) fs.rmSync(f.tmpPath, { force: true });
  }

  /**
   * Startup recovery: finishes commits interrupted between the transaction and the rename, removes
   * partial and uncommitted uploads, and removes stored files no version refers to.
   */
  recover(db: Db, log: Logger): void {
    const referenced = new Set((db.$client.prepare('select distinct sha256 from document_versions').all() as { sha256: string }[]).map((r) => r.sha256));
    let finished = 0;
    let removed = 0;
    for (const name of fs.readdirSync(this.tmp)) {
      const full = path.join(this.tmp, name);
      const m = /^([0-9a-f]{64})\.[\w-]+\.pending$/.exec(name);
      if (m && referenced.has(m[1]) && !fs.existsSync(this.pathFor(m[1]))) {
        this.commit({ tmpPath: full, sha256: m[1], size: 0, fileName: '' });
        finished++;
      } else {
        fs.rmSync(full, { force: true });
        removed++;
      }
    }
    for (const dir of fs.readdirSync(this.root)) {
      if (dir === 'tmp' || !/^[0-9a-f]{2}$/.test(dir)) continue;
      for (const name of fs.readdirSync(path.join(this.root, dir))) {
        if (!referenced.has(name)) {
          fs.rmSync(path.join(this.root, dir, name), { force: true });
          removed++;
        }
      }
    }
    if (finished || removed) log.info({ finished, removed }, 'document store recovered');
  }

  /**
   * Streams a multipart upload with exactly one `file` part (text fields before it) to a pending
   * file. Refuses before reading everything: a declared or actual size over `maxBytes` (413
   * payload_too_large), content that does not start like a PDF (415 not_a_pdf), a connection cut
   * midway (400 upload_incomplete). Nothing is left on disk when it throws.
   */
  receive(req: Request, maxBytes: number): Promise<{ fields: UploadFields; file: ReceivedFile }> {
    const declared = Number(req.get('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes + 64 * 1024) {
      return Promise.reject(tooLarge(maxBytes));
    }
    if (!req.is('multipart/form-data')) {
      return Promise.reject(new AppError('unsupported_media_type', 'Send the file as multipart/form-data with a "file" part', 415));
    }
    return new Promise((resolve, reject) => {
      let bb: busboy.Busboy;
      try {
        bb = busboy({ headers: req.headers, limits: { files: 1, fileSize: maxBytes, fields: 10, fieldSize: 20_000, parts: 12 }, defParamCharset: 'utf8' });
      } catch {
        return reject(new AppError('invalid_payload', 'Malformed multipart request', 400));
      }
      const rawFields: Record<string, string> = {};
      const partPath = path.join(this.tmp, `${crypto.randomUUID()}.part`);
      let out: fs.WriteStream | null = null;
      let result: ReceivedFile | null = null;
      let fileDone: Promise<void> | null = null;
      let failed = false;

      const fail = (err: AppError) => {
        if (failed) return;
        failed = true;
        // Stop reading: the route answers with `Connection: close`, so the rest is never read.
        req.unpipe(bb);
        // The write stream opens asynchronously: remove the partial file once it is really closed.
        if (out) out.once('close', () => fs.rmSync(partPath, { force: true }));
        out?.destroy();
        fs.rmSync(partPath, { force: true });
        if (result) fs.rmSync(result.tmpPath, { force: true });
        reject(err);
      };

      req.on('aborted', () => fail(new AppError('upload_incomplete', 'The upload was interrupted', 400)));
      req.on('close', () => {
        if (!req.complete) fail(new AppError('upload_incomplete', 'The upload was interrupted', 400));
      });
      bb.on('field', (name, value) => {
        rawFields[name] = value;
      });
      bb.on('file', (name, stream, info) => {
        if (name !== 'file' || out) {
          stream.resume();
          return fail(new AppError('invalid_payload', 'Send exactly one part named "file"', 400));
        }
        const hash = crypto.createHash('sha256');
        const head: Buffer[] = [];
        let headLen = 0;
        let checked = false;
        let size = 0;
        const check = () => {
          checked = true;
          // Sniffed by content, not by name: a PDF starts with its header.
          if (!Buffer.concat(head).subarray(0, 5).equals(PDF_MAGIC)) fail(new AppError('not_a_pdf', 'The file is not a PDF (its content does not start with %PDF-)', 415));
        };
        out = fs.createWriteStream(partPath, { flags: 'wx' });
        fileDone = new Promise<void>((res) => {
          out!.on('finish', res);
          out!.on('error', () => fail(new AppError('internal', 'Could not store the upload', 500)));
        });
        stream.on('data', (chunk: Buffer) => {
          if (failed) return;
          size += chunk.length;
          hash.update(chunk);
          if (!checked) {
            head.push(chunk);
            headLen += chunk.length;
            if (headLen >= 5) check();
          }
        });
        stream.on('limit', () => fail(tooLarge(maxBytes)));
        stream.on('end', () => {
          if (failed) return;
          if (!checked) check();
          if (failed) return;
          if (size === 0) return fail(new AppError('not_a_pdf', 'The file is empty', 415));
          const sha256 = hash.digest('hex');
          result = { tmpPath: path.join(this.tmp, `${sha256}.${crypto.randomUUID()}.pending`), sha256, size, fileName: cleanFileName(info.filename) };
        });
        stream.pipe(out);
      });
      bb.on('error', () => fail(new AppError('invalid_payload', 'Malformed multipart request', 400)));
      bb.on('close', async () => {
        if (failed) return;
        if (!fileDone) return fail(new AppError('invalid_payload', 'Send the PDF in a part named "file"', 400));
        await fileDone;
        if (failed || !result) return fail(new AppError('upload_incomplete', 'The upload was interrupted', 400));
        const parsed = UploadFields.safeParse(rawFields);
        if (!parsed.success) {
          return fail(new AppError('invalid_payload', `Invalid form fields: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`, 400));
        }
        fs.renameSync(partPath, result.tmpPath);
        resolve({ fields: parsed.data, file: result });
      });
      req.pipe(bb);
    });
  }
}

function tooLarge(maxBytes: number): AppError {
  return new AppError('payload_too_large', `The file is larger than the limit of ${Math.floor(maxBytes / (1024 * 1024))} MB`, 413, { maxBytes });
}

/** The last path segment, without control characters, at most 255 characters. Display only. */
export function cleanFileName(name: string | undefined): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 255);
  return clean && clean !== '.' && clean !== '..' ? clean : 'document.pdf';
}
