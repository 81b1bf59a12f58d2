import { css } from 'lit';
import * as pdfjs from 'pdfjs-dist';
import type { PDFPageProxy, PageViewport } from 'pdfjs-dist';
import { foldText } from '../../../shared/rules/fold.js';

/** The selectable text over a painted page, and the find hits marked in it. */

export const textLayerStyles = css`
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
`;

/**
 * pdf.js' text layer of `page` at `viewport`: transparent, selectable spans over the canvas
 * (the `.textLayer` rules of {@link textLayerStyles}).
 */
export async function renderTextLayer(page: PDFPageProxy, viewport: PageViewport): Promise<HTMLDivElement> {
  const text = document.createElement('div');
  text.className = 'textLayer';
  text.style.setProperty('--total-scale-factor', String(viewport.scale));
  const layer = new pdfjs.TextLayer({ textContentSource: page.streamTextContent(), container: text, viewport });
  await layer.render();
  return text;
}

/**
 * Marks the find hits of `terms` (folded, as the server's find returns them) in a text layer, after
 * removing the previous marks: the whole phrase where a line holds it, else its words, only at word
 * edges. No terms clears the marks.
 */
export function markHits(layer: HTMLElement, terms: string[]): void {
  const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const edge = (body: string) => new RegExp(`(?<![\\p{L}\\p{N}])(?:${body})(?![\\p{L}\\p{N}])`, 'u');
  // Mark the whole phrase where a line holds it; when a line break splits it, its words.
  const phrase = terms.length ? edge(terms.map(esc).join('[^\\p{L}\\p{N}]+')) : null;
  const words = terms.length ? edge(terms.map(esc).join('|')) : null;
  for (const old of layer.querySelectorAll('mark.hit')) old.replaceWith(...old.childNodes);
  for (const span of layer.querySelectorAll('span.hit')) span.classList.remove('hit');
  layer.normalize();
  const spans = [...layer.querySelectorAll('span')].filter((span) => !span.querySelector('span'));
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
}
