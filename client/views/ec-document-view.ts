import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { Locale, Me } from '../../shared/protocol/auth.js';
import type { DocumentInfo } from '../../shared/protocol/documents.js';
import '../components/ec-document-annotations.js';
import '../components/ec-pdf-viewer.js';
import type { EcPdfViewer, PageChangeDetail } from '../components/ec-pdf-viewer.js';
import type { Api } from '../services/api.js';
import { apiContext, localeContext, meContext } from '../services/context.js';
import { formatDateTime } from '../services/format.js';
import { Loader } from '../services/loader.js';
import { FillBelowHeader, documentPageStyles } from '../styles/document-page.js';
import { sharedStyles } from '../styles/shared.js';

/** Whether the annotation tools were open last time (one choice for every document). */
const TOOLS_KEY = 'ec-annotation-tools';

/**
 * Reading one document: `/documents/:id?page=N`. The viewer shows the current version with the
 * reader's watermark (name, unit, time opened); the page is kept in the URL (for links from search)
 * and in localStorage (last page per document). The reader's own annotations and those shared in the
 * meeting are drawn on the pages; "Annotate" opens the tools (highlight, pen, sticky notes, eraser,
 * share) on this same viewer. Annotations are private until shared.
 */
@localized()
@customElement('ec-document-view')
export class EcDocumentView extends LitElement {
  static override styles = [
    sharedStyles,
    documentPageStyles,
    css`
      button[aria-expanded]::after {
        content: ' ▸';
      }
      button[aria-expanded='true']::after {
        content: ' ▾';
      }
      /* On a phone the one-line title cut most of the name: let it take two lines there. */
      @media (max-width: 700px) {
        .head h1 {
          white-space: normal;
          display: -webkit-box;
          -webkit-box-orient: vertical;
          -webkit-line-clamp: 2;
        }
      }
    `,
  ];

  @property({ attribute: false }) params: Record<string, string> = {};
  @property({ attribute: false }) query: URLSearchParams = new URLSearchParams();
  @consume({ context: apiContext }) private api!: Api;
  @consume({ context: meContext, subscribe: true }) private me: Me | null = null;
  @consume({ context: localeContext, subscribe: true }) private locale: Locale = 'vi';

  #doc = new Loader(this, () => this.api.get<DocumentInfo>(`/api/documents/${this.params.id}`));
  /** The meeting this view shows: the app shell leaves the view when access to it is revoked. */
  get meetingScope(): number | null {
    return this.#doc.value?.meetingId ?? null;
  }
  @state() private versionId: number | null = null;
  @state() private tools = false;
  @state() private viewerEl: EcPdfViewer | null = null;
  @query('ec-pdf-viewer') private viewerQuery!: EcPdfViewer | null;
  /** The viewer fills the screen below the app header (the controller measures after each update). */
  #fill = new FillBelowHeader(this);
  /** Fixed when the view opens: the watermark says when this copy was looked at. */
  #openedAt = new Date().toISOString();

  override connectedCallback(): void {
    super.connectedCallback();
    this.versionId = Number(this.query.get('version')) || null;
    this.tools = this.query.get('annotate') === '1' || localStorage.getItem(TOOLS_KEY) === 'open';
    void this.#load();
  }

