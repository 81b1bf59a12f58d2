import { localized, msg, str } from '@lit/localize';
import { LitElement, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { ANNOTATION_COLORS, type AnnotationItem, type Highlight, type Rect, type TextAnchor } from '../../shared/protocol/annotations.js';
import { anchorFromRange } from '../../shared/rules/anchoring.js';
import { DocumentAnnotations, installLogoutCleanup, newItemId } from '../services/annotations.js';
import { sharedStyles, toolbarOrderStyles } from '../styles/shared.js';
import { documentAnnotationsStyles } from './ec-document-annotations.styles.js';
import './ec-annotation-layer.js';
import type { AnnotationTool, EcAnnotationLayer } from './ec-annotation-layer.js';
import type { EcPdfViewer, PageRenderDetail } from './ec-pdf-viewer.js';

const WIDTHS = [1, 2, 4, 8];
const round1 = (v: number) => Math.round(v * 10) / 10;

/** Index of the `k`-th (0-based) non-space character of `text`, or -1. */
function nthNonSpace(text: string, k: number): number {
  let seen = 0;
  for (let i = 0; i < text.length; i++) {
    if (/\s/.test(text[i])) continue;
    if (seen === k) return i;
    seen++;
  }
  return -1;
}

/**
 * Annotation tools for an `<ec-pdf-viewer>`: mounts an `<ec-annotation-layer>` in each painted
 * page's overlay, keeps them in step with the two layers of the document (`DocumentAnnotations`),
 * and shows the toolbar (read, pen, highlight the selected text, note, eraser; colours, widths;
 * undo, redo; share) and the list of my annotations in this document with share toggles.
 * Give it the viewer element, the document and version shown, and the signed-in user.
 * With `open` false the toolbar is hidden and the layers only show annotations (reading): the
 * viewers members read with (`/documents/:id`, the live view) open it with their "Annotate" button.
 */
@localized()
@customElement('ec-document-annotations')
export class EcDocumentAnnotations extends LitElement {
  static override styles = [sharedStyles, toolbarOrderStyles, documentAnnotationsStyles];

  @property({ attribute: false }) viewer: EcPdfViewer | null = null;
  @property({ type: Number }) documentId = 0;
  @property({ type: Number }) meetingId = 0;
  @property({ type: Number }) versionId = 0;
  @property({ type: Boolean }) isCurrentVersion = true;
  @property({ attribute: false }) me: { id: number; fullName: string } | null = null;
  /** Show the toolbar (tools work only while it is open; closed = read, annotations still drawn). */
  @property({ type: Boolean, reflect: true }) open = true;

  @state() private tool: AnnotationTool = 'read';
  @state() private color: string = ANNOTATION_COLORS[1];
  @state() private width = 2;
  @state() private panel = false;
  /** The phone's "more" row: colours, width, draw for everyone. */
  @state() private more = false;
  /** Draw for everyone: my pen, notes and eraser work on the shared layer (presenting). */
  @state() private presenting = false;
  @state() private error = '';
  @state() private tick = 0;

  #store: DocumentAnnotations | null = null;
  #storeKey = '';
  #layers = new Map<number, EcAnnotationLayer>();
  #pageTexts = new Map<number, Promise<string>>();
  #boundViewer: EcPdfViewer | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    installLogoutCleanup();
    // Moved in the page (disconnected, then connected again): re-open the layers and re-bind the viewer.
    if (this.hasUpdated) {
      this.requestUpdate('me', null);
      this.requestUpdate('viewer', null);
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#unbind();
    this.#store?.destroy();
    this.#store = null;
    this.#storeKey = '';
  }

  override willUpdate(changed: Map<string, unknown>): void {
    // Views pass `me` as a fresh object on every render: re-open the layers only when what they are changed.
    const key = this.me && this.documentId && this.meetingId ? `${this.documentId}:${this.meetingId}:${this.me.id}` : '';
    const me = this.me;
    if ((changed.has('documentId') || changed.has('me') || changed.has('meetingId')) && me && key && key !== this.#storeKey) {
      this.#storeKey = key;
      this.#store?.destroy();
      const color = ANNOTATION_COLORS[me.id % ANNOTATION_COLORS.length];
      this.#store = new DocumentAnnotations(this.documentId, this.meetingId, { userId: me.id, name: me.fullName, color });
      this.#store.addEventListener('change', () => {
        this.tick++;
        this.#refreshLayers();
        // Carried-over items may sync in after their page was painted: place them on its text now.
        if (this.isCurrentVersion) for (const [page, text] of this.#loadedTexts) this.#fixCarriedHighlights(page, text);
      });
      this.#pageTexts.clear();
    }
    if (this.#store && this.versionId) this.#store.setVersion(this.versionId);
    if (changed.has('viewer')) this.#bind();
    if (changed.has('open') && !this.open) {
      this.tool = 'read';
      this.presenting = false;
    }
    if (changed.has('tool') || changed.has('color') || changed.has('width') || changed.has('versionId') || changed.has('presenting')) this.#refreshLayers();
  }

  #bind() {
    this.#unbind();
    const v = this.viewer;
    if (!v) return;
    v.addEventListener('ec-page-render', this.#onRender as EventListener);
    this.#boundViewer = v;
  }
  #unbind() {
    this.#boundViewer?.removeEventListener('ec-page-render', this.#onRender as EventListener);
    this.#boundViewer = null;
    for (const l of this.#layers.values()) l.remove();
    this.#layers.clear();
  }

  #onRender = (e: CustomEvent<PageRenderDetail>) => {
    const { page, viewport, overlay } = e.detail;
    let layer = this.#layers.get(page);
    if (!layer || layer.parentElement !== overlay) {
      layer?.remove();
      layer = document.createElement('ec-annotation-layer');
      // The viewer lets its overlay children take pointer events; ours only when a tool is active.
      layer.style.pointerEvents = 'none';
      layer.page = page;
      layer.addEventListener('annotation-put', (ev) => this.#put((ev as CustomEvent<AnnotationItem>).detail));
      layer.addEventListener('annotation-remove', (ev) => {
        const id = (ev as CustomEvent<string>).detail;
        if (this.presenting) this.#store?.removeShared(id);
        else this.#store?.remove(id);
      });
      overlay.append(layer);
      this.#layers.set(page, layer);
    }
    layer.viewport = { width: viewport.width, height: viewport.height, transform: [...viewport.transform] };
    this.#refreshLayer(layer);
    if (this.isCurrentVersion) {
      void this.#pageText(page)
        .then((text) => {
          this.#loadedTexts.set(page, text);
          this.#fixCarriedHighlights(page, text);
        })
        .catch(() => undefined);
    }
  };

  /** Page texts already fetched (for synchronous work in pointer handlers). */
  #loadedTexts = new Map<number, string>();

  /** The `.pg` element and text layer of a page, when painted. */
  #pageParts(page: number): { pg: Element; textLayer: Element; layer: EcAnnotationLayer } | null {
    const layer = this.#layers.get(page);
    const pg = layer?.parentElement?.closest('.pg') ?? layer?.parentElement?.parentElement ?? null;
    const textLayer = pg?.querySelector('.textLayer');
    return layer && pg && textLayer ? { pg, textLayer, layer } : null;
  }

  /** DOM position of the `k`-th non-space character of a text layer (k may equal the count: the end). */
  #domPosition(textLayer: Element, k: number): { node: Text; offset: number } | null {
    const walker = document.createTreeWalker(textLayer, NodeFilter.SHOW_TEXT);
    let seen = 0;
    let last: Text | null = null;
    for (let n = walker.nextNode() as Text | null; n; n = walker.nextNode() as Text | null) {
      const t = n.data;
      for (let i = 0; i < t.length; i++) {
        if (/\s/.test(t[i])) continue;
        if (seen === k) return { node: n, offset: i };
        seen++;
      }
      last = n;
    }
    return seen === k && last ? { node: last, offset: last.data.length } : null;
  }

  /** Rectangles (PDF user space) of `[start, end)` of a page's text, from its painted text layer. */
  #rectsFor(page: number, text: string, start: number, end: number): Rect[] | null {
    const parts = this.#pageParts(page);
    if (!parts) return null;
    const nonSpace = (x: string) => x.replace(/\s+/g, '').length;
    const a = this.#domPosition(parts.textLayer, nonSpace(text.slice(0, start)));
    const b = this.#domPosition(parts.textLayer, nonSpace(text.slice(0, end)));
    if (!a || !b) return null;
    const range = document.createRange();
    range.setStart(a.node, a.offset);
    range.setEnd(b.node, b.offset);
    return this.#clientRectsToPdf(range, parts.pg, parts.layer);
  }

  #clientRectsToPdf(range: Range, pg: Element, layer: EcAnnotationLayer): Rect[] {
    const box = pg.getBoundingClientRect();
    const rects: Rect[] = [];
    for (const r of range.getClientRects()) {
      if (r.width < 1 || r.height < 1) continue;
      const [x1, y1] = layer.cssToPdf(r.left - box.left, r.top - box.top);
      const [x2, y2] = layer.cssToPdf(r.right - box.left, r.bottom - box.top);
      rects.push({ x: round1(Math.min(x1, x2)), y: round1(Math.min(y1, y2)), w: round1(Math.abs(x2 - x1)), h: round1(Math.abs(y2 - y1)) });
      if (rects.length >= 200) break;
    }
    return rects;
  }

  /**
   * Highlights carried over from an earlier version keep their old rectangles (the server has no
   * glyph positions); once the page is painted, redraw them from their text anchor and store the
   * result (my own items only; idempotent: nothing is written when the rectangles already match).
   */
  #fixCarriedHighlights(page: number, text: string) {
    const s = this.#store;
    if (!s) return;
    for (const it of s.ownItems(page)) {
      if (it.kind !== 'highlight' || !it.carried || it.carried.status === 'orphaned') continue;
      if (text.slice(it.anchor.start, it.anchor.end) !== it.anchor.quote) continue;
      const rects = this.#rectsFor(page, text, it.anchor.start, it.anchor.end);
      if (!rects?.length) continue;
      const same = rects.length === it.rects.length && rects.every((r, i) => Math.abs(r.x - it.rects[i].x) + Math.abs(r.y - it.rects[i].y) + Math.abs(r.w - it.rects[i].w) < 1);
      if (!same) s.put({ ...it, rects }, { undoable: false });
    }
  }

  /**
   * The text an ink stroke or a note was made next to (the nearest text-layer span), so it can
   * follow that text to another page on a new version. Null when the page text is not loaded.
   */
  #nearAnchor(page: number, x: number, y: number): TextAnchor | undefined {
    const text = this.#loadedTexts.get(page);
    const parts = this.#pageParts(page);
    if (!text || !parts) return undefined;
    const [a, b, c, d, e, f] = parts.layer.viewport!.transform;
    const cx = a * x + c * y + e;
    const cy = b * x + d * y + f;
    const box = parts.pg.getBoundingClientRect();
    let best: Element | null = null;
    let bestD = Infinity;
    for (const span of parts.textLayer.querySelectorAll('span')) {
      if (!span.textContent?.trim() || span.querySelector('span')) continue;
      const r = span.getBoundingClientRect();
      const dx = Math.max(r.left - box.left - cx, 0, cx - (r.right - box.left));
      const dy = Math.max(r.top - box.top - cy, 0, cy - (r.bottom - box.top));
      const dist = Math.hypot(dx, dy);
      if (dist < bestD) {
        bestD = dist;
        best = span;
      }
    }
    if (!best) return undefined;
    const before = document.createRange();
    before.setStart(parts.textLayer, 0);
    before.setEndBefore(best);
    const nonSpace = (t: string) => t.replace(/\s+/g, '').length;
    const skip = nonSpace(before.toString());
    const take = nonSpace(best.textContent ?? '');
    const start = nthNonSpace(text, skip);
    const end = nthNonSpace(text, skip + take - 1) + 1;
    if (start < 0 || end <= start) return undefined;
    try {
      return anchorFromRange(text, page, start, Math.min(end, start + 200));
    } catch {
      return undefined;
    }
  }

  #put(item: AnnotationItem) {
    if ((item.kind === 'ink' || item.kind === 'note') && !item.near) {
      const at = item.kind === 'ink' ? [item.points[0], item.points[1]] : [item.x, item.y];
      const near = this.#nearAnchor(item.page, at[0], at[1]);
      if (near) item = { ...item, near };
    }
    if (this.presenting) this.#store?.putShared(item);
    else this.#store?.put(item);
  }

  #refreshLayers() {
    for (const l of this.#layers.values()) this.#refreshLayer(l);
  }
  #refreshLayer(l: EcAnnotationLayer) {
    const s = this.#store;
    if (!s || !this.me) return;
    if (this.presenting) {
      l.items = s.directSharedItems(l.page);
      l.sharedItems = s.sharedItems(l.page).filter((i) => i.author?.userId !== this.me!.id);
    } else {
      l.items = s.ownItems(l.page);
      // Others' shared items, and what I drew for everyone (my shared copies duplicate my own items).
      l.sharedItems = s.sharedItems(l.page).filter((i) => i.author?.userId !== this.me!.id || !i.sourceId);
    }
    l.sharedIds = s.sharedSourceIds();
    l.tool = this.isCurrentVersion ? this.tool : 'read';
    l.color = this.color;
    l.strokeWidth = this.width;
  }

  #pageText(page: number): Promise<string> {
    let p = this.#pageTexts.get(page);
    if (!p) {
      p = fetch(`/api/documents/${this.documentId}/pages/${page}/text`, { credentials: 'same-origin' }).then(async (r) => {
        if (!r.ok) throw new Error(String(r.status));
        return ((await r.json()) as { text: string }).text;
      });
      p.catch(() => this.#pageTexts.delete(page));
      this.#pageTexts.set(page, p);
    }
    return p;
  }

  /**
   * Turns the text selected in the viewer into a highlight: its page, its offsets in the page's
   * extracted text (matched by non-space characters, so spacing differences between pdf.js's text
   * layer and the stored text do not matter), and its rectangles in PDF user space.
   */
  async #highlightSelection() {
    this.error = '';
    const root = this.viewer?.shadowRoot as (ShadowRoot & { getSelection?: () => Selection | null }) | null | undefined;
    const sel = root?.getSelection?.() ?? document.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) {
      this.error = msg('Hãy bôi đen một đoạn chữ trên trang trước.', { id: 'annotations.highlight.selectFirst' });
      return;
    }
    const range = sel.getRangeAt(0);
    const startEl = range.startContainer instanceof Element ? range.startContainer : range.startContainer.parentElement;
    const pg = startEl?.closest('.pg');
    const textLayer = pg?.querySelector('.textLayer');
    const layer = pg?.querySelector('ec-annotation-layer') as EcAnnotationLayer | null;
    if (!pg || !textLayer || !layer) {
      this.error = msg('Không xác định được trang của đoạn chọn.', { id: 'annotations.highlight.noPage' });
      return;
    }
    const before = document.createRange();
    before.setStart(textLayer, 0);
    before.setEnd(range.startContainer, range.startOffset);
    const nonSpace = (s: string) => s.replace(/\s+/g, '').length;
    const skip = nonSpace(before.toString());
    const take = nonSpace(range.toString());
    if (take === 0) return;
    try {
      const text = await this.#pageText(layer.page);
      let seen = 0;
      let start = -1;
      let end = -1;
      for (let i = 0; i < text.length; i++) {
        if (/\s/.test(text[i])) continue;
        if (seen === skip) start = i;
        seen++;
        if (seen === skip + take) {
          end = i + 1;
          break;
        }
      }
      if (start < 0 || end <= start) throw new Error('selection outside the page text');
      const rects = this.#clientRectsToPdf(range, pg, layer);
      if (!rects.length) throw new Error('no rectangles');
      const item: Highlight = { id: newItemId(), kind: 'highlight', page: layer.page, anchor: anchorFromRange(text, layer.page, start, end), rects, color: this.color, createdAt: Date.now() };
      this.#put(item);
      sel.removeAllRanges();
    } catch {
      this.error = msg('Không tô sáng được đoạn này.', { id: 'annotations.highlight.failed' });
    }
  }

  #describe(i: AnnotationItem): string {
    if (i.kind === 'highlight') return `“${i.anchor.quote}”`;
    if (i.kind === 'note') return i.text;
    return msg('Nét vẽ tay', { id: 'annotations.kind.ink' });
  }

  override render() {
    const s = this.#store;
    void this.tick;
    if (!s || !this.me) return nothing;
    const editable = this.isCurrentVersion;
    const toolBtn = (t: AnnotationTool, label: string, icon: string) =>
      html`<button class="o1" aria-pressed=${this.tool === t} title=${label} aria-label=${label} data-tool=${t} ?disabled=${!editable && t !== 'read'} @click=${() => (this.tool = t)}>${icon}</button>`;
    const state = s.state;
    const stateLabel =
      state === 'online'
        ? msg('Đã đồng bộ', { id: 'annotations.state.online' })
        : state === 'connecting'
          ? msg('Đang kết nối…', { id: 'annotations.state.connecting' })
          : state === 'offline'
            ? msg('Ngoại tuyến — ghi chú được lưu trên máy', { id: 'annotations.state.offline' })
            : msg('Không có quyền đồng bộ lớp ghi chú', { id: 'annotations.state.refused' });
    const own = s.ownItems().sort((a, b) => a.page - b.page || a.createdAt - b.createdAt);
    const shared = s.sharedSourceIds();
    return html`
      <div class="bar" role="toolbar" aria-label=${msg('Công cụ ghi chú', { id: 'annotations.toolbar' })}>
        ${toolBtn('read', msg('Đọc / chọn chữ', { id: 'annotations.tool.read' }), '🖱')}
        ${toolBtn('pen', msg('Bút', { id: 'annotations.tool.pen' }), '✎')}
        <button
          class="o1"
          title=${msg('Tô sáng đoạn đã chọn', { id: 'annotations.tool.highlight' })}
          aria-label=${msg('Tô sáng đoạn đã chọn', { id: 'annotations.tool.highlight' })}
          data-tool="highlight"
          ?disabled=${!editable}
          @click=${() => void this.#highlightSelection()}
        >
          🖍<span class="wide-label"> ${msg('Tô sáng', { id: 'annotations.tool.highlightShort' })}</span>
        </button>
        ${toolBtn('note', msg('Ghi chú dán', { id: 'annotations.tool.note' }), '🗒')}
        ${toolBtn('eraser', msg('Tẩy', { id: 'annotations.tool.eraser' }), '⌫')}
        <span class="sep o2"></span>
        <span class="sep o5"></span>
        <button class="o6" ?disabled=${!s.canUndo} @click=${() => s.undoLast()} aria-label=${msg('Hoàn tác', { id: 'annotations.undo' })} title=${msg('Hoàn tác', { id: 'annotations.undo' })}>↶</button>
        <button class="o6" ?disabled=${!s.canRedo} @click=${() => s.redoLast()} aria-label=${msg('Làm lại', { id: 'annotations.redo' })} title=${msg('Làm lại', { id: 'annotations.redo' })}>↷</button>
        <button class="o7" data-testid="share-all" ?disabled=${!editable || own.length === 0} @click=${() => s.shareAll()}>${msg('Chia sẻ tất cả', { id: 'annotations.shareAll' })}</button>
        <button class="disclosure o8" aria-expanded=${this.panel ? 'true' : 'false'} @click=${() => (this.panel = !this.panel)}>${msg(str`Của tôi (${own.length})`, { id: 'annotations.mineCount' })}</button>
        <button
          class="more"
          data-testid="annotate-more"
          aria-expanded=${this.more ? 'true' : 'false'}
          aria-controls="annotate-more"
          aria-label=${msg('Màu, độ dày nét, vẽ cho mọi người', { id: 'annotations.more' })}
          title=${msg('Màu, độ dày nét, vẽ cho mọi người', { id: 'annotations.more' })}
          @click=${() => (this.more = !this.more)}
        >
          ⋯
        </button>
        <span class="status o9 ${state}" role="status">${stateLabel}</span>
        <div class="extra ${this.more ? 'open' : ''}" id="annotate-more">
          ${ANNOTATION_COLORS.map(
            (c) => html`<button class="swatch o3" aria-pressed=${this.color === c} aria-label=${msg(str`Màu ${c}`, { id: 'annotations.color' })} @click=${() => (this.color = c)}>
              <span style="background:${c}"></span>
            </button>`,
          )}
          <select class="o4" aria-label=${msg('Độ dày nét', { id: 'annotations.width' })} @change=${(e: Event) => (this.width = Number((e.target as HTMLSelectElement).value))}>
            ${WIDTHS.map((w) => html`<option value=${w} ?selected=${w === this.width}>${w} pt</option>`)}
          </select>
          <button class="o7" data-mode="present" aria-pressed=${this.presenting} ?disabled=${!editable}
            title=${msg('Vẽ và ghi chú trực tiếp lên lớp chung: mọi người thấy ngay (khi trình bày)', { id: 'annotations.present.hint' })}
            @click=${() => (this.presenting = !this.presenting)}>◉ ${msg('Vẽ cho mọi người', { id: 'annotations.present' })}</button>
        </div>
      </div>
      ${this.error ? html`<div class="error" role="alert">${this.error}</div>` : nothing}
      ${this.panel
        ? html`<div class="panel">
            ${own.length === 0
              ? html`<p class="muted">${msg('Chưa có ghi chú nào trên tài liệu này.', { id: 'annotations.none' })}</p>`
              : html`<ul>
                  ${own.map(
                    (i) => html`<li data-item=${i.id}>
                      <span style="color:${i.color}">●</span>
                      <span class="what">${msg(str`Tr. ${i.page}`, { id: 'annotations.pageShort' })} · ${this.#describe(i)}
                        ${i.carried && i.carried.status !== 'ok'
                          ? html`<span class="flag">${i.carried.status === 'changed' ? msg('(nội dung đã đổi)', { id: 'annotations.flag.changed' }) : msg('(không còn tìm thấy)', { id: 'annotations.flag.orphaned' })}</span>`
                          : nothing}</span>
                      <button @click=${() => this.viewer && (this.viewer.page = i.page)}>${msg('Đến trang', { id: 'annotations.goto' })}</button>
                      ${i.carried && i.carried.status !== 'ok'
                        ? html`<button class="ack" ?disabled=${!editable} title=${msg('Đánh dấu đã xem lại: bỏ cờ báo', { id: 'annotations.ack.hint' })}
                            @click=${() => {
                              const { carried: _seen, ...rest } = i;
                              s.put(rest as AnnotationItem);
                            }}>${msg('Đã xem', { id: 'annotations.ack' })}</button>`
                        : nothing}
                      ${shared.has(i.id)
                        ? html`<button @click=${() => s.unshare([i.id])}>${msg('Thôi chia sẻ', { id: 'annotations.unshare' })}</button>`
                        : html`<button class="share" ?disabled=${!editable} @click=${() => s.shareItems([i.id])}>${msg('Chia sẻ', { id: 'annotations.share' })}</button>`}
                      <button ?disabled=${!editable} @click=${() => s.remove(i.id)} aria-label=${msg('Xóa', { id: 'annotations.delete' })}>🗑</button>
                    </li>`,
                  )}
                </ul>`}
          </div>`
        : nothing}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-document-annotations': EcDocumentAnnotations;
  }
}
