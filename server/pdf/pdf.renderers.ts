import { PDFDocument } from 'pdf-lib';
import type { AnnotationItem } from '../../shared/protocol/annotations.js';
import type { MinutesDocument } from '../../shared/protocol/minutes.js';
import type { VoteView } from '../../shared/protocol/votes.js';
import { flattenAnnotations } from '../annotations/annotations.flatten.js';
import { renderConsultationReport } from '../consultations/consultations.pdf.js';
import type { Logger } from '../log.js';
import { renderMinutesPdf, renderTablePdf } from '../minutes/minutes.pdf.js';
import { appendVisibleSignature, readSignatureBoxes } from '../signing/pdf-stamp.js';
import { renderVotePdf } from '../votes/votes.pdf.js';

/** A warning a renderer logged in the worker (font subsetting fell back to whole fonts), replayed on the main thread. */
export interface RenderWarning {
  obj: Record<string, unknown>;
  msg: string;
}

type Warn = Pick<Logger, 'warn'>;

/**
 * The PDF generators that run in the PDF pool's workers (server/documents/pdf.pool.ts `render`):
 * each takes plain, structured-cloneable data gathered by its domain on the main thread and returns
 * the bytes. The worker (pdf.worker.mjs) imports this module on its first render task; nothing here
 * may touch the database, the file store or process-wide state of the server.
 */
export const RENDERERS = {
  /** The record of a vote (server/votes/votes.pdf.ts). */
  vote: (i: { vote: VoteView; meetingTitle: string; eligibleNames: string[] }, log: Warn) => renderVotePdf(i.vote, i.meetingTitle, i.eligibleNames, { log }),
  /** The report of a written consultation (server/consultations/consultations.pdf.ts). */
  consultation: (i: Parameters<typeof renderConsultationReport>[0], log: Warn) => renderConsultationReport(i, { log }),
  /** A finalized version of the minutes (server/minutes/minutes.pdf.ts). */
  minutes: (i: { doc: MinutesDocument; creationDate: Date }, log: Warn) => renderMinutesPdf(i.doc, { creationDate: i.creationDate, log }),
  /** A one-table report: the follow-up board export. */
  table: (i: Parameters<typeof renderTablePdf>[0], log: Warn) => renderTablePdf(i, { log }),
  /** The visible signature block of `role`, appended to the minutes' PDF as an incremental update (server/signing/pdf-stamp.ts). */
  signatureStamp: async (i: { pdf: Uint8Array; role: string; lines: string[] }) => {
    const pdf = Buffer.from(i.pdf.buffer, i.pdf.byteOffset, i.pdf.byteLength);
    const boxes = readSignatureBoxes(await PDFDocument.load(pdf, { updateMetadata: false }));
    return appendVisibleSignature(pdf, boxes[i.role] ?? null, i.lines);
  },
  /** Annotation items drawn into a PDF (the middle step of an annotated copy, server/annotations/annotations.flatten.ts). */
  annotations: (i: { pdf: Uint8Array; items: AnnotationItem[]; fontPath: string }) => flattenAnnotations(i.pdf, i.items, i.fontPath),
} satisfies Record<string, (input: never, log: Warn) => Promise<Uint8Array>>;

export type RenderName = keyof typeof RENDERERS;
export type RenderInput<K extends RenderName> = Parameters<(typeof RENDERERS)[K]>[0];

/**
 * Runs renderer `name` on `input` (in the worker), collecting what it would have logged.
 * @throws whatever the renderer throws
 */
export async function runRenderer(name: RenderName, input: unknown): Promise<{ bytes: Uint8Array; warnings: RenderWarning[] }> {
  const warnings: RenderWarning[] = [];
  const log = { warn: (obj: Record<string, unknown>, msg: string) => void warnings.push({ obj, msg }) } as unknown as Warn;
  const render = RENDERERS[name] as (input: unknown, log: Warn) => Promise<Uint8Array>;
  const out = await render(input, log);
  // A Buffer may be a view into a shared slab: transfer only memory the result owns.
  const bytes = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out : new Uint8Array(out);
  return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), warnings };
}
