import { msg } from '@lit/localize';
import { type TemplateResult, html, type nothing } from 'lit';

/** What the viewer's toolbar shows. */
export interface ToolbarModel {
  /** A document is open. */
  ready: boolean;
  page: number;
  numPages: number;
  scale: number;
  /** Zoomed to fit the width. */
  fit: boolean;
  thumbnails: boolean;
  /** The phone's "more tools" panel is open. */
  moreOpen: boolean;
}

/** What the viewer's toolbar does. */
export interface ToolbarActions {
  onKey(e: KeyboardEvent): void;
  goTo(page: number): void;
  /** The page the reader is on (the buttons step from it). */
  current(): number;
  onPageInput(e: Event): void;
  zoomBy(dir: 1 | -1): void;
  fitWidth(): void;
  toggleThumbnails(): void;
  setMore(open: boolean): void;
}

/**
 * The toolbar of the PDF viewer: previous / page number / next, zoom out and in, and (in one row when
 * wide, under "⋯" on a phone) thumbnails, the zoom level, fit width and the `find` form.
 */
export function renderToolbar(m: ToolbarModel, a: ToolbarActions, find: TemplateResult | typeof nothing) {
  return html`
  <div class="toolbar" role="toolbar" aria-label=${msg('Công cụ xem tài liệu', { id: 'documents.viewer.toolbar' })} @keydown=${a.onKey}>
    <button class="secondary o2" ?disabled=${!m.ready || m.page <= 1} title=${msg('Trang trước', { id: 'documents.viewer.prev' })} @click=${() => a.goTo(a.current() - 1)}>‹</button>
    <label class="row o3" style="gap:.3rem">
      <span class="visually-hidden">${msg('Đến trang', { id: 'documents.viewer.goto' })}</span>
      <input class="pageno" name="page" inputmode="numeric" .value=${String(m.page)} ?disabled=${!m.ready} @change=${a.onPageInput} />
      <span class="count">/ ${m.numPages || '…'}</span>
    </label>
    <button class="secondary o4" ?disabled=${!m.ready || m.page >= m.numPages} title=${msg('Trang sau', { id: 'documents.viewer.next' })} @click=${() => a.goTo(a.current() + 1)}>›</button>
    <button class="secondary o5" ?disabled=${!m.ready} title=${msg('Thu nhỏ', { id: 'documents.viewer.zoomOut' })} @click=${() => a.zoomBy(-1)}>−</button>
    <button class="secondary o7" ?disabled=${!m.ready} title=${msg('Phóng to', { id: 'documents.viewer.zoomIn' })} @click=${() => a.zoomBy(1)}>+</button>
    <button
      class="secondary more"
      data-testid="viewer-more"
      aria-expanded=${m.moreOpen ? 'true' : 'false'}
      aria-controls="viewer-more"
      title=${msg('Thêm công cụ', { id: 'documents.viewer.more' })}
      aria-label=${msg('Thêm công cụ', { id: 'documents.viewer.more' })}
      @click=${() => a.setMore(!m.moreOpen)}
    >
      ⋯
    </button>
    <!-- On a phone these go into the "more" panel; wider, they sit in the row (display: contents). -->
    <div class="extra ${m.moreOpen ? 'open' : ''}" id="viewer-more">
      <button
        class="secondary o1"
        aria-pressed=${m.thumbnails ? 'true' : 'false'}
        title=${msg('Ảnh thu nhỏ các trang', { id: 'documents.viewer.thumbs' })}
        @click=${() => {
          a.toggleThumbnails();
          a.setMore(false);
        }}
      >
        ▦<span class="narrow-only"> ${msg('Ảnh thu nhỏ các trang', { id: 'documents.viewer.thumbs' })}</span>
      </button>
      <span class="count o6" title=${msg('Thu phóng', { id: 'documents.viewer.zoom' })}>${Math.round(m.scale * 100)}%</span>
      <button
        class="secondary o8"
        ?disabled=${!m.ready}
        aria-pressed=${m.fit ? 'true' : 'false'}
        @click=${() => {
          a.fitWidth();
          a.setMore(false);
        }}
      >
        ${msg('Vừa chiều rộng', { id: 'documents.viewer.fitWidth' })}
      </button>
      ${find}
    </div>
  </div>
  `;
}
