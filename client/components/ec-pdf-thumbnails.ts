import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, type PropertyValues } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import type { PDFDocumentProxy } from 'pdfjs-dist';

const THUMB_WIDTH = 110;

/**
 * The thumbnail strip of `<ec-pdf-viewer>`: one button per page; only thumbnails scrolled into
 * view are painted (from the same range-loaded document). Emits `ec-thumbnail-select` ({ page }).
 */
@localized()
@customElement('ec-pdf-thumbnails')
export class EcPdfThumbnails extends LitElement {
  static override styles = css`
    :host {
      display: block;
      overflow-y: auto;
      background: #3b424c;
    }
    ol {
      list-style: none;
      margin: 0;
      padding: 8px 0;
      display: flex;
      flex-direction: column;
      align-items: center;
      gap: 8px;
    }
    button {
      display: flex;
      flex-direction: column;
      align-items: center;
      gap: 2px;
      border: 3px solid transparent;
      border-radius: 6px;
      background: none;
      padding: 2px;
      cursor: pointer;
      color: #e6e9ee;
      font: inherit;
      font-size: 0.8rem;
      min-width: 44px;
      min-height: 44px;
    }
    button[aria-current='page'] {
      border-color: #f0c24b;
    }
    .box {
      width: ${THUMB_WIDTH}px;
      background: #fff;
      display: block;
    }
    canvas {
      display: block;
      width: 100%;
      height: 100%;
    }
  `;

  @property({ attribute: false }) doc: PDFDocumentProxy | null = null;
  @property({ type: Number }) numPages = 0;
  @property({ type: Number }) current = 1;
  @query('ol') private list!: HTMLOListElement;

  #io: IntersectionObserver | null = null;
  #painted = new Set<number>();
  #queue: number[] = [];
  #busy = false;
  #ratio = 1.414;

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#io?.disconnect();
    this.#io = null;
  }

  protected override async firstUpdated() {
    if (this.doc) {
      const vp = (await this.doc.getPage(1)).getViewport({ scale: 1 });
      this.#ratio = vp.height / vp.width;
      this.requestUpdate();
    }
    this.#io = new IntersectionObserver(
      (entries) => {
        for (const e of entries) if (e.isIntersecting) this.#want(Number((e.target as HTMLElement).dataset.page));
      },
      { root: this, rootMargin: '200px 0px' },
    );
    await this.updateComplete;
    this.list.querySelectorAll('button').forEach((b) => this.#io!.observe(b));
    this.#reveal();
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('current')) this.#reveal();
  }

  #reveal() {
    const b = this.renderRoot.querySelector<HTMLElement>(`button[data-page="${this.current}"]`);
    if (!b) return;
    const top = b.offsetTop;
    if (top < this.scrollTop || top + b.offsetHeight > this.scrollTop + this.clientHeight) this.scrollTop = top - 40;
  }

  #want(n: number) {
    if (this.#painted.has(n) || this.#queue.includes(n)) return;
    this.#queue.push(n);
    void this.#pump();
  }

  async #pump() {
    if (this.#busy || !this.doc) return;
    this.#busy = true;
    try {
      while (this.#queue.length) {
        const n = this.#queue.shift()!;
        const box = this.renderRoot.querySelector<HTMLElement>(`button[data-page="${n}"] .box`);
        if (!box || this.#painted.has(n)) continue;
        const page = await this.doc.getPage(n);
        const vp = page.getViewport({ scale: (THUMB_WIDTH * 1.5) / page.getViewport({ scale: 1 }).width });
        const canvas = document.createElement('canvas');
        canvas.width = Math.floor(vp.width);
        canvas.height = Math.floor(vp.height);
        await page.render({ canvas, viewport: vp }).promise;
        box.replaceChildren(canvas);
        this.#painted.add(n);
      }
    } catch {
      /* a thumbnail that fails stays blank; the page itself shows the error */
    } finally {
      this.#busy = false;
    }
  }

  override render() {
    const h = Math.round(THUMB_WIDTH * this.#ratio);
    return html`<ol aria-label=${msg('Các trang', { id: 'documents.thumbs.label' })}>
      ${Array.from(
        { length: this.numPages },
        (_, i) => html`<li>
          <button
            data-page=${i + 1}
            aria-current=${this.current === i + 1 ? 'page' : 'false'}
            aria-label=${msg(str`Trang ${i + 1}`, { id: 'documents.viewer.pageLabel' })}
            @click=${() => this.dispatchEvent(new CustomEvent('ec-thumbnail-select', { detail: { page: i + 1 }, bubbles: true, composed: true }))}
          >
            <span class="box" style="height:${h}px"></span>
            <span>${i + 1}</span>
          </button>
        </li>`,
      )}
    </ol>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-pdf-thumbnails': EcPdfThumbnails;
  }
}
