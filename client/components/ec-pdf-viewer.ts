/// <reference types="vite/client" />
import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import * as pdfjs from 'pdfjs-dist';
import type { PDFDocumentProxy, PDFPageProxy, PageViewport } from 'pdfjs-dist';
import workerUrl from 'pdfjs-dist/build/pdf.worker.min.mjs?url';
import { foldText } from '../../shared/rules/fold.js';
import { sharedStyles, toolbarOrderStyles } from '../styles/shared.js';
import './ec-pdf-thumbnails.js';

// Self-hosted worker (a hashed asset of our own build; CSP worker-src 'self').
pdfjs.GlobalWorkerOptions.workerSrc = workerUrl;

/**
 * Warms the browser cache with the pdf.js worker script, so a document opened next starts faster.
 * Views that list documents call it when idle.
 */
export function prewarmViewer(): void {
  void fetch(workerUrl).catch(() => undefined);
}

/** Detail of `ec-page-render`: fired each time a page is painted (first time, after zoom or re-render). */
export interface PageRenderDetail {
  page: number;
  /** pdf.js viewport of the painted page (CSS pixels): use `viewport.convertToViewportPoint` for PDF → screen. */
  viewport: PageViewport;
  scale: number;
  /** An empty, absolutely positioned layer over the page, same size; it survives re-renders. Draw annotations here. */
  overlay: HTMLElement;
}

/** Detail of `ec-page-change`: the page the reader is on now. `source` is `user` (scroll, buttons) or `program` (the `page` property). */
export interface PageChangeDetail {
  page: number;
  source: 'user' | 'program';
}

/** Detail of `ec-zoom-change`: the zoom relative to fit-to-width (1 = fit width) and the resulting scale. */
export interface ZoomChangeDetail {
  zoom: number;
  scale: number;
  source: 'user' | 'program';
}

interface PageSlot {
  n: number;
  el: HTMLDivElement;
  overlay: HTMLDivElement;
  canvas: HTMLCanvasElement | null;
  text: HTMLDivElement | null;
  /** Scale the current canvas was painted at (0 = not painted). */
  painted: number;
  rendering: boolean;
  failed: boolean;
}

/** Bytes fetched per range request, and by the first request (which also learns the file's length). */
const CHUNK = 128 * 1024;

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
async function openSource(url: string): Promise<{ range: RangeTransport } | { data: Uint8Array }> {
  const res = await fetch(url, { credentials: 'same-origin', headers: { range: `bytes=0-${CHUNK - 1}` } });
  if (res.status === 206) {
    const total = Number(/\/(\d+)$/.exec(res.headers.get('content-range') ?? '')?.[1]);
    const initial = new Uint8Array(await res.arrayBuffer());
    if (total > 0) return { range: new RangeTransport(total, initial, url, res.headers.get('etag')) };
  }
  if (res.status === 200) return { data: new Uint8Array(await res.arrayBuffer()) };
  throw Object.assign(new Error(`HTTP ${res.status}`), { status: res.status });
}

/** Keep at most this many painted pages; far ones give their canvas memory back. */
const MAX_PAINTED = 12;
const ZOOMS = [0.5, 0.75, 1, 1.25, 1.5, 2, 3];
const MIN_SCALE = 0.25;
const MAX_SCALE = 4;
/** A scroll this soon after the reader touched, wheeled or pressed a key in the pages is theirs. */
const USER_INPUT_MS = 1200;

/**
 * PDF viewer on pdfjs-dist for meeting documents. Loads with HTTP range requests (only the bytes of
 * the pages shown), paints only pages near the viewport, and draws `watermark` lines on every page.
 * Thumbnails, zoom and fit-to-width, text selection, find-in-document (server-side, folded, via
 * `findUrl`), jump to page, and the last page per `storageKey` in localStorage.
 *
 * API for other features:
 * - `page` (property, reflected): set it to go to a page (follow the presenter); read it for the current page.
 * - `ec-page-change` (bubbles, composed; {@link PageChangeDetail}) whenever the current page changes.
 *   A scroll counts as `user` only right after the reader's own input (touch, wheel, key, pointer), so a
 *   page painted at another size shifting the view never looks like the reader leaving the presenter.
 * - `relativeZoom` (property, reflected as `data-zoom`): zoom relative to fit-to-width (1 = fit width),
 *   so the same value shows the same part of a page on a phone and a tablet; `ec-zoom-change`
 *   ({@link ZoomChangeDetail}) whenever the zoom changes.
 * - `ec-page-render` (bubbles, composed; {@link PageRenderDetail}) when a page is painted, with its viewport and overlay.
 * - `overlayFor(page)`: the overlay element of a page (created up front for every page).
 * - `numPages` once loaded; `ec-document-loaded` ({ numPages }) and `ec-document-error` ({ message }).
 */