  #load() {
    return this.#doc.load({ keepValue: true });
  }

  override updated(): void {
    if (this.viewerQuery !== this.viewerEl) this.viewerEl = this.viewerQuery;
  }

  #toggleTools() {
    this.tools = !this.tools;
    localStorage.setItem(TOOLS_KEY, this.tools ? 'open' : 'closed');
  }

  #onPage(e: CustomEvent<PageChangeDetail>) {
    const url = new URL(location.href);
    url.searchParams.set('page', String(e.detail.page));
    history.replaceState(history.state, '', url);
  }

  #backLink(d: DocumentInfo | null) {
    return this.query.get('back') === 'consultations'
      ? // Opened from a written consultation: its recipient may not see the meeting's pack.
        html`<a class="back" href="/consultations">← ${msg('Lấy ý kiến', { id: 'documents.backToConsultations' })}</a>`
      : html`<a class="back" href=${d ? `/meetings/${d.meetingId}/documents` : '/meetings'}>← ${msg('Bộ tài liệu', { id: 'documents.pack.short' })}</a>`;
  }

  override render() {
    const error = this.#doc.error;
    if (error) {
      return html`<div class="page">${this.#backLink(null)}<p class="error" role="alert">
        ${error.status === 404
          ? msg('Không tìm thấy tài liệu hoặc bạn không có quyền xem.', { id: 'documents.viewer.notFound' })
          : error.code === 'network'
            ? msg('Không tải được tài liệu. Kiểm tra kết nối mạng rồi thử lại.', { id: 'documents.viewer.network' })
            : error.message}
      </p>${error.status === 404 ? nothing : html`<button @click=${() => this.#load()}>${msg('Thử lại', { id: 'documents.viewer.retry' })}</button>`}</div>`;
    }
    // The viewer starts loading at once, in parallel with the document's details (the file URL
    // needs only the id); the header fills in when the details arrive.
    const d = this.#doc.value ?? null;
    const id = this.params.id;
    const src = `/api/documents/${id}/file${this.versionId ? `?version=${this.versionId}` : ''}`;
    const me = this.me;
    const watermark = me ? [me.fullName, me.unit ?? '', formatDateTime(this.#openedAt, this.locale)].filter(Boolean) : [];
    const page = Number(this.query.get('page')) || 0;
    const shown = d ? (d.versions.find((v) => v.id === this.versionId) ?? d.current) : null;
    // A recipient of a written consultation reads outside the meeting: no meeting layers for them.
    const annotatable = !!(d && me && shown && this.query.get('back') !== 'consultations');
    return html`
      <div class="head">
        ${this.#backLink(d)}
        <h1 title=${d?.title ?? ''}>${d?.title ?? html`<span class="spinner"></span>`}</h1>
        ${d?.access === 'confidential' ? html`<span class="badge live">${msg('Mật — chỉ xem', { id: 'documents.access.confidentialShort' })}</span>` : nothing}
        ${d && shown && d.versions.length > 1
          ? html`<label class="row" style="gap:.4rem">
              <span class="muted">${msg('Phiên bản', { id: 'documents.version' })}</span>
              <select @change=${(e: Event) => (this.versionId = Number((e.target as HTMLSelectElement).value))}>
                ${[...d.versions].reverse().map(
                  (v) => html`<option value=${v.id} ?selected=${v.id === shown.id}>
                    ${msg(str`Bản ${v.version}`, { id: 'documents.versionN' })} · ${formatDateTime(v.createdAt, this.locale)}
                  </option>`,
                )}
              </select>
            </label>`
          : nothing}
        ${annotatable
          ? html`<button data-testid="annotate-toggle" aria-expanded=${this.tools ? 'true' : 'false'} @click=${() => this.#toggleTools()}>
              ✎ ${msg('Ghi chú', { id: 'documents.annotate' })}
            </button>`
          : nothing}
        ${d?.canDownload
          ? html`<a class="btn" href="/api/documents/${d.id}/download" download
              ><span class="long">${msg('Tải xuống (có dấu bản quyền)', { id: 'documents.download' })}</span
              ><span class="short">${msg('Tải xuống', { id: 'documents.downloadShort' })}</span></a
            >`
          : nothing}
      </div>
      ${annotatable
        ? html`<ec-document-annotations
            .open=${this.tools}
            .viewer=${this.viewerEl}
            .documentId=${d!.id}
            .meetingId=${d!.meetingId}
            .versionId=${shown!.id}
            .isCurrentVersion=${shown!.id === d!.current.id}
            .me=${{ id: me!.id, fullName: me!.fullName }}
          ></ec-document-annotations>`
        : nothing}
      <ec-pdf-viewer
        .src=${src}
        .page=${page || 1}
        .watermark=${watermark}
        storageKey="ec-doc-page:${id}"
        findUrl="/api/documents/${id}/find"
        @ec-page-change=${this.#onPage}
      ></ec-pdf-viewer>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-document-view': EcDocumentView;
  }
}
