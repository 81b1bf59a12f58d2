import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DOCUMENT_LIMITS } from '../../shared/protocol/documents.js';
import { isErrorCode } from '../../shared/protocol/errors.js';
import type { Config } from '../config.js';
import { AppError } from '../http/errors.js';
import type { Logger } from '../log.js';
import type { RenderInput, RenderName, RenderWarning } from '../pdf/pdf.renderers.js';

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
  /** V8 heap limit of each worker. */
  maxHeapMb: number;
  /** Workers running tasks at the same time (default 1); each is started on first need and kept warm. */
  size?: number;
}

type Task =
  | { kind: 'inspect'; path: string }
  | { kind: 'watermark'; path: string; lines: string[] }
  | { kind: 'annotated'; path: string; items: unknown[]; lines: string[] }
  | { kind: 'render'; name: RenderName; input: unknown };
type Pending = { task: Task; resolve: (v: unknown) => void; reject: (e: unknown) => void };
type Result = { ok: boolean; code?: string; message?: string; bytes?: Uint8Array; warnings?: RenderWarning[] };

/**
 * Runs PDF work off the main thread in up to `size` workers, one task per worker at a time, each
 * with `resourceLimits` and a time limit:
 * - on uploaded files (inspect, watermark, annotated copies), so a hostile PDF (decompression bomb,
 *   fuzzed structure) can neither hang the event loop nor exhaust the server's memory: the worker
 *   dies or is terminated, the task fails with a 4xx `AppError`, and a fresh worker serves the next;
 * - generating PDFs (vote records, minutes, consultation reports, the task board, signature stamps:
 *   `render`, see server/pdf/pdf.renderers.ts), so a flood of exports leaves sockets and requests
 *   answered: the event loop only gathers the data and sends the bytes.
 * Tasks wait in FIFO order for a free worker; callers bound how many they submit (the `heavy`
 * route queue, the upload limits). Workers are kept warm between tasks (loading pdf.js costs about
 * a second, the renderers about half a second).
 */
export class PdfPool {
  private readonly idle: Worker[] = [];
  private workers = 0;
  private running = 0;
  private queue: Pending[] = [];
  private seq = 0;
  private closed = false;
  private readonly all = new Set<Worker>();
  private readonly done: Record<Task['kind'], number> = { inspect: 0, watermark: 0, annotated: 0, render: 0 };

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
    const r = (await this.run({ kind: 'watermark', path: file, lines })) as Result;
    return r.bytes!;
  }

  /**
   * "My annotated copy" in one task: the PDF at `file` made editable, the annotation `items`
   * flattened in (server/annotations/annotations.flatten.ts), then watermarked with `lines`.
   */
  async annotated(file: string, items: unknown[], lines: string[]): Promise<Uint8Array> {
    const r = (await this.run({ kind: 'annotated', path: file, items, lines })) as Result;
    return r.bytes!;
  }

  /**
   * A generated PDF: the renderer `name` of server/pdf/pdf.renderers.ts applied to `input` (which
   * must be structured-cloneable: plain data, Dates, typed arrays). Font-subsetting warnings of the
   * worker are reported through `log` as the renderer itself would.
   * @throws AppError 500 internal when the renderer fails or overruns the time limit
   */
  async render<K extends RenderName>(name: K, input: RenderInput<K>, log?: Pick<Logger, 'warn'>): Promise<Buffer> {
    const r = (await this.run({ kind: 'render', name, input })) as Result;
    for (const w of r.warnings ?? []) {
      if (log) log.warn(w.obj, w.msg);
      else process.emitWarning(`${w.msg} (${String(w.obj.font ?? 'fonts')}: ${String(w.obj.reason)})`, { code: 'ECABINET_FONT_SUBSET' });
    }
    const b = r.bytes!;
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  }

  /** Workers started, tasks running and waiting, and tasks completed by kind (metrics, tests). */
  stats(): { workers: number; running: number; waiting: number; done: Record<Task['kind'], number> } {
    return { workers: this.workers, running: this.running, waiting: this.queue.length, done: { ...this.done } };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new AppError('internal', 'Server shutting down', 503));
    await Promise.all([...this.all].map((w) => w.terminate()));
    this.all.clear();
    this.idle.length = 0;
    this.workers = 0;
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
    // A worker that fails between tasks (a stray rejection of a library after its task settled) is
    // dropped; without a listener its 'error' event would be thrown in the server's own thread.
    w.on('error', () => this.retire(w));
    w.on('exit', () => this.retire(w));
    this.workers++;
    this.all.add(w);
    return w;
  }

  private retire(worker: Worker): void {
    if (!this.all.delete(worker)) return;
    this.workers--;
    const i = this.idle.indexOf(worker);
    if (i >= 0) this.idle.splice(i, 1);
    void worker.terminate();
  }

  private next(): void {
    while (!this.closed && this.queue.length > 0 && this.running < Math.max(1, this.opts.size ?? 1)) {
      const p = this.queue.shift()!;
      this.running++;
      this.start(p, this.idle.pop() ?? this.spawn());
    }
  }

  private start(p: Pending, worker: Worker): void {
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
    // A generated PDF that fails is the server's fault (500); an uploaded file that fails is the file's (422).
    const generated = p.task.kind === 'render';
    const tooMuch = (message: string) => (generated ? new AppError('internal', 'The PDF could not be generated', 500) : new AppError('pdf_too_complex', message, 422));
    let settled = false;
    const finish = (fn: () => void, kill: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (kill) this.retire(worker);
      else if (this.all.has(worker)) this.idle.push(worker);
      this.running--;
      fn();
      this.next();
    };
    const timer = setTimeout(() => finish(() => p.reject(tooMuch('The PDF took too long to process')), true), this.opts.timeoutMs);
    const onMessage = (m: { id: number; result: Result }) => {
      if (m.id !== id) return;
      const r = m.result;
      if (r.ok) this.done[p.task.kind]++;
      const fail = () =>
        generated
          ? new AppError('internal', 'The PDF could not be generated', 500)
          : new AppError(isErrorCode(r.code) ? r.code : 'invalid_pdf', r.message ?? 'Invalid PDF', 422);
      finish(() => (r.ok ? p.resolve(r) : p.reject(fail())), false);
    };
    // ERR_WORKER_OUT_OF_MEMORY and friends: the file exhausted the worker's limits.
    const onError = () => finish(() => p.reject(tooMuch('The PDF needs more resources than allowed')), true);
    const onExit = () => finish(() => p.reject(tooMuch('The PDF needs more resources than allowed')), true);
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage({ id, task: full });
  }
}

let shared: PdfPool | null = null;

/**
 * The process's PDF pool, shared by every domain (uploads, confidential renderings, annotated
 * copies, every generated PDF): as many workers as the heavy-route queue runs at once (2), fewer on a
 * one-core machine. Created on first use with the first caller's `documents` limits; its workers are
 * unref'd, so it never keeps the process alive.
 */
export function pdfPool(config: Pick<Config, 'documents'>): PdfPool {
  return (shared ??= new PdfPool({
    timeoutMs: config.documents.pdfTimeoutMs,
    maxHeapMb: config.documents.pdfMaxHeapMb,
    size: Math.min(2, os.availableParallelism()),
  }));
}