@localized()
@customElement('ec-pdf-viewer')
export class EcPdfViewer extends LitElement {
  static override styles = [
    sharedStyles,
    toolbarOrderStyles,
    css`
      :host {
        display: flex;
        flex-direction: column;
        min-height: 0;
        height: 100%;
        background: #525a66;
      }
      .toolbar {
        display: flex;
        flex-wrap: wrap;
        gap: 0.35rem;
        align-items: center;
        padding: 0.35rem 0.5rem;
        background: var(--ec-surface);
        border-bottom: 1px solid var(--ec-border);
        position: relative;
        z-index: 6;
      }
      /* Wide: every tool in one row, in this order (the "more" panel's tools join it). */
      .extra {
        display: contents;
      }
      .more,
      .narrow-only {
        display: none;
      }
      .toolbar button {
        min-width: var(--ec-touch);
        padding: 0 0.6rem;
      }
      .toolbar input {
        min-height: var(--ec-touch);
      }
      .pageno {
        width: 4.2rem;
        text-align: center;
      }
      .find {
        display: flex;
        gap: 0.35rem;
        align-items: center;
        flex: 1 1 200px;
        justify-content: flex-end;
      }
      .find input {
        width: 9.5rem;
        max-width: 40vw;
      }
      .body {
        flex: 1;
        display: flex;
        min-height: 0;
        position: relative;
      }
      ec-pdf-thumbnails {
        width: 150px;
        flex: none;
        border-right: 1px solid #3b424c;
      }
      .scroller {
        flex: 1;
        overflow: auto;
        position: relative;
        -webkit-overflow-scrolling: touch;
      }
      .pages {
        display: flex;
        flex-direction: column;
        align-items: center;
        gap: 12px;
        padding: 12px;
        min-width: min-content;
      }
      .pg {
        position: relative;
        background: #fff;
        box-shadow: 0 1px 4px rgb(0 0 0 / 40%);
        flex: none;
      }
      .pg canvas {
        position: absolute;
        inset: 0;
        display: block;
      }
      .pg .ph {
        position: absolute;
        inset: 0;
        display: grid;
        place-items: center;
        color: #8a93a0;
        font-size: 0.9rem;
      }
      .pg .ov {
        position: absolute;
        inset: 0;
        pointer-events: none;
        z-index: 3;
      }
      .pg .ov > * {
        pointer-events: auto;
      }
      .state {
        position: absolute;
        inset: 0;
        display: grid;
        place-items: center;
        color: #fff;
        text-align: center;
        padding: 2rem;
        pointer-events: none;
      }
      .state.error {
        background: transparent;
        border: 0;
      }
      .count {
        color: var(--ec-muted);
        font-size: 0.9rem;
        white-space: nowrap;
      }
      /* pdf.js text layer (from pdfjs-dist/web/pdf_viewer.css, trimmed): transparent, selectable text. */
      .textLayer {
        position: absolute;
        text-align: initial;
        inset: 0;
        overflow: clip;
        opacity: 1;
        line-height: 1;
        text-size-adjust: none;
        forced-color-adjust: none;
        transform-origin: 0 0;
        caret-color: CanvasText;
        z-index: 2;
        --min-font-size: 1;
        --text-scale-factor: calc(var(--total-scale-factor) * var(--min-font-size));
        --min-font-size-inv: calc(1 / var(--min-font-size));
      }
      .textLayer :is(span, br) {
        color: transparent;
        position: absolute;
        white-space: pre;
        cursor: text;
        transform-origin: 0% 0%;
      }
      .textLayer > :not(.markedContent),
      .textLayer .markedContent span:not(.markedContent) {
        z-index: 1;
        --font-height: 0;
        font-size: calc(var(--text-scale-factor) * var(--font-height));
        --scale-x: 1;
        --rotate: 0deg;
        transform: rotate(var(--rotate)) scaleX(var(--scale-x)) scale(var(--min-font-size-inv));
      }
      .textLayer .markedContent {
        display: contents;
      }
      .textLayer ::selection {
        background: rgb(0 90 200 / 30%);
      }
      .textLayer .hit {
        background: rgb(255 200 0 / 45%);
        border-radius: 2px;
      }
      .textLayer mark.hit {
        color: transparent;
        padding: 0;
      }
      .textLayer .endOfContent {
        display: block;
        position: absolute;
        inset: 100% 0 0;
        z-index: 0;
        cursor: default;
        user-select: none;
      }
      /* Phones: one row with the page and zoom buttons; thumbnails, the zoom level, fit width and find
         open under "⋯" in a panel over the page, so the page keeps the screen and nothing is cut off. */
      @media (max-width: 600px) {
        .toolbar {
          gap: 0.3rem;
          padding: 0.3rem 0.4rem;
        }
        .pageno {
          width: 3.4rem;
        }
        .more {
          display: inline-flex;
          order: 10;
          margin-left: auto;
          font-size: 1.3rem;
        }
        .extra {
          display: none;
        }
        .extra.open {
          display: flex;
          flex-wrap: wrap;
          gap: 0.4rem;
          align-items: center;
          position: absolute;
          top: 100%;
          left: 0.4rem;
          right: 0.4rem;
          padding: 0.5rem;
          background: var(--ec-surface);
          border: 1px solid var(--ec-border);
          border-radius: 0 0 10px 10px;
          box-shadow: 0 6px 16px rgb(0 0 0 / 30%);
        }
        .narrow-only {
          display: inline;
        }
        .find {
          flex: 1 1 100%;
          flex-wrap: wrap;
          justify-content: flex-start;
        }
        .find input {
          flex: 1 1 8rem;
          width: auto;
          max-width: none;
        }
      }
      @media (max-width: 700px) {
        ec-pdf-thumbnails {
          position: absolute;
          inset: 0 auto 0 0;
          z-index: 5;
          box-shadow: 2px 0 8px rgb(0 0 0 / 40%);
        }
        .find input {
          min-width: 8rem;
        }
      }
    `,
  ];

