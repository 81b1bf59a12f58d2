/// <reference types="vite/client" />
import * as pdfjs from 'pdfjs-dist';
import workerUrl from 'pdfjs-dist/build/pdf.worker.min.mjs?url';

// Self-hosted worker (a hashed asset of our own build; CSP worker-src 'self').
pdfjs.GlobalWorkerOptions.workerSrc = workerUrl;

/**
 * Warms the browser cache with the pdf.js worker script, so a document opened next starts faster.
 * Views that list documents call it when idle.
 */
export function prewarmViewer(): void {
  void fetch(workerUrl).catch(() => undefined);
}

/** Bytes fetched per range request, and by the first request (which also learns the file's length). */
export const CHUNK = 128 * 1024;

/**
 * Feeds pdf.js with HTTP Range requests of our own: the first request is already a range (no
 * whole-file GET that must be aborted), later ones carry `If-Range` with the first response's ETag
 * so a document replaced meanwhile cannot mix two versions. Failed ranges are retried with backoff
 * (weak Wi-Fi); every request goes through the server's authorization.
 */
class RangeTransport extends pdfjs.PDFDataRangeTransport {
  #aborts = new Set<AbortController>();
  constructor(
    length: number,
    initial: Uint8Array,
    private readonly url: string,
    private readonly etag: string | null,
  ) {
    super(length, initial);
  }

  override requestDataRange(begin: number, end: number): void {
    void this.#fetch(begin, end, 0);
  }

  async #fetch(begin: number, end: number, attempt: number): Promise<void> {
    const ac = new AbortController();
    this.#aborts.add(ac);
    try {
      const headers: Record<string, string> = { range: `bytes=${begin}-${end - 1}` };
      if (this.etag) headers['if-range'] = this.etag;
      const res = await fetch(this.url, { credentials: 'same-origin', headers, signal: ac.signal });
      if (res.status !== 206) throw new Error(`range ${res.status}`);
      this.onDataRange(begin, new Uint8Array(await res.arrayBuffer()));
    } catch {
      if (ac.signal.aborted || attempt >= 5) return;
      setTimeout(() => void this.#fetch(begin, end, attempt + 1), 400 * 2 ** attempt);
    } finally {
      this.#aborts.delete(ac);
    }
  }

  override abort(): void {
    for (const a of this.#aborts) a.abort();
    this.#aborts.clear();
  }
}

/** The first bytes of the file, and how pdf.js should get the rest. */
export async function openSource(url: string): Promise<{ range: RangeTransport } | { data: Uint8Array }> {
  const res = await fetch(url, { credentials: 'same-origin', headers: { range: `bytes=0-${CHUNK - 1}` } });
  if (res.status === 206) {
    const total = Number(/\/(\d+)$/.exec(res.headers.get('content-range') ?? '')?.[1]);
    const initial = new Uint8Array(await res.arrayBuffer());
    if (total > 0) return { range: new RangeTransport(total, initial, url, res.headers.get('etag')) };
  }
  if (res.status === 200) return { data: new Uint8Array(await res.arrayBuffer()) };
  throw Object.assign(new Error(`HTTP ${res.status}`), { status: res.status });
}

/**
 * Starts pdf.js on a source from `openSource`: range loading (only the bytes needed for the pages
 * painted are fetched, with the session cookie), self-hosted cmaps, standard fonts, ICC profiles and
 * wasm, no eval.
 */
export function loadDocument(source: Awaited<ReturnType<typeof openSource>>): ReturnType<typeof pdfjs.getDocument> {
  return pdfjs.getDocument({
    ...source,
    rangeChunkSize: CHUNK,
    disableAutoFetch: true,
    disableStream: true,
    isEvalSupported: false,
    cMapUrl: '/pdfjs/cmaps/',
    cMapPacked: true,
    standardFontDataUrl: '/pdfjs/standard_fonts/',
    iccUrl: '/pdfjs/iccs/',
    wasmUrl: '/pdfjs/wasm/',
  });
}
