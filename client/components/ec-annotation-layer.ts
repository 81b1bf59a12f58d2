import { localized, msg } from '@lit/localize';
import { LitElement, css, html, nothing, svg } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { AnnotationItem, Ink, Note } from '../../shared/protocol/annotations.js';
import { finishStroke, strokeHit, strokePath } from '../../shared/rules/ink.js';
import { newItemId } from '../services/annotations.js';

/** The part of a pdf.js PageViewport the layer needs: CSS size and the PDF → CSS transform. */
export interface LayerViewport {
  width: number;
  height: number;
  /** [a, b, c, d, e, f]: user space → CSS pixels (includes scale, rotation and the page's origin). */
  transform: number[];
}

export type AnnotationTool = 'read' | 'pen' | 'eraser' | 'note';

/** The note editor's largest size (CSS px): it is placed so that all of it is on the page. */
const BUBBLE = { width: 280, height: 190 };

/**
 * The annotations of one PDF page, drawn over it in an SVG whose content is in PDF user space (the
 * viewport's transform maps it to the screen), so zoom, rotation and screen size never move an
 * annotation. With the pen it draws ink (pointer events, coalesced samples, smoothed on release;
 * palm rejection: while a pen is in use, touch pointers are ignored), with the eraser it removes my
 * strokes and notes it touches, with the note tool a tap opens a small editor. It never writes
 * anything itself: it emits `annotation-put` (detail: item) and `annotation-remove` (detail: id).
 */
@localized()
@customElement('ec-annotation-layer')
export class EcAnnotationLayer extends LitElement {
  static override styles = css`
    :host {
      position: absolute;
      inset: 0;
      display: block;
    }
    svg {
      position: absolute;
      inset: 0;
      overflow: visible;
    }
    svg.passive {
      pointer-events: none;
    }
    svg.active {
      touch-action: none;
      cursor: crosshair;
      pointer-events: auto;
    }
    .hl {
      mix-blend-mode: multiply;
      opacity: 0.38;
    }
    .note-pin {
      cursor: pointer;
      pointer-events: auto;
    }
    .flag {
      font: 600 11px var(--ec-font, sans-serif);
    }
    .bubble {
      pointer-events: auto;
      position: absolute;
      box-sizing: border-box;
      width: min(280px, 100%);
      background: #fff9db;
      border: 1px solid #e0c200;
      border-radius: 6px;
      padding: 0.5rem;
      box-shadow: 0 2px 8px rgb(0 0 0 / 20%);
      font: 14px/1.4 var(--ec-font, sans-serif);
      white-space: pre-wrap;
      z-index: 5;
    }
    .bubble textarea {
      width: 100%;
      min-height: 88px;
      font: inherit;
    }
    .bubble .row {
      display: flex;
      gap: 0.5rem;
      justify-content: flex-end;
      margin-top: 0.4rem;
    }
    .bubble button {
      min-height: 44px;
      min-width: 44px;
    }
    .who {
      font-size: 12px;
      color: #555;
    }
  `;

  @property({ type: Number }) page = 1;
  @property({ attribute: false }) viewport: LayerViewport | null = null;
  /** My items on this page. */
  @property({ attribute: false }) items: AnnotationItem[] = [];
  /** Others' shared items on this page (mine are in `items`). */
  @property({ attribute: false }) sharedItems: AnnotationItem[] = [];
  /** Ids of my items that are shared (drawn with a marker). */
  @property({ attribute: false }) sharedIds: Set<string> = new Set();
  @property() tool: AnnotationTool = 'read';
  @property() color = '#ff6b6b';
  @property({ type: Number }) strokeWidth = 2;

  @state() private live: number[] | null = null;
  @state() private openNote: { id: string | null; x: number; y: number; text: string; readonly: boolean; who?: string } | null = null;

  #pointerId: number | null = null;
  /** Time a pen was last seen; touches within this window are palms. */
  #penSeenAt = 0;

  /** CSS pixel (relative to the layer) → PDF user space (public: the highlight tool maps selections with it). */
  cssToPdf(cx: number, cy: number): [number, number] {
    return this.#toPdf(cx, cy);
  }