  /** URL of the PDF (served with Range support). */
  @property() src = '';
  /** Current page (1-based). Set it to navigate; it follows the reader's scrolling. */
  @property({ type: Number, reflect: true }) page = 1;
  /** Lines drawn across every painted page (viewer's name, unit, time). */
  @property({ attribute: false }) watermark: string[] = [];
  /** localStorage key remembering the last page; empty = do not remember. */
  @property() storageKey = '';
  /** Find-in-document endpoint (`/api/documents/:id/find`); empty hides find. */
  @property() findUrl = '';
  /** Zoom relative to fit-to-width (1 = fit width; 2 = twice that). Set it to zoom (follow the presenter); it follows the reader's zoom buttons. */
  @property({ type: Number, attribute: 'data-zoom', reflect: true }) relativeZoom = 1;
  /** Show the thumbnail strip (defaults to off on narrow screens). */
  @property({ type: Boolean }) thumbnails = typeof window === 'undefined' || window.innerWidth > 700;

  @state() numPages = 0;
  @state() private status: 'loading' | 'ready' | 'error' = 'loading';
  @state() private errorMessage = '';
  /** 'fit' = fit to width; otherwise a zoom factor. */
  @state() private zoom: 'fit' | number = 'fit';
  @state() private scale = 1;
  @state() private findQuery = '';
  @state() private findPages: number[] = [];
  @state() private findTerms: string[] = [];
  @state() private findBusy = false;
  @state() private findDone = false;
  /** The phone's "more tools" panel (thumbnails, zoom level, fit width, find). */
  @state() private moreOpen = false;

  @query('.scroller') private scroller!: HTMLDivElement;
  @query('.pages') private pagesEl!: HTMLDivElement;

  #doc: PDFDocumentProxy | null = null;
  #loadingTask: ReturnType<typeof pdfjs.getDocument> | null = null;
  #slots: PageSlot[] = [];
  #base = { width: 612, height: 792 };
  #visible = new Set<number>();
  #io: IntersectionObserver | null = null;
  #ro: ResizeObserver | null = null;
  #current = 1;
  #queue: number[] = [];
  #pumping = false;
  #scrollRaf = 0;
  #programScrollUntil = 0;
  /** When the reader last touched, wheeled, clicked or pressed a key in the pages (performance.now()). */
  #userInputAt = -Infinity;
  /** The relative zoom last applied or reported (so a property echo is not applied twice). */
  #appliedZoom = 1;
  #generation = 0;

