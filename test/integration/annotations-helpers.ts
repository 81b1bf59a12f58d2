import { PDFDocument, StandardFonts } from 'pdf-lib';
import * as Y from 'yjs';
import type { AnnotationItem, Highlight, Ink, Note } from '../../shared/protocol/annotations.js';
import { itemsMapName } from '../../shared/protocol/annotations.js';
import { anchorFromRange } from '../../shared/rules/anchoring.js';
import type { HttpClient } from '../helpers/server.js';

/** One line of plain ASCII text per page (what pdf.js extracts back, exactly). */
export const PAGE_TEXTS = [
  'Page one: the steering committee reviews the digital transformation plan for the city.',
  'Page two: the finance department proposes twelve billion for the paperless meeting rooms.',
  'Page three: conclusion, the information department leads and reports before the end of December.',
];

/** A small PDF with one line of text per page, built in memory. */
export async function textPdf(pages: string[]): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  for (const t of pages) {
    const page = pdf.addPage([595, 842]);
    page.drawText(t, { x: 40, y: 780, size: 10, font });
  }
  return pdf.save();
}

/** Uploads a PDF to an agenda item of a meeting as the given manager. */
export async function uploadPdf(c: HttpClient, meetingId: number, itemId: number, bytes: Uint8Array, fields: Record<string, string> = {}) {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  fd.append('file', new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/pdf' }), 'pack.pdf');
  const r = await c.post(`/api/meetings/${meetingId}/agenda/items/${itemId}/documents`, fd);
  if (r.status !== 201) throw new Error(`upload: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as { id: number; current: { id: number } };
}

/** Replaces a document's file with a new version; returns the new version id. */
export async function replacePdf(c: HttpClient, documentId: number, bytes: Uint8Array): Promise<number> {
  const fd = new FormData();
  fd.append('file', new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/pdf' }), 'pack-v2.pdf');
  const r = await c.post(`/api/documents/${documentId}/versions`, fd);
  if (r.status !== 201) throw new Error(`replace: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.current.id as number;
}

let seq = 0;
const newId = (p: string) => `${p}_${Date.now().toString(36)}_${(seq++).toString(36)}`;

export function inkItem(page: number, extra: Partial<Ink> = {}): Ink {
  return { id: newId('ink'), kind: 'ink', page, points: [40, 700, 60, 710, 80, 705], color: '#ff6b6b', width: 2, createdAt: Date.now(), ...extra };
}
export function noteItem(page: number, text: string, extra: Partial<Note> = {}): Note {
  return { id: newId('note'), kind: 'note', page, x: 300, y: 500, text, color: '#4dabf7', createdAt: Date.now(), ...extra };
}
export function highlightItem(pageText: string, page: number, quote: string, extra: Partial<Highlight> = {}): Highlight {
  const at = pageText.indexOf(quote);
  if (at < 0) throw new Error('quote not on page');
  return { id: newId('hl'), kind: 'highlight', page, anchor: anchorFromRange(pageText, page, at, at + quote.length), rects: [{ x: 40, y: 776, w: 200, h: 12 }], color: '#ffd400', createdAt: Date.now(), ...extra };
}

/** The items map of one version in a layer doc. */
export const itemsOf = (doc: Y.Doc, versionId: number) => doc.getMap<AnnotationItem>(itemsMapName(versionId));

/** Plain JSON of a version's items, sorted by id (for comparing docs). */
export function snapshot(doc: Y.Doc, versionId: number): AnnotationItem[] {
  return [...itemsOf(doc, versionId).values()].sort((a, b) => a.id.localeCompare(b.id));
}
