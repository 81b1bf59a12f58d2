import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { LitElement, html, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { Locale, Me } from '../../shared/protocol/auth.js';
import type { DocumentInfo } from '../../shared/protocol/documents.js';
import '../components/ec-document-annotations.js';
import '../components/ec-pdf-viewer.js';
import type { EcPdfViewer } from '../components/ec-pdf-viewer.js';
import type { Api } from '../services/api.js';
import { apiContext, localeContext, meContext } from '../services/context.js';
import { formatDateTime } from '../services/format.js';
import { Loader } from '../services/loader.js';
import { FillBelowHeader, documentPageStyles } from '../styles/document-page.js';
import { sharedStyles } from '../styles/shared.js';

/**
 * Reading and annotating one document: `/documents/:id/annotate?page=N[&version=V]`. The viewer
 * with the annotation toolbar and layers; older versions open read-only with their own annotations.
 */
@localized()
@customElement('ec-annotate-view')
export class EcAnnotateView extends LitElement {
  static override styles = [
    sharedStyles,
    documentPageStyles,
  ];

  @property({ attribute: false }) params: Record<string, string> = {};
  @property({ attribute: false }) query: URLSearchParams = new URLSearchParams();
  @consume({ context: apiContext }) private api!: Api;
  @consume({ context: meContext, subscribe: true }) private me: Me | null = null;
  @consume({ context: localeContext, subscribe: true }) private locale: Locale = 'vi';

  #doc = new Loader(this, () => this.api.get<DocumentInfo>(`/api/documents/${this.params.id}`), {
    // The version asked for in the URL, if the document has it (else the current one).
    onValue: (doc) => {
      const v = Number(this.query.get('version'));
      if (v && doc.versions.some((x) => x.id === v)) this.versionId = v;
    },
  });
  /** The meeting this view shows: the app shell leaves the view when access to it is revoked. */
  get meetingScope(): number | null {
    return this.#doc.value?.meetingId ?? null;
  }
  @state() private versionId: number | null = null;
  @state() private viewerEl: EcPdfViewer | null = null;
  @query('ec-pdf-viewer') private viewerQuery!: EcPdfViewer | null;
  /** The viewer fills the screen below the app header (the controller measures after each update). */
  #fill = new FillBelowHeader(this);
  #openedAt = new Date().toISOString();

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
  }

  #load() {
    return this.#doc.load({ keepValue: true });
  }

  override updated(): void {
    if (this.viewerQuery !== this.viewerEl) this.viewerEl = this.viewerQuery;
  }

  override render() {
    const error = this.#doc.error;
    if (error) {
      return html`<div class="page"><p class="error" role="alert">
          ${error.status === 404
            ? msg('Không tìm thấy tài liệu hoặc bạn không có quyền xem.', { id: 'annotations.view.notFound' })
            : error.code === 'network'
              ? msg('Không tải được tài liệu. Kiểm tra kết nối mạng rồi thử lại.', { id: 'annotations.view.network' })
              : error.message}
        </p>
        <button @click=${() => this.#load()}>${msg('Thử lại', { id: 'annotations.view.retry' })}</button></div>`;
    }
    const d = this.#doc.value;
    if (!d) return html`<div class="state" role="status"><span class="spinner"></span> ${msg('Đang mở tài liệu…', { id: 'annotations.view.loading' })}</div>`;
    const version = d.versions.find((v) => v.id === this.versionId) ?? d.current;
    const src = `/api/documents/${d.id}/file${version.id !== d.current.id ? `?version=${version.id}` : ''}`;
    const me = this.me;
    const watermark = me ? [me.fullName, me.unit ?? '', formatDateTime(this.#openedAt, this.locale)].filter(Boolean) : [];
    const page = Number(this.query.get('page')) || 1;
    return html`
      <div class="head">
        <a class="back" href="/meetings/${d.meetingId}/annotations">← ${msg('Ghi chú của tôi', { id: 'annotations.mine.short' })}</a>
        <h1 title=${d.title}>${d.title}</h1>
        ${d.versions.length > 1
          ? html`<label class="row" style="gap:.4rem">
              <span class="muted">${msg('Phiên bản', { id: 'annotations.view.version' })}</span>
              <select @change=${(e: Event) => (this.versionId = Number((e.target as HTMLSelectElement).value))}>
                ${[...d.versions].reverse().map(
                  (v) => html`<option value=${v.id} ?selected=${v.id === version.id}>${msg(str`Bản ${v.version}`, { id: 'annotations.view.versionN' })} · ${formatDateTime(v.createdAt, this.locale)}</option>`,
                )}
              </select>
            </label>`
          : nothing}
        ${version.id !== d.current.id ? html`<span class="badge">${msg('Bản cũ — chỉ xem', { id: 'annotations.view.oldVersion' })}</span>` : nothing}
        ${d.canDownload
          ? html`<a class="btn" href="/api/documents/${d.id}/annotations/copy${version.id !== d.current.id ? `?version=${version.id}` : ''}" download
              >${msg('Tải bản có ghi chú của tôi', { id: 'annotations.download' })}</a>`
          : nothing}
      </div>
      ${me
        ? html`<ec-document-annotations
            .viewer=${this.viewerEl}
            .documentId=${d.id}
            .meetingId=${d.meetingId}
            .versionId=${version.id}
            .isCurrentVersion=${version.id === d.current.id}
            .me=${{ id: me.id, fullName: me.fullName }}
          ></ec-document-annotations>`
        : nothing}
      <ec-pdf-viewer .src=${src} .page=${page} .watermark=${watermark} storageKey="ec-doc-page:${d.id}" findUrl="/api/documents/${d.id}/find"></ec-pdf-viewer>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-annotate-view': EcAnnotateView;
  }
}