  #toPdf(cx: number, cy: number): [number, number] {
    const [a, b, c, d, e, f] = this.viewport!.transform;
    const det = a * d - b * c;
    const x = (d * (cx - e) - c * (cy - f)) / det;
    const y = (-b * (cx - e) + a * (cy - f)) / det;
    return [x, y];
  }
  /** PDF user space → CSS pixel. */
  #toCss(x: number, y: number): [number, number] {
    const [a, b, c, d, e, f] = this.viewport!.transform;
    return [a * x + c * y + e, b * x + d * y + f];
  }
  /** User-space length of one CSS pixel (for eraser radius). */
  #unit(): number {
    const [a, b] = this.viewport!.transform;
    return 1 / Math.hypot(a, b);
  }

  #isPalm(e: PointerEvent): boolean {
    if (e.pointerType === 'pen') {
      this.#penSeenAt = performance.now();
      return false;
    }
    return e.pointerType === 'touch' && performance.now() - this.#penSeenAt < 1500;
  }

  #local(e: PointerEvent): [number, number] {
    const r = (e.currentTarget as Element).getBoundingClientRect();
    return this.#toPdf(e.clientX - r.left, e.clientY - r.top);
  }

  #down(e: PointerEvent) {
    if (this.tool === 'read' || !this.viewport || this.#isPalm(e)) return;
    if (this.#pointerId !== null) {
      // A second finger while drawing (pinch, palm): abandon the stroke rather than scribble.
      if (e.pointerType === 'touch') this.live = null;
      return;
    }
    e.preventDefault();
    this.#pointerId = e.pointerId;
    (e.currentTarget as Element).setPointerCapture?.(e.pointerId);
    const [x, y] = this.#local(e);
    if (this.tool === 'pen') this.live = [x, y];
    else if (this.tool === 'eraser') this.#erase(x, y);
    else if (this.tool === 'note') {
      this.#pointerId = null;
      const [nx, ny] = this.#clampNote(x, y);
      this.openNote = { id: null, x: nx, y: ny, text: '', readonly: false };
    }
  }

  /** Keeps a note's pin (16 units wide, drawn from y − 16 to y) inside the page, whatever was tapped. */
  #clampNote(x: number, y: number): [number, number] {
    const vp = this.viewport!;
    const corners = [this.#toPdf(0, 0), this.#toPdf(vp.width, vp.height)];
    const [minX, maxX] = [Math.min(corners[0][0], corners[1][0]), Math.max(corners[0][0], corners[1][0])];
    const [minY, maxY] = [Math.min(corners[0][1], corners[1][1]), Math.max(corners[0][1], corners[1][1])];
    return [Math.min(Math.max(x, minX), maxX - 16), Math.min(Math.max(y, minY + 16), maxY)];
  }

  override updated(changed: Map<string, unknown>): void {
    // A note's editor opens where it is seen: inside the page and scrolled into the reader's view.
    if (changed.has('openNote') && this.openNote) {
      const bubble = this.renderRoot.querySelector<HTMLElement>('.bubble');
      bubble?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
      if (!this.openNote.readonly) bubble?.querySelector('textarea')?.focus({ preventScroll: true });
    }
  }

  #move(e: PointerEvent) {
    if (e.pointerId !== this.#pointerId || this.#isPalm(e)) return;
    e.preventDefault();
    const events = (e.getCoalescedEvents?.() ?? []).length ? e.getCoalescedEvents() : [e];
    if (this.tool === 'pen' && this.live) {
      const next = this.live.slice();
      const r = (e.currentTarget as Element).getBoundingClientRect();
      for (const ev of events) next.push(...this.#toPdf(ev.clientX - r.left, ev.clientY - r.top));
      this.live = next;
    } else if (this.tool === 'eraser') {
      const [x, y] = this.#local(e);
      this.#erase(x, y);
    }
  }

  #up(e: PointerEvent) {
    if (e.pointerId !== this.#pointerId) return;
    this.#pointerId = null;
    if (this.tool === 'pen' && this.live) {
      const points = finishStroke(this.live);
      this.live = null;
      const ink: Ink = { id: newItemId(), kind: 'ink', page: this.page, points, color: this.color, width: this.strokeWidth, createdAt: Date.now() };
      this.#emit('annotation-put', ink);
    }
  }

  #cancel(e: PointerEvent) {
    if (e.pointerId !== this.#pointerId) return;
    this.#pointerId = null;
    this.live = null;
  }

  #erase(x: number, y: number) {
    const r = 8 * this.#unit();
    for (const it of this.items) {
      const hit =
        it.kind === 'ink'
          ? strokeHit(it.points, it.width, x, y, r)
          : it.kind === 'note'
            ? Math.abs(it.x - x) < 12 && Math.abs(it.y - y) < 12
            : it.rects.some((q) => x >= q.x - r && x <= q.x + q.w + r && y >= q.y - r && y <= q.y + q.h + r);
      if (hit) this.#emit('annotation-remove', it.id);
    }
  }

  #emit(type: string, detail: unknown) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  #saveNote() {
    const n = this.openNote;
    if (!n || n.readonly) return (this.openNote = null);
    const text = (this.renderRoot.querySelector('textarea') as HTMLTextAreaElement | null)?.value ?? '';
    const existing = n.id ? (this.items.find((i) => i.id === n.id) as Note | undefined) : undefined;
    if (existing) {
      // Editing a flagged (carried) note is the owner's review of it: the flag goes.
      const { carried: _reviewed, ...rest } = existing;
      this.#emit('annotation-put', { ...rest, text, updatedAt: Date.now() });
    }
    else if (text.trim()) this.#emit('annotation-put', { id: newItemId(), kind: 'note', page: this.page, x: n.x, y: n.y, text, color: this.color, createdAt: Date.now() } satisfies Note);
    this.openNote = null;
  }

  #drawItem(it: AnnotationItem, other: boolean) {
    const flagged = it.carried && it.carried.status !== 'ok';
    if (it.kind === 'highlight') {
      return svg`<g data-item=${it.id} data-kind="highlight">${it.rects.map((r) => svg`<rect class="hl" x=${r.x} y=${r.y} width=${r.w} height=${r.h} fill=${it.color}></rect>`)}
        ${flagged ? svg`<rect x=${it.rects[0].x - 2} y=${it.rects[0].y - 2} width=${it.rects[0].w + 4} height=${it.rects[0].h + 4} fill="none" stroke="#d9480f" stroke-dasharray="3 2"></rect>` : nothing}</g>`;
    }
    if (it.kind === 'ink') {
      return svg`<path data-item=${it.id} data-kind="ink" d=${strokePath(it.points)} fill="none" stroke=${it.color} stroke-width=${it.width}
        stroke-linecap="round" stroke-linejoin="round" stroke-dasharray=${flagged ? '6 3' : 'none'} opacity=${other ? 0.85 : 1}></path>`;
    }
    return svg`<g data-item=${it.id} data-kind="note" class="note-pin" @click=${() =>
      (this.openNote = { id: it.id, x: it.x, y: it.y, text: it.text, readonly: other, who: it.author?.name })}>
      <rect x=${it.x} y=${it.y - 16} width="16" height="16" rx="2" fill=${it.color} stroke=${flagged ? '#d9480f' : '#333'} stroke-width="1"></rect>
    </g>`;
  }

  override render() {
    const vp = this.viewport;
    if (!vp) return nothing;
    const [a, b, c, d, e, f] = vp.transform;
    const active = this.tool !== 'read';
    const authors = new Map<number, { name: string; color: string; at: [number, number] }>();
    for (const it of this.sharedItems) {
      if (!it.author || authors.has(it.author.userId)) continue;
      const at: [number, number] = it.kind === 'ink' ? [it.points[0], it.points[1]] : it.kind === 'note' ? [it.x, it.y] : [it.rects[0].x, it.rects[0].y + it.rects[0].h];
      authors.set(it.author.userId, { name: it.author.name, color: it.author.color, at });
    }
    const bubbleAt = this.openNote ? this.#toCss(this.openNote.x, this.openNote.y) : null;
    return html`
      <svg
        class=${active ? 'active' : 'passive'}
        width=${vp.width}
        height=${vp.height}
        @pointerdown=${this.#down}
        @pointermove=${this.#move}
        @pointerup=${this.#up}
        @pointercancel=${this.#cancel}
        role="img"
        aria-label=${msg('Lớp ghi chú của trang', { id: 'annotations.layer.label' })}
      >
        <rect width=${vp.width} height=${vp.height} fill="transparent" pointer-events=${active ? 'all' : 'none'}></rect>
        <g transform="matrix(${a} ${b} ${c} ${d} ${e} ${f})">
          <g class="shared">${this.sharedItems.map((it) => this.#drawItem(it, true))}</g>
          <g class="own">${this.items.map((it) => this.#drawItem(it, false))}</g>
          ${this.live ? svg`<path d=${strokePath(this.live)} fill="none" stroke=${this.color} stroke-width=${this.strokeWidth} stroke-linecap="round" stroke-linejoin="round"></path>` : nothing}
        </g>
        ${[...authors.values()].map((w) => {
          const [x, y] = this.#toCss(w.at[0], w.at[1]);
          return svg`<text class="flag" x=${x} y=${y - 4} fill=${w.color}>${w.name}</text>`;
        })}
      </svg>
      ${this.openNote && bubbleAt
        ? html`<div class="bubble" style="left:${Math.max(0, Math.min(bubbleAt[0], vp.width - BUBBLE.width))}px;top:${Math.max(0, Math.min(bubbleAt[1], vp.height - BUBBLE.height))}px" role="dialog"
            aria-label=${msg('Ghi chú', { id: 'annotations.note' })}>
            ${this.openNote.readonly
              ? html`${this.openNote.who ? html`<div class="who">${this.openNote.who}</div>` : nothing}<div>${this.openNote.text}</div>
                  <div class="row"><button @click=${() => (this.openNote = null)}>${msg('Đóng', { id: 'annotations.close' })}</button></div>`
              : html`<textarea aria-label=${msg('Nội dung ghi chú', { id: 'annotations.note.text' })} .value=${this.openNote.text}></textarea>
                  <div class="row">
                    <button class="secondary" @click=${() => (this.openNote = null)}>${msg('Hủy', { id: 'annotations.cancel' })}</button>
                    <button @click=${() => this.#saveNote()}>${msg('Lưu ghi chú', { id: 'annotations.note.save' })}</button>
                  </div>`}
          </div>`
        : nothing}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-annotation-layer': EcAnnotationLayer;
  }
}
