import '../components/ec-offline-toggle.js';
import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { DocumentInfo, MeetingPack } from '../../shared/protocol/documents.js';
import type { Meeting } from '../../shared/protocol/meetings.js';
import '../components/ec-document-editor.js';
import '../components/ec-document-upload.js';
import type { Api } from '../services/api.js';
import { apiContext } from '../services/context.js';
import { Loader } from '../services/loader.js';
import { sharedStyles } from '../styles/shared.js';

/**
 * The meeting pack: `/meetings/:id/documents`. Every agenda item in agenda order with the documents
 * the reader may see. The meeting's secretary also uploads, edits, reorders, replaces and removes here.
 */
@localized()
@customElement('ec-meeting-pack-view')
export class EcMeetingPackView extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      .items {
        list-style: none;
        margin: 0;
        padding: 0;
        display: grid;
        gap: 0.9rem;
      }
      .item h2 {
        margin: 0 0 0.4rem;
        font-size: 1.1rem;
      }
      .item.sub {
        margin-left: 1.5rem;
      }
      .docs {
        list-style: none;
        margin: 0 0 0.6rem;
        padding: 0;
      }
      .doc {
        padding: 0.5rem 0;
        border-bottom: 1px solid var(--ec-border);
      }
      .doc:last-child {
        border-bottom: 0;
      }
      .doc .line {
        display: flex;
        gap: 0.5rem 0.75rem;
        align-items: center;
        flex-wrap: wrap;
      }
      .doc a.open {
        display: inline-flex;
        align-items: center;
        min-height: var(--ec-touch);
        font-weight: 600;
        flex: 1 1 260px;
      }
      .back {
        display: inline-flex;
        align-items: center;
        min-height: var(--ec-touch);
        text-decoration: none;
      }
      .head {
        display: flex;
        gap: 0.75rem;
        align-items: center;
        flex-wrap: wrap;
      }
      .head h1 {
        flex: 1 1 320px;
      }
      form.search {
        display: flex;
        gap: 0.5rem;
        flex: 1 1 300px;
        max-width: 420px;
      }
    `,
  ];

  @property({ attribute: false }) params: Record<string, string> = {};
  @consume({ context: apiContext }) private api!: Api;

  #data = new Loader(this, async () => {
    const id = this.params.id;
    const [meeting, pack] = await Promise.all([this.api.get<Meeting>(`/api/meetings/${id}`), this.api.get<MeetingPack>(`/api/meetings/${id}/documents`)]);
    // The reader opens a document next: fetch the viewer's code and pdf.js worker while idle.
    const idle = window.requestIdleCallback ?? ((fn: () => void) => setTimeout(fn, 200));
    idle(() => void import('./ec-document-view.js').then(() => import('../components/ec-pdf-viewer.js')).then((m) => m.prewarmViewer()));
    return { meeting, pack };
  });
  @state() private editing: number | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
  }

  #load() {
    // A retry keeps what was shown (as before: only the error goes away).
    return this.#data.load({ keepValue: true });
  }

  #accessBadge(d: DocumentInfo) {
    if (d.access === 'confidential') return html`<span class="badge live">${msg('Mật — chỉ xem', { id: 'documents.access.confidentialShort' })}</span>`;
    if (d.access === 'named') return html`<span class="badge paused">${msg('Người được chỉ định', { id: 'documents.access.namedShort' })}</span>`;
    return nothing;
  }

  override render() {
    const error = this.#data.error;
    if (error) {
      return html`<div class="page"><p class="error" role="alert">
          ${error.status === 404
            ? msg('Không tìm thấy phiên họp.', { id: 'documents.pack.notFound' })
            : error.code === 'network'
              ? msg('Không kết nối được máy chủ. Kiểm tra mạng rồi thử lại.', { id: 'documents.pack.network' })
              : error.message}
        </p>
        <button @click=${() => this.#load()}>${msg('Thử lại', { id: 'documents.viewer.retry' })}</button></div>`;
    }
    const m = this.#data.value?.meeting;
    const pack = this.#data.value?.pack;
    if (!m || !pack) return html`<div class="state" role="status"><span class="spinner"></span> ${msg('Đang tải bộ tài liệu…', { id: 'documents.pack.loading' })}</div>`;
    const manage = m.canManage;
    const total = pack.items.reduce((n, i) => n + i.documents.length, 0);
    return html`<div class="page">
      <a class="back" href="/meetings/${m.id}">← ${m.title}</a>
      <div class="head">
        <h1>${msg('Bộ tài liệu phiên họp', { id: 'documents.pack.title' })}</h1>
        <form class="search" role="search" action="/search">
          <input type="hidden" name="meetingId" value=${m.id} />
          <input type="search" name="q" required placeholder=${msg('Tìm trong tài liệu phiên họp', { id: 'documents.pack.searchPlaceholder' })} aria-label=${msg('Tìm trong tài liệu phiên họp', { id: 'documents.pack.searchPlaceholder' })} />
          <button type="submit">${msg('Tìm', { id: 'documents.viewer.find' })}</button>
        </form>
      </div>
      <p class="muted">${msg(str`${total} tài liệu theo thứ tự chương trình họp.`, { id: 'documents.pack.count' })}</p>
      <ec-offline-toggle .meetingId=${m.id}></ec-offline-toggle>
      <ol class="items">
        ${pack.items.map(
          (item) => html`<li class="card item ${item.parentId ? 'sub' : ''}" data-item=${item.id}>
            <h2>${item.number}. ${item.title}</h2>
            ${item.documents.length
              ? html`<ul class="docs">
                  ${item.documents.map(
                    (d, i) => html`<li class="doc" data-document=${d.id}>
                      <div class="line">
                        <a class="open" href="/documents/${d.id}">${d.title}</a>
                        <span class="muted">${msg(str`${d.current.pageCount} trang`, { id: 'documents.pages' })}</span>
                        ${d.versions.length > 1 ? html`<span class="badge">${msg(str`Bản ${d.current.version}`, { id: 'documents.versionN' })}</span>` : nothing}
                        ${this.#accessBadge(d)}
                        ${d.published ? nothing : html`<span class="badge draft">${msg('Chưa công bố', { id: 'documents.unpublished' })}</span>`}
                        ${manage
                          ? html`<button aria-expanded=${this.editing === d.id ? 'true' : 'false'} @click=${() => (this.editing = this.editing === d.id ? null : d.id)}>
                              ${msg('Quản lý', { id: 'documents.manage' })}
                            </button>`
                          : nothing}
                      </div>
                      ${manage && this.editing === d.id
                        ? html`<ec-document-editor
                            .api=${this.api}
                            .doc=${d}
                            .participants=${m.participants}
                            .index=${i}
                            .count=${item.documents.length}
                            @ec-documents-changed=${() => this.#load()}
                          ></ec-document-editor>`
                        : nothing}
                    </li>`,
                  )}
                </ul>`
              : html`<p class="muted">${msg('Chưa có tài liệu.', { id: 'documents.pack.none' })}</p>`}
            ${manage ? html`<ec-document-upload .meetingId=${m.id} .itemId=${item.id} @ec-documents-changed=${() => this.#load()}></ec-document-upload>` : nothing}
          </li>`,
        )}
      </ol>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-meeting-pack-view': EcMeetingPackView;
  }
}
