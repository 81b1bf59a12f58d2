import fs from 'node:fs';
import path from 'node:path';
import type { HttpClient } from '../helpers/server.js';

/** ../shared/testdata/pdfs */
export const PDFS = path.resolve(import.meta.dirname, '../../../shared/testdata/pdfs');
export const pdf = (name: string) => fs.readFileSync(path.join(PDFS, name));

/** Uploads one file as multipart, the way the secretary's browser does. */
export async function upload(c: HttpClient, meetingId: number, itemId: number, bytes: Uint8Array, fileName: string, fields: Record<string, string> = {}) {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  fd.append('file', new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/pdf' }), fileName);
  return c.post(`/api/meetings/${meetingId}/agenda/items/${itemId}/documents`, fd);
}
