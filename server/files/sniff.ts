import fs from 'node:fs/promises';
import { AppError } from '../http/errors.js';
import type { Sniffer } from './file-store.js';

/** Types a sniffer may accept, by content. */
export const SNIFFED_TYPES = {
  pdf: 'application/pdf',
  png: 'image/png',
  jpeg: 'image/jpeg',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  text: 'text/plain',
} as const;
export type SniffedKind = keyof typeof SNIFFED_TYPES;

const MAGIC: [Exclude<SniffedKind, 'docx' | 'xlsx' | 'text'> | 'zip', Buffer][] = [
  ['pdf', Buffer.from('%PDF-')],
  ['png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])],
  ['jpeg', Buffer.from([0xff, 0xd8, 0xff])],
  ['zip', Buffer.from([0x50, 0x4b, 0x03, 0x04])],
];
const HEAD = 8;

const unsupported = (why: string) => new AppError('unsupported_file_type', `File type not accepted: ${why}. Accepted: PDF, PNG, JPEG, DOCX, XLSX, plain text (UTF-8)`, 415);

/** Control characters that never occur in plain text (tab, LF, FF, CR are fine). */
const CONTROL = /[\u0000-\u0008\u000b\u000e-\u001f\u007f]/;

/**
 * A sniffer (server/files/file-store.ts) that accepts PDF, PNG, JPEG, Word/Excel (OOXML, no macros)
 * and UTF-8 plain text, decided by the bytes alone. Anything else is refused with 415
 * `unsupported_file_type` as soon as the content shows it (an .exe, HTML, SVG, a ZIP that is not an
 * Office document); a damaged Office file with 422 `invalid_file`.
 * Plain text must be valid UTF-8 without control characters and must not start like markup (`<`).
 */
export function attachmentSniffer(): Sniffer {
  let head = Buffer.alloc(0);
  let kind: SniffedKind | 'zip' | null = null;
  // Plain text: streaming UTF-8 validation and the first non-blank character.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let sawContent = false;

  const text = (chunk: Buffer, final = false): AppError | void => {
    let s: string;
    try {
      s = decoder.decode(chunk, { stream: !final });
    } catch {
      return unsupported('binary content');
    }
    if (CONTROL.test(s)) return unsupported('binary content');
    if (!sawContent) {
      const t = s.replace(/^[\ufeff\s]+/, '');
      if (t) {
        sawContent = true;
        // HTML, XML, SVG: a browser could render them; we store plain text only.
        if (t.startsWith('<')) return unsupported('markup (HTML/XML)');
      }
    }
  };

  const decide = (): AppError | void => {
    for (const [k, magic] of MAGIC) {
      if (head.subarray(0, magic.length).equals(magic)) {
        kind = k;
        return;
      }
    }
    kind = 'text';
    return text(head);
  };

  return {
    update(chunk) {
      if (kind === null) {
        head = Buffer.concat([head, chunk]);
        if (head.length >= HEAD) return decide();
        return;
      }
      if (kind === 'text') return text(chunk);
    },
    async finish({ path, size }) {
      if (size === 0) throw unsupported('the file is empty');
      if (kind === null) {
        const refused = decide();
        if (refused) throw refused;
      }
      if (kind === 'text') {
        const refused = text(Buffer.alloc(0), true);
        if (refused) throw refused;
        if (!sawContent) throw unsupported('the file is blank');
        return SNIFFED_TYPES.text;
      }
      if (kind === 'zip') return SNIFFED_TYPES[await officeKind(path, size)];
      return SNIFFED_TYPES[kind!];
    },
  };
}

const invalidOffice = () => new AppError('invalid_file', 'The Office document is damaged or not a Word/Excel file', 422);

/** Word or Excel (OOXML) from a ZIP's central directory; macro-enabled files and other ZIPs are refused. */
export async function officeKind(path: string, size: number): Promise<'docx' | 'xlsx'> {
  const names = await zipEntryNames(path, size);
  if (!names) throw invalidOffice();
  if (names.some((n) => /(^|\/)vbaProject\.bin$/i.test(n))) throw unsupported('Office documents with macros');
  if (!names.includes('[Content_Types].xml')) throw unsupported('a ZIP archive that is not a Word or Excel document');
  if (names.includes('word/document.xml')) return 'docx';
  if (names.includes('xl/workbook.xml')) return 'xlsx';
  throw unsupported('a ZIP archive that is not a Word or Excel document');
}

/** Entry names from the central directory of a ZIP file (no ZIP64), or null when it is not readable. */
async function zipEntryNames(path: string, size: number): Promise<string[] | null> {
  const fh = await fs.open(path, 'r');
  try {
    const tailLen = Math.min(size, 22 + 0xffff);
    const tail = Buffer.alloc(tailLen);
    await fh.read(tail, 0, tailLen, size - tailLen);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) return null;
    const entries = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    if (cdOffset + cdSize > size || cdSize > 16 * 1024 * 1024) return null;
    const cd = Buffer.alloc(cdSize);
    await fh.read(cd, 0, cdSize, cdOffset);
    const names: string[] = [];
    let p = 0;
    for (let i = 0; i < entries; i++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50) return null;
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      if (p + 46 + nameLen > cd.length) return null;
      names.push(cd.toString('utf8', p + 46, p + 46 + nameLen));
      p += 46 + nameLen + extraLen + commentLen;
    }
    return names;
  } finally {
    await fh.close();
  }
}
