import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DOCUMENT_LIMITS } from '../../shared/protocol/documents.js';
import { isErrorCode } from '../../shared/protocol/errors.js';
import { AppError } from '../http/errors.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const WORKER = path.join(here, 'pdf.worker.mjs');
const PDFJS = path.resolve(here, '../../node_modules/pdfjs-dist');
/** A Vietnamese-capable TTF shipped with the repository (Noto Sans, SIL OFL) for server-side watermarks. */
export const WATERMARK_FONT = path.join(here, 'fonts', 'NotoSans-Regular.ttf');

export interface InspectResult {
  pageCount: number;
  /** Extracted text of each page, index 0 = page 1. */
  pages: string[];
  /**
   * Set when the file had to be re-saved to open without a password (only its attachments were
   * encrypted): store these bytes instead of the upload.
   */
  rewritten?: Uint8Array;
}

export interface PdfPoolOptions {
  /** Wall-clock limit per task; the worker is terminated (and replaced) when it is exceeded. */
  timeoutMs: number;
  /** V8 heap limit of the worker. */
  maxHeapMb: number;
}

type Task = { kind: 'inspect'; path: string } | { kind: 'watermark'; path: string; lines: string[] } | { kind: 'editable'; path: string };
type Pending = { task: Task; resolve: (v: unknown) => void; reject: (e: unknown) => void };

/**
 * Runs PDF work off the main thread, one task at a time, in a worker with `resourceLimits` and a
 * time limit, so a hostile PDF (decompression bomb, fuzzed structure) can neither hang the event
 * loop nor exhaust the server's memory: the worker dies or is terminated, the task fails with a
 * 4xx `AppError`, and a fresh worker serves the next task. The worker is kept warm between tasks
 * (loading pdf.js costs about a second).
 */
export class PdfPool {
  private worker: Worker | null = null;
  private queue: Pending[] = [];
  private busy = false;
  private seq = 0;
  private closed = false;

  constructor(private readonly opts: PdfPoolOptions) {}

  /**
   * Page count and text of the PDF at `file`.
   * @throws AppError 422 invalid_pdf | pdf_encrypted | pdf_too_complex
   */
  inspect(file: string): Promise<InspectResult> {
    return this.run({ kind: 'inspect', path: file }) as Promise<InspectResult>;
  }

  /** A copy of the PDF with `lines` stamped across every page and in the footer. */
  async watermark(file: string, lines: string[]): Promise<Uint8Array> {
    const r = (await this.run({ kind: 'watermark', path: file, lines })) as { bytes: Uint8Array };
    return r.bytes;
  }

  /**
   * The PDF's bytes ready for pdf-lib: decrypted (and re-saved) when it is encrypted with an empty
   * user password, which pdf-lib alone cannot edit; the file as it is otherwise.
   */
  async editable(file: string): Promise<Uint8Array> {
    const r = (await this.run({ kind: 'editable', path: file })) as { bytes: Uint8Array };
    return r.bytes;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new AppError('internal', 'Server shutting down', 503));
    await this.worker?.terminate();
    this.worker = null;
  }

  private run(task: Task): Promise<unknown> {
    if (this.closed) return Promise.reject(new AppError('internal', 'Server shutting down', 503));
    return new Promise((resolve, reject) => {
      this.queue.push({ task, resolve, reject });
      this.next();
    });
  }

  private spawn(): Worker {
    const w = new Worker(WORKER, {
      resourceLimits: { maxOldGenerationSizeMb: this.opts.maxHeapMb, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
      stdout: true,
      stderr: true,
    });
    // pdf.js warns on damaged files; those are expected inputs, not server logs.
    w.stdout.resume();
    w.stderr.resume();
    w.unref();
    return w;
  }

  private next(): void {
    if (this.busy || this.closed) return;
    const p = this.queue.shift();
    if (!p) return;
    this.busy = true;
    const worker = (this.worker ??= this.spawn());
    const id = ++this.seq;
    const full = {
      ...p.task,
      cMapUrl: PDFJS + '/cmaps/',
      standardFontDataUrl: PDFJS + '/standard_fonts/',
      fontPath: WATERMARK_FONT,
      maxPages: DOCUMENT_LIMITS.maxPages,
      pageTextChars: DOCUMENT_LIMITS.pageTextChars,
      maxTextChars: 20_000_000,
    };
    let settled = false;
    const finish = (fn: () => void, kill: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (kill) {
        if (this.worker === worker) this.worker = null;
        void worker.terminate();
      }
      fn();
      this.busy = false;
      this.next();
    };
    const timer = setTimeout(
      () => finish(() => p.reject(new AppError('pdf_too_complex', 'The PDF took too long to process', 422)), true),
      this.opts.timeoutMs,
    );
    const onMessage = (m: { id: number; result: { ok: boolean; code?: string; message?: string } }) => {
      if (m.id !== id) return;
      const r = m.result;
      finish(() => (r.ok ? p.resolve(r) : p.reject(new AppError(isErrorCode(r.code) ? r.code : 'invalid_pdf', r.message ?? 'Invalid PDF', 422))), false);
    };
    // ERR_WORKER_OUT_OF_MEMORY and friends: the file exhausted the worker's limits.
    const onError = () => finish(() => p.reject(new AppError('pdf_too_complex', 'The PDF needs more resources than allowed', 422)), true);
    const onExit = () => finish(() => p.reject(new AppError('pdf_too_complex', 'The PDF needs more resources than allowed', 422)), true);
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage({ id, task: full });
  }
}