  /** The overlay layer of `page` (1-based), or null before the document is loaded. */
  overlayFor(page: number): HTMLElement | null {
    return this.#slots[page - 1]?.overlay ?? null;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#teardown();
    document.removeEventListener('pointerdown', this.#outside, true);
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('src') && this.src) void this.#open();
    if (changed.has('page') && this.status === 'ready' && this.page !== this.#current) this.#goTo(this.page, 'program');
    if (changed.has('relativeZoom') && this.status === 'ready' && Math.abs(this.relativeZoom - this.#appliedZoom) > 0.005) this.#applyRelativeZoom('program');
    if (changed.has('thumbnails') && this.status === 'ready' && this.zoom === 'fit') requestAnimationFrame(() => this.#fit());
  }

  #teardown() {
    this.#generation++;
    this.#io?.disconnect();
    this.#ro?.disconnect();
    this.#io = this.#ro = null;
    void this.#loadingTask?.destroy();
    this.#loadingTask = null;
    this.#doc = null;
    this.#slots = [];
    this.#queue = [];
  }

  async #open() {
    this.#teardown();
    const gen = this.#generation;
    this.status = 'loading';
    this.numPages = 0;
    try {
      // Range loading: only the bytes needed for the pages painted are fetched (with the session cookie).
      const source = await openSource(this.src);
      if (gen !== this.#generation) return;
      this.#loadingTask = pdfjs.getDocument({
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
      const doc = await this.#loadingTask.promise;
      if (gen !== this.#generation) return;
      this.#doc = doc;
      const first = await doc.getPage(1);
      const vp = first.getViewport({ scale: 1 });
      this.#base = { width: vp.width, height: vp.height };
      this.numPages = doc.numPages;
      this.status = 'ready';
      await this.updateComplete;
      this.#buildSlots();
      this.#zoomFromRelative();
      this.#computeScale();
      this.#layout();
      this.#current = 0;
      // Read now, not when loading started: the presenter may have moved on meanwhile.
      const wanted = this.page > 1 ? this.page : this.#storedPage();
      this.#goTo(Math.min(Math.max(1, wanted), doc.numPages), 'program');
      this.dispatchEvent(new CustomEvent('ec-document-loaded', { detail: { numPages: doc.numPages }, bubbles: true, composed: true }));
    } catch (e) {
      if (gen !== this.#generation) return;
      const status = (e as { status?: number }).status;
      this.errorMessage =
        status === 404
          ? msg('Không tìm thấy tài liệu hoặc bạn không có quyền xem.', { id: 'documents.viewer.notFound' })
          : e instanceof TypeError || (status !== undefined && status !== 404)
            ? msg('Không tải được tài liệu. Kiểm tra kết nối mạng rồi thử lại.', { id: 'documents.viewer.network' })
            : msg('Không mở được tệp PDF này.', { id: 'documents.viewer.broken' });
      this.status = 'error';
      this.dispatchEvent(new CustomEvent('ec-document-error', { detail: { message: this.errorMessage }, bubbles: true, composed: true }));
    }
  }

  #storedPage(): number {
    if (!this.storageKey) return 1;
    try {
      return Number(localStorage.getItem(this.storageKey)) || 1;
    } catch {
      return 1;
    }
  }

  #buildSlots() {
    const frag = document.createDocumentFragment();
    this.#slots = [];
    for (let n = 1; n <= this.numPages; n++) {
      const el = document.createElement('div');
      el.className = 'pg';
      el.dataset.page = String(n);
      el.setAttribute('role', 'img');
      el.setAttribute('aria-label', msg(str`Trang ${n}`, { id: 'documents.viewer.pageLabel' }));
      const ph = document.createElement('div');
      ph.className = 'ph';
      ph.textContent = String(n);
      const overlay = document.createElement('div');
      overlay.className = 'ov';
      el.append(ph, overlay);
      frag.append(el);
      this.#slots.push({ n, el, overlay, canvas: null, text: null, painted: 0, rendering: false, failed: false });
    }
    this.pagesEl.replaceChildren(frag);
    this.#io = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          const n = Number((e.target as HTMLElement).dataset.page);
          if (e.isIntersecting) this.#visible.add(n);
          else this.#visible.delete(n);
        }
        this.#schedule();
      },
      { root: this.scroller, rootMargin: '50% 0px' },
    );
    for (const s of this.#slots) this.#io.observe(s.el);
    this.#ro = new ResizeObserver(() => {
      if (this.zoom === 'fit') return this.#fit();
      // Keep the same part of the page in view when the viewer's width changes (a panel opens, rotation).
      const before = this.scale;
      this.#zoomFromRelative();
      this.#computeScale();
      if (Math.abs(before - this.scale) > 0.01) this.#relayout();
    });
    this.#ro.observe(this.scroller);
  }

  /** The scale at which page 1's width fills the scroller. */
  #fitScale(): number {
    const w = this.scroller?.clientWidth || 800;
    return Math.max(MIN_SCALE, Math.min(MAX_SCALE, (w - 28) / this.#base.width));
  }

  #computeScale() {
    this.scale = this.zoom === 'fit' ? this.#fitScale() : this.zoom;
  }

  /** Turns `relativeZoom` into this screen's zoom ('fit' when it is 1). */
  #zoomFromRelative() {
    const r = Number.isFinite(this.relativeZoom) && this.relativeZoom > 0 ? this.relativeZoom : 1;
    this.zoom = Math.abs(r - 1) < 0.01 ? 'fit' : Math.max(MIN_SCALE, Math.min(MAX_SCALE, r * this.#fitScale()));
    this.#appliedZoom = this.relativeZoom;
  }

  #applyRelativeZoom(source: 'user' | 'program') {
    this.#zoomFromRelative();
    this.#computeScale();
    this.#relayout();
    this.dispatchEvent(new CustomEvent<ZoomChangeDetail>('ec-zoom-change', { detail: { zoom: this.relativeZoom, scale: this.scale, source }, bubbles: true, composed: true }));
  }

  #fit() {
    const before = this.scale;
    this.#computeScale();
    if (Math.abs(before - this.scale) > 0.01) this.#relayout();
  }

  /** Sizes every page box for the current scale (unpainted pages assume page 1's size). */
  #layout() {
    for (const s of this.#slots) {
      const size = s.painted && s.canvas ? this.#sizeOf(s) : this.#base;
      s.el.style.width = `${Math.floor(size.width * this.scale)}px`;
      s.el.style.height = `${Math.floor(size.height * this.scale)}px`;
    }
  }

  #sizeOf(s: PageSlot) {
    return { width: Number(s.el.dataset.w) || this.#base.width, height: Number(s.el.dataset.h) || this.#base.height };
  }

  #relayout() {
    const keep = this.#current || 1;
    this.#layout();
    this.#scrollToPage(keep);
    this.#schedule();
  }

  /** The reader's zoom (buttons): applied, then reported as a relative zoom. */
  #setZoom(z: 'fit' | number) {
    this.zoom = z;
    this.#computeScale();
    const rel = z === 'fit' ? 1 : Math.round((this.scale / this.#fitScale()) * 1000) / 1000;
    this.relativeZoom = this.#appliedZoom = rel;
    this.#relayout();
    this.dispatchEvent(new CustomEvent<ZoomChangeDetail>('ec-zoom-change', { detail: { zoom: rel, scale: this.scale, source: 'user' }, bubbles: true, composed: true }));
  }

  #zoomBy(dir: 1 | -1) {
    const cur = this.scale;
    const next = dir > 0 ? (ZOOMS.find((z) => z > cur + 0.01) ?? ZOOMS.at(-1)!) : ([...ZOOMS].reverse().find((z) => z < cur - 0.01) ?? ZOOMS[0]);
    this.#setZoom(next);
  }

  #scrollToPage(n: number) {
    const s = this.#slots[n - 1];
    if (!s || !this.scroller) return;
    this.#programScrollUntil = performance.now() + 2000;
    this.scroller.scrollTop = s.el.offsetTop - 8;
  }

  #goTo(n: number, source: 'user' | 'program') {
    if (!this.numPages) return;
    n = Math.min(Math.max(1, Math.round(n) || 1), this.numPages);
    this.#scrollToPage(n);
    this.#setCurrent(n, source);
    // Paint the target first, before anything the scroll passed over.
    this.#queue = [n, ...this.#queue.filter((q) => q !== n)];
    this.#schedule();
  }

  #setCurrent(n: number, source: 'user' | 'program') {
    if (n === this.#current) return;
    this.#current = n;
    this.page = n;
    if (this.storageKey) {
      try {
        localStorage.setItem(this.storageKey, String(n));
      } catch {
        /* private mode: not remembered */
      }
    }
    this.dispatchEvent(new CustomEvent<PageChangeDetail>('ec-page-change', { detail: { page: n, source }, bubbles: true, composed: true }));
  }

  #onScroll() {
    if (this.#scrollRaf) return;
    this.#scrollRaf = requestAnimationFrame(() => {
      this.#scrollRaf = 0;
      const byReader = performance.now() - this.#userInputAt < USER_INPUT_MS;
      // The first scroll event after a programmatic jump is ours, not the reader's (under load it may come late).
      if (this.#programScrollUntil && !byReader) {
        const recent = performance.now() < this.#programScrollUntil;
        this.#programScrollUntil = 0;
        if (recent) return;
      }
      const top = this.scroller.scrollTop + this.scroller.clientHeight * 0.3;
      // Binary search over the page boxes (451 pages: no linear scan per frame).
      let lo = 0;
      let hi = this.#slots.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (this.#slots[mid].el.offsetTop <= top) lo = mid;
        else hi = mid - 1;
      }
      // Without the reader's input the view moved by itself (a page painted at another size, a resize).
      this.#setCurrent(lo + 1, byReader ? 'user' : 'program');
    });
  }

  /** Passive listener object (Lit passes `passive` on): never delays scrolling. */
  #onUserInput = {
    handleEvent: () => {
      this.#userInputAt = performance.now();
    },
    passive: true,
  };

  #schedule() {
    const want = [...this.#visible].sort((a, b) => Math.abs(a - this.#current) - Math.abs(b - this.#current));
    for (const n of want) if (!this.#queue.includes(n)) this.#queue.push(n);
    void this.#pump();
  }

  async #pump() {
    if (this.#pumping) return;
    this.#pumping = true;
    const gen = this.#generation;
    try {
      while (this.#queue.length && gen === this.#generation) {
        const n = this.#queue.shift()!;
        const s = this.#slots[n - 1];
        if (!s || (!this.#visible.has(n) && n !== this.#current)) continue;
        if (s.painted === this.scale && !s.failed) continue;
        await this.#paint(s, gen);
      }
      this.#release();
    } finally {
      this.#pumping = false;
    }
  }

  async #paint(s: PageSlot, gen: number) {
    const doc = this.#doc;
    if (!doc) return;
    s.rendering = true;
    const scale = this.scale;
    try {
      const page: PDFPageProxy = await doc.getPage(s.n);
      if (gen !== this.#generation) return;
      const viewport = page.getViewport({ scale });
      const unit = page.getViewport({ scale: 1 });
      s.el.dataset.w = String(unit.width);
      s.el.dataset.h = String(unit.height);
      s.el.style.width = `${Math.floor(viewport.width)}px`;
      s.el.style.height = `${Math.floor(viewport.height)}px`;
      const dpr = Math.min(window.devicePixelRatio || 1, 2);
      const canvas = document.createElement('canvas');
      canvas.width = Math.floor(viewport.width * dpr);
      canvas.height = Math.floor(viewport.height * dpr);
      // Relative size: after a zoom the old bitmap stretches to the new box until it is repainted.
      canvas.style.width = '100%';
      canvas.style.height = '100%';
      await page.render({ canvas, viewport, transform: dpr !== 1 ? [dpr, 0, 0, dpr, 0, 0] : undefined }).promise;
      if (gen !== this.#generation) return;
      this.#drawWatermark(canvas, dpr);
      const text = document.createElement('div');
      text.className = 'textLayer';
      text.style.setProperty('--total-scale-factor', String(viewport.scale));
      const layer = new pdfjs.TextLayer({ textContentSource: page.streamTextContent(), container: text, viewport });
      await layer.render();
      if (gen !== this.#generation) return;
      s.canvas?.remove();
      s.text?.remove();
      s.canvas = canvas;
      s.text = text;
      s.el.insertBefore(canvas, s.overlay);
      s.el.insertBefore(text, s.overlay);
      s.painted = scale;
      s.failed = false;
      s.el.dataset.rendered = 'true';
      s.el.dataset.watermark = this.watermark.join(' · ');
      this.#highlight(s);
      this.dispatchEvent(
        new CustomEvent<PageRenderDetail>('ec-page-render', { detail: { page: s.n, viewport, scale, overlay: s.overlay }, bubbles: true, composed: true }),
      );
    } catch (e) {
      if (gen !== this.#generation) return;
      s.failed = true;
      const ph = s.el.querySelector('.ph');
      if (ph) ph.textContent = msg('Không tải được trang này.', { id: 'documents.viewer.pageFailed' });
      void e;
    } finally {
      s.rendering = false;
    }
  }

  /** The watermark is painted into the canvas itself (not a DOM layer one could delete). */
  #drawWatermark(canvas: HTMLCanvasElement, dpr: number) {
    const lines = this.watermark.filter(Boolean);
    if (!lines.length) return;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const w = canvas.width / dpr;
    const h = canvas.height / dpr;
    ctx.save();
    ctx.scale(dpr, dpr);
    const size = Math.max(11, Math.min(w, h) / 26);
    ctx.font = `600 ${size}px "Be Vietnam Pro", "Noto Sans", sans-serif`;
    ctx.fillStyle = 'rgba(179, 38, 30, 0.16)';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    const angle = -Math.atan2(h, w);
    for (const fy of [0.22, 0.55, 0.88]) {
      ctx.save();
      ctx.translate(w / 2, h * fy);
      ctx.rotate(angle);
      lines.forEach((line, i) => ctx.fillText(line, 0, (i - (lines.length - 1) / 2) * size * 1.35));
      ctx.restore();
    }
    ctx.font = `500 ${Math.max(9, size * 0.45)}px "Be Vietnam Pro", "Noto Sans", sans-serif`;
    ctx.fillStyle = 'rgba(60, 60, 60, 0.75)';
    ctx.textAlign = 'left';
    ctx.textBaseline = 'bottom';
    ctx.fillText(lines.join(' · '), 8, h - 6);
    ctx.restore();
  }

  /** Frees canvases of pages far from the reader so a 450-page pack does not hold 450 bitmaps. */
  #release() {
    const painted = this.#slots.filter((s) => s.painted && !this.#visible.has(s.n) && s.n !== this.#current);
    if (painted.length + this.#visible.size <= MAX_PAINTED) return;
    painted.sort((a, b) => Math.abs(b.n - this.#current) - Math.abs(a.n - this.#current));
    for (const s of painted.slice(0, painted.length + this.#visible.size - MAX_PAINTED)) {
      s.canvas?.remove();
      s.text?.remove();
      if (s.canvas) {
        s.canvas.width = 0;
        s.canvas.height = 0;
      }
      s.canvas = null;
      s.text = null;
      s.painted = 0;
      delete s.el.dataset.rendered;
    }
  }

  /** Page whose first find hit should be scrolled into view once it is painted. */
  #revealHitOn = 0;

  #highlight(s: PageSlot) {
    if (!s.text) return;
    const terms = this.findPages.includes(s.n) ? this.findTerms : [];
    const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const edge = (body: string) => new RegExp(`(?<![\\p{L}\\p{N}])(?:${body})(?![\\p{L}\\p{N}])`, 'u');
    // Mark the whole phrase where a line holds it; when a line break splits it, its words.
    const phrase = terms.length ? edge(terms.map(esc).join('[^\\p{L}\\p{N}]+')) : null;
    const words = terms.length ? edge(terms.map(esc).join('|')) : null;
    for (const old of s.text.querySelectorAll('mark.hit')) old.replaceWith(...old.childNodes);
    for (const span of s.text.querySelectorAll('span.hit')) span.classList.remove('hit');
    s.text.normalize();
    const spans = [...s.text.querySelectorAll('span')].filter((span) => !span.querySelector('span'));
    const folded = spans.map((span) => foldText(span.textContent ?? ''));
    const usePhrase = !!phrase && folded.some((f) => phrase.test(f));
    const pattern = usePhrase ? phrase : words;
    if (pattern) {
      const global = new RegExp(pattern.source, 'gu');
      spans.forEach((span, i) => {
        const text = span.textContent ?? '';
        if (!pattern.test(folded[i])) return;
        // The fold keeps NFC offsets: mark exactly the matched words (a text that is not NFC marks the line).
        if (text !== text.normalize('NFC') || span.childNodes.length !== 1 || !(span.firstChild instanceof Text)) return span.classList.add('hit');
        const parts: Node[] = [];
        let at = 0;
        for (const m of folded[i].matchAll(global)) {
          if (m.index > at) parts.push(document.createTextNode(text.slice(at, m.index)));
          const mark = document.createElement('mark');
          mark.className = 'hit';
          mark.textContent = text.slice(m.index, m.index + m[0].length);
          parts.push(mark);
          at = m.index + m[0].length;
        }
        if (at < text.length) parts.push(document.createTextNode(text.slice(at)));
        span.replaceChildren(...parts);
      });
    }
    if (this.#revealHitOn === s.n) {
      const hit = s.text.querySelector<HTMLElement>('.hit');
      if (hit) {
        this.#revealHitOn = 0;
        this.#programScrollUntil = performance.now() + 2000;
        const box = this.scroller.getBoundingClientRect();
        this.scroller.scrollTop += hit.getBoundingClientRect().top - box.top - box.height / 3;
      }
    }
  }

  async #find(e?: Event) {
    e?.preventDefault();
    const q = this.findQuery.trim();
    if (!q || !this.findUrl) return;
    this.findBusy = true;
    try {
      const res = await fetch(`${this.findUrl}?q=${encodeURIComponent(q)}`, { credentials: 'same-origin' });
      if (!res.ok) throw new Error(String(res.status));
      const body = (await res.json()) as { terms: string[]; pages: { page: number }[] };
      this.findTerms = body.terms;
      this.findPages = body.pages.map((p) => p.page);
      this.findDone = true;
      for (const s of this.#slots) this.#highlight(s);
      const next = this.findPages.find((p) => p >= this.#current) ?? this.findPages[0];
      if (next) this.#goToHit(next);
    } catch {
      this.findPages = [];
      this.findDone = true;
    } finally {
      this.findBusy = false;
    }
  }

  #findStep(dir: 1 | -1) {
    if (!this.findPages.length) return;
    const cur = this.#current;
    const next = dir > 0 ? (this.findPages.find((p) => p > cur) ?? this.findPages[0]) : ([...this.findPages].reverse().find((p) => p < cur) ?? this.findPages.at(-1)!);
    this.#goToHit(next);
  }

  /** Goes to a page with find hits and brings the first hit into view. */
  #goToHit(n: number) {
    this.#revealHitOn = n;
    this.#goTo(n, 'user');
    const s = this.#slots[n - 1];
    if (s?.painted) this.#highlight(s);
  }

  #setMore(open: boolean) {
    if (open === this.moreOpen) return;
    this.moreOpen = open;
    if (open) {
      document.addEventListener('pointerdown', this.#outside, true);
      // Keyboard users land in the panel.
      void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('#viewer-more button')?.focus());
    } else document.removeEventListener('pointerdown', this.#outside, true);
  }

  /** A press outside the toolbar closes the "more" panel. */
  #outside = (e: PointerEvent) => {
    const bar = this.renderRoot.querySelector('.toolbar');
    if (bar && !e.composedPath().includes(bar)) this.#setMore(false);
  };

  #onToolbarKey(e: KeyboardEvent) {
    if (e.key !== 'Escape' || !this.moreOpen) return;
    e.stopPropagation();
    this.#setMore(false);
    this.renderRoot.querySelector<HTMLElement>('button.more')?.focus();
  }

  #onPageInput(e: Event) {
    const input = e.target as HTMLInputElement;
    const n = Number(input.value);
    if (Number.isFinite(n) && n >= 1) this.#goTo(n, 'user');
    input.value = String(this.#current);
  }

  override render() {
    const ready = this.status === 'ready';
    const findIndex = this.findPages.indexOf(this.page);
    return html`
      <div class="toolbar" role="toolbar" aria-label=${msg('Công cụ xem tài liệu', { id: 'documents.viewer.toolbar' })} @keydown=${this.#onToolbarKey}>
        <button class="secondary o2" ?disabled=${!ready || this.page <= 1} title=${msg('Trang trước', { id: 'documents.viewer.prev' })} @click=${() => this.#goTo(this.#current - 1, 'user')}>‹</button>
        <label class="row o3" style="gap:.3rem">
          <span class="visually-hidden">${msg('Đến trang', { id: 'documents.viewer.goto' })}</span>
          <input class="pageno" name="page" inputmode="numeric" .value=${String(this.page)} ?disabled=${!ready} @change=${this.#onPageInput} />
          <span class="count">/ ${this.numPages || '…'}</span>
        </label>
        <button class="secondary o4" ?disabled=${!ready || this.page >= this.numPages} title=${msg('Trang sau', { id: 'documents.viewer.next' })} @click=${() => this.#goTo(this.#current + 1, 'user')}>›</button>
        <button class="secondary o5" ?disabled=${!ready} title=${msg('Thu nhỏ', { id: 'documents.viewer.zoomOut' })} @click=${() => this.#zoomBy(-1)}>−</button>
        <button class="secondary o7" ?disabled=${!ready} title=${msg('Phóng to', { id: 'documents.viewer.zoomIn' })} @click=${() => this.#zoomBy(1)}>+</button>
        <button
          class="secondary more"
          data-testid="viewer-more"
          aria-expanded=${this.moreOpen ? 'true' : 'false'}
          aria-controls="viewer-more"
          title=${msg('Thêm công cụ', { id: 'documents.viewer.more' })}
          aria-label=${msg('Thêm công cụ', { id: 'documents.viewer.more' })}
          @click=${() => this.#setMore(!this.moreOpen)}
        >
          ⋯
        </button>
        <!-- On a phone these go into the "more" panel; wider, they sit in the row (display: contents). -->
        <div class="extra ${this.moreOpen ? 'open' : ''}" id="viewer-more">
          <button
            class="secondary o1"
            aria-pressed=${this.thumbnails ? 'true' : 'false'}
            title=${msg('Ảnh thu nhỏ các trang', { id: 'documents.viewer.thumbs' })}
            @click=${() => {
              this.thumbnails = !this.thumbnails;
              this.#setMore(false);
            }}
          >
            ▦<span class="narrow-only"> ${msg('Ảnh thu nhỏ các trang', { id: 'documents.viewer.thumbs' })}</span>
          </button>
          <span class="count o6" title=${msg('Thu phóng', { id: 'documents.viewer.zoom' })}>${Math.round(this.scale * 100)}%</span>
          <button
            class="secondary o8"
            ?disabled=${!ready}
            aria-pressed=${this.zoom === 'fit' ? 'true' : 'false'}
            @click=${() => {
              this.#setZoom('fit');
              this.#setMore(false);
            }}
          >
            ${msg('Vừa chiều rộng', { id: 'documents.viewer.fitWidth' })}
          </button>
          ${this.findUrl
            ? html`<form class="find o9" role="search" @submit=${this.#find}>
                <input
                  type="search"
                  name="find"
                  .value=${this.findQuery}
                  placeholder=${msg('Tìm trong tài liệu', { id: 'documents.viewer.findPlaceholder' })}
                  aria-label=${msg('Tìm trong tài liệu', { id: 'documents.viewer.findPlaceholder' })}
                  @input=${(e: Event) => ((this.findQuery = (e.target as HTMLInputElement).value), (this.findDone = false))}
                />
                <button type="submit" ?disabled=${!ready || this.findBusy}>${msg('Tìm', { id: 'documents.viewer.find' })}</button>
                ${this.findDone
                  ? this.findPages.length
                    ? html`<button type="button" class="secondary" title=${msg('Kết quả trước', { id: 'documents.viewer.findPrev' })} @click=${() => this.#findStep(-1)}>↑</button>
                        <button type="button" class="secondary" title=${msg('Kết quả sau', { id: 'documents.viewer.findNext' })} @click=${() => this.#findStep(1)}>↓</button>
                        <span class="count" data-testid="find-count"
                          >${findIndex >= 0
                            ? msg(str`Trang ${findIndex + 1}/${this.findPages.length} có kết quả`, { id: 'documents.viewer.findPos' })
                            : msg(str`${this.findPages.length} trang có kết quả`, { id: 'documents.viewer.findCount' })}</span
                        >`
                    : html`<span class="count" data-testid="find-count">${msg('Không thấy kết quả', { id: 'documents.viewer.findNone' })}</span>`
                  : nothing}
              </form>`
            : nothing}
        </div>
      </div>
      <div class="body">
        ${this.thumbnails && ready
          ? html`<ec-pdf-thumbnails .doc=${this.#doc} .numPages=${this.numPages} .current=${this.page} @ec-thumbnail-select=${(e: CustomEvent<{ page: number }>) => this.#goTo(e.detail.page, 'user')}></ec-pdf-thumbnails>`
          : nothing}
        <div
          class="scroller"
          @scroll=${this.#onScroll}
          @wheel=${this.#onUserInput}
          @touchstart=${this.#onUserInput}
          @touchmove=${this.#onUserInput}
          @pointerdown=${this.#onUserInput}
          @keydown=${this.#onUserInput}
          tabindex="0"
          role="region"
          aria-label=${msg('Nội dung tài liệu', { id: 'documents.viewer.content' })}
        >
          <div class="pages"></div>
        </div>
        ${this.status === 'loading'
          ? html`<div class="state" role="status"><span><span class="spinner"></span> ${msg('Đang mở tài liệu…', { id: 'documents.viewer.loading' })}</span></div>`
          : this.status === 'error'
            ? html`<div class="state error" role="alert">
                <span>${this.errorMessage}<br /><button style="pointer-events:auto;margin-top:1rem" @click=${() => this.#open()}>${msg('Thử lại', { id: 'documents.viewer.retry' })}</button></span>
              </div>`
            : nothing}
      </div>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-pdf-viewer': EcPdfViewer;
  }
  interface HTMLElementEventMap {
    'ec-page-change': CustomEvent<PageChangeDetail>;
    'ec-page-render': CustomEvent<PageRenderDetail>;
    'ec-zoom-change': CustomEvent<ZoomChangeDetail>;
  }
}
