import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Request } from 'express';
import { UploadFields } from '../../shared/protocol/documents.js';
import { AppError } from '../http/errors.js';
import { type ReceivedFile, type Sniffer, StoredFiles, cleanFileName } from '../files/file-store.js';

export { cleanFileName, type ReceivedFile };

const PDF_MAGIC = Buffer.from('%PDF-');

/** Sniffed by content, not by name: a PDF starts with its header. */
function pdfSniffer(): Sniffer {
  const head: Buffer[] = [];
  let headLen = 0;
  let checked = false;
  const check = (): AppError | void => {
    checked = true;
    if (!Buffer.concat(head).subarray(0, 5).equals(PDF_MAGIC)) return new AppError('not_a_pdf', 'The file is not a PDF (its content does not start with %PDF-)', 415);
  };
  return {
    update(chunk) {
      if (checked) return;
      head.push(chunk);
      headLen += chunk.length;
      if (headLen >= 5) return check();
    },
    finish({ size }) {
      if (size === 0) throw new AppError('not_a_pdf', 'The file is empty', 415);
      if (!checked) {
        const refused = check();
        if (refused) throw refused;
      }
      return 'application/pdf';
    },
  };
}

/**
 * The content-addressed store (server/files/file-store.ts) with the meeting documents' upload:
 * exactly one PDF part.
 */
export class FileStore extends StoredFiles {
  /**
   * Streams a multipart upload with exactly one `file` part (text fields before it) to a pending
   * file. Refuses before reading everything: a declared or actual size over `maxBytes` (413
   * payload_too_large), content that does not start like a PDF (415 not_a_pdf), a connection cut
   * midway (400 upload_incomplete). Nothing is left on disk when it throws.
   */
  async receive(req: Request, maxBytes: number): Promise<{ fields: UploadFields; file: ReceivedFile }> {
    const { fields, files } = await this.receiveFiles(req, {
      maxFileBytes: maxBytes,
      maxFiles: 1,
      sniffer: pdfSniffer,
      defaultFileName: 'document.pdf',
      errors: {
        tooManyFiles: () => new AppError('invalid_payload', 'Send exactly one part named "file"', 400),
        wrongPart: () => new AppError('invalid_payload', 'Send exactly one part named "file"', 400),
        noFile: () => new AppError('invalid_payload', 'Send the PDF in a part named "file"', 400),
      },
    });
    const parsed = UploadFields.safeParse(fields);
    if (!parsed.success) {
      this.discard(files[0]);
      throw new AppError('invalid_payload', `Invalid form fields: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`, 400);
    }
    return { fields: parsed.data, file: files[0] };
  }

  /**
   * Replaces a received, not yet committed file's content by `bytes` (a PDF re-saved by the
   * inspection): a new pending file named after the new hash, the old one removed.
   */
  replaceContent(file: ReceivedFile, bytes: Uint8Array): ReceivedFile {
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    const tmpPath = this.tmpPathFor('pending', sha256);
    fs.writeFileSync(tmpPath, bytes);
    this.discard(file);
    return { ...file, tmpPath, sha256, size: bytes.length };
  }
}
