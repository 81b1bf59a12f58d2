import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { MyAnnotation, MyAnnotationsResponse } from '../../shared/protocol/annotations.js';
import type { Api } from '../services/api.js';
import { apiContext } from '../services/context.js';
import { Loader } from '../services/loader.js';
import { sharedStyles } from '../styles/shared.js';

/**
 * "My annotations" across a meeting pack: `/meetings/:id/annotations`. Grouped by document, each
 * entry jumps to its page in the annotation view; carried-over annotations whose text changed or
 * disappeared are flagged.
 */
@localized()
@customElement('ec-my-annotations-view')
export class EcMyAnnotationsView extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      ul {
        list-style: none;
        padding: 0;
        margin: 0;
      }
      li a {
        display: flex;
        align-items: center;
        gap: 0.6rem;
        min-height: var(--ec-touch, 44px);
        padding: 0.35rem 0.5rem;
        border-bottom: 1px solid var(--ec-border, #eee);
        text-decoration: none;
        color: inherit;
      }
      .dot {
        width: 14px;
        height: 14px;
        border-radius: 50%;
        flex: none;
      }
      .what {
        flex: 1;
        min-width: 0;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .flag {
        color: #d9480f;
        font-weight: 600;
        white-space: nowrap;
      }
    `,
  ];

  @property({ attribute: false }) params: Record<string, string> = {};
  @consume({ context: apiContext }) private api!: Api;
  #rows = new Loader(this, async () => (await this.api.get<MyAnnotationsResponse>(`/api/meetings/${this.params.id}/annotations/mine`)).annotations);

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
  }

  #load() {
    return this.#rows.load({ keepValue: true });
  }

  #kind(a: MyAnnotation): string {
    return a.kind === 'highlight' ? msg('Tô sáng', { id: 'annotations.kind.highlight' }) : a.kind === 'note' ? msg('Ghi chú', { id: 'annotations.note' }) : msg('Nét vẽ tay', { id: 'annotations.kind.ink' });
  }

  override render() {
    const back = html`<a class="back" href="/meetings/${this.params.id}">← ${msg('Về cuộc họp', { id: 'annotations.mine.back' })}</a>`;
    const error = this.#rows.error;
    const rows = this.#rows.value;
    if (error)
      return html`<div class="page">${back}<p class="error" role="alert">
          ${error.code === 'network' ? msg('Không tải được danh sách. Kiểm tra kết nối mạng.', { id: 'annotations.mine.network' }) : error.message}
        </p><button @click=${() => this.#load()}>${msg('Thử lại', { id: 'annotations.view.retry' })}</button></div>`;
    if (!rows) return html`<div class="state" role="status"><span class="spinner"></span> ${msg('Đang tải…', { id: 'annotations.mine.loading' })}</div>`;
    const byDoc = new Map<number, MyAnnotation[]>();
    for (const r of rows) byDoc.set(r.documentId, [...(byDoc.get(r.documentId) ?? []), r]);
    return html`<div class="page">
      ${back}
      <h1>${msg('Ghi chú của tôi', { id: 'annotations.mine.title' })}</h1>
      ${rows.length === 0 ? html`<p class="muted">${msg('Bạn chưa ghi chú trên tài liệu nào của cuộc họp này.', { id: 'annotations.mine.empty' })}</p>` : nothing}
      ${[...byDoc.values()].map(
        (list) => html`<h2>${list[0].documentTitle}</h2>
          <ul>
            ${list.map(
              (a) => html`<li>
                <a href="/documents/${a.documentId}/annotate?page=${a.page}" data-item=${a.itemId}>
                  <span class="dot" style="background:${a.color}"></span>
                  <span class="muted">${msg(str`Tr. ${a.page}`, { id: 'annotations.pageShort' })}</span>
                  <span class="what">${this.#kind(a)}${a.text ? html` · ${a.text}` : nothing}</span>
                  ${a.shared ? html`<span class="badge">${msg('Đã chia sẻ', { id: 'annotations.sharedBadge' })}</span>` : nothing}
                  ${a.status === 'changed'
                    ? html`<span class="flag">${msg('(nội dung đã đổi)', { id: 'annotations.flag.changed' })}</span>`
                    : a.status === 'orphaned'
                      ? html`<span class="flag">${msg('(không còn tìm thấy)', { id: 'annotations.flag.orphaned' })}</span>`
                      : nothing}
                </a>
              </li>`,
            )}
          </ul>`,
      )}
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-my-annotations-view': EcMyAnnotationsView;
  }
}
