import { msg, str } from '@lit/localize';
import type { PDFDocumentProxy, PDFPageProxy, PageViewport } from 'pdfjs-dist';
import { renderTextLayer } from './text-layer.js';

/** The page boxes of the viewer and how a page is painted into one: canvas, watermark, text layer. */

/** One page's box in the scroller, painted or not. */
export interface PageSlot {
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

/** Keep at most this many painted pages; far ones give their canvas memory back. */
const MAX_PAINTED = 12;

/** The empty box of page `n` (its number as a placeholder, and the overlay layer over it). */
export function createSlot(n: number): PageSlot {
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
  return { n, el, overlay, canvas: null, text: null, painted: 0, rendering: false, failed: false };
}

/**
 * Paints page `s.n` of `doc` into its box at `scale`: the canvas (device pixels, at most 2×), the
 * watermark painted into it, and the text layer; the old canvas stays until the new one is ready.
 * Returns the page's viewport, or null when it failed (the placeholder says so) or `stale()` turned
 * true meanwhile (another document or a teardown).
 */
export async function paintSlot(doc: PDFDocumentProxy, s: PageSlot, scale: number, watermark: string[], stale: () => boolean): Promise<PageViewport | null> {
  s.rendering = true;
  try {
    const page: PDFPageProxy = await doc.getPage(s.n);
    if (stale()) return null;
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
    if (stale()) return null;
    drawWatermark(canvas, dpr, watermark);
    const text = await renderTextLayer(page, viewport);
    if (stale()) return null;
    s.canvas?.remove();
    s.text?.remove();
    s.canvas = canvas;
    s.text = text;
    s.el.insertBefore(canvas, s.overlay);
    s.el.insertBefore(text, s.overlay);
    s.painted = scale;
    s.failed = false;
    s.el.dataset.rendered = 'true';
    s.el.dataset.watermark = watermark.join(' · ');
    return viewport;
  } catch {
    if (stale()) return null;
    s.failed = true;
    const ph = s.el.querySelector('.ph');
    if (ph) ph.textContent = msg('Không tải được trang này.', { id: 'documents.viewer.pageFailed' });
    return null;
  } finally {
    s.rendering = false;
  }
}

/** The watermark is painted into the canvas itself (not a DOM layer one could delete). */
function drawWatermark(canvas: HTMLCanvasElement, dpr: number, watermark: string[]): void {
  const lines = watermark.filter(Boolean);
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
export function releaseFar(slots: PageSlot[], visible: ReadonlySet<number>, current: number): void {
  const painted = slots.filter((s) => s.painted && !visible.has(s.n) && s.n !== current);
  if (painted.length + visible.size <= MAX_PAINTED) return;
  painted.sort((a, b) => Math.abs(b.n - current) - Math.abs(a.n - current));
  for (const s of painted.slice(0, painted.length + visible.size - MAX_PAINTED)) {
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
