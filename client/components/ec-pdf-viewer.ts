import { localized, msg } from '@lit/localize';
import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type * as pdfjs from 'pdfjs-dist';
import type { PDFDocumentProxy, PageViewport } from 'pdfjs-dist';
import { sharedStyles, toolbarOrderStyles } from '../styles/shared.js';
import './ec-pdf-thumbnails.js';
import { FindController } from './pdf-viewer/find.js';
import { type PageSlot, createSlot, paintSlot, releaseFar } from './pdf-viewer/pages.js';
import { loadDocument, openSource } from './pdf-viewer/pdf-source.js';
import { textLayerStyles } from './pdf-viewer/text-layer.js';
import { renderToolbar } from './pdf-viewer/toolbar.js';
import { viewerStyles } from './pdf-viewer/viewer.styles.js';

export { prewarmViewer } from './pdf-viewer/pdf-source.js';

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
  static override styles = [sharedStyles, toolbarOrderStyles, viewerStyles, textLayerStyles];

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
  #find = new FindController(this, {
    url: () => this.findUrl,
    current: () => this.#current,
    slots: () => this.#slots,
    goTo: (n) => this.#goTo(n, 'user'),
    reveal: (hit) => {
      this.#programScrollUntil = performance.now() + 2000;
      const box = this.scroller.getBoundingClientRect();
      this.scroller.scrollTop += hit.getBoundingClientRect().top - box.top - box.height / 3;
    },
  });

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
      this.#loadingTask = loadDocument(source);
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
      const s = createSlot(n);
      frag.append(s.el);
      this.#slots.push(s);
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
      releaseFar(this.#slots, this.#visible, this.#current);
    } finally {
      this.#pumping = false;
    }
  }

  async #paint(s: PageSlot, gen: number) {
    const doc = this.#doc;
    if (!doc) return;
    const scale = this.scale;
    const viewport = await paintSlot(doc, s, scale, this.watermark, () => gen !== this.#generation);
    if (!viewport) return;
    this.#find.highlight(s);
    this.dispatchEvent(
      new CustomEvent<PageRenderDetail>('ec-page-render', { detail: { page: s.n, viewport, scale, overlay: s.overlay }, bubbles: true, composed: true }),
    );
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
    return html`
      ${renderToolbar(
        { ready, page: this.page, numPages: this.numPages, scale: this.scale, fit: this.zoom === 'fit', thumbnails: this.thumbnails, moreOpen: this.moreOpen },
        {
          onKey: (e) => this.#onToolbarKey(e),
          goTo: (n) => this.#goTo(n, 'user'),
          current: () => this.#current,
          onPageInput: (e) => this.#onPageInput(e),
          zoomBy: (dir) => this.#zoomBy(dir),
          fitWidth: () => this.#setZoom('fit'),
          toggleThumbnails: () => (this.thumbnails = !this.thumbnails),
          setMore: (open) => this.#setMore(open),
        },
        this.findUrl ? this.#find.render(ready, this.page) : nothing,
      )}
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
