import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { SearchHit, SearchResults } from '../../shared/protocol/search.js';
import { ApiError, type Api } from '../services/api.js';
import { apiContext } from '../services/context.js';
import { navigate } from '../services/router.js';
import { sharedStyles } from '../styles/shared.js';

/** One card per document (its best page, then its other matching pages in rank order); other kinds as they come. */
function groupHits(hits: SearchHit[]): { hit: SearchHit; more: SearchHit[] }[] {
  const out: { hit: SearchHit; more: SearchHit[] }[] = [];
  const byDoc = new Map<number, { hit: SearchHit; more: SearchHit[] }>();
  for (const h of hits) {
    const g = h.kind === 'document' ? byDoc.get(h.refId) : undefined;
    if (g) g.more.push(h);
    else {
      const entry = { hit: h, more: [] as SearchHit[] };
      if (h.kind === 'document') byDoc.set(h.refId, entry);
      out.push(entry);
    }
  }
  return out;
}

/**
 * Search across agendas and documents: `/search?q=…[&meetingId=…]`. Works with or without
 * Vietnamese diacritics; each hit shows a highlighted snippet and opens the document at its page.
 */
@localized()
@customElement('ec-search-view')
export class EcSearchView extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      form {
        display: flex;
        gap: 0.5rem;
        margin-bottom: 1rem;
      }
      ol {
        list-style: none;
        padding: 0;
        margin: 0;
        display: grid;
        gap: 0.75rem;
      }
      .hit a {
        display: flex;
        flex-direction: column;
        gap: 0.25rem;
        text-decoration: none;
        color: inherit;
        min-height: var(--ec-touch);
      }
      .hit .title {
        font-weight: 600;
        color: var(--ec-primary);
      }
      .hit mark {
        background: #ffe08a;
        color: inherit;
        padding: 0 1px;
        border-radius: 2px;
      }
      .hit .pages {
        display: flex;
        flex-wrap: wrap;
        gap: 0.35rem;
        align-items: center;
        margin-top: 0.5rem;
      }
      .hit .pages .btn {
        padding: 0.2rem 0.6rem;
      }
      .hit .meta {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        font-size: 0.9rem;
      }
    `,
  ];

  @property({ attribute: false }) params: Record<string, string> = {};
  @property({ attribute: false }) query: URLSearchParams = new URLSearchParams();
  @consume({ context: apiContext }) private api!: Api;

  @state() private results: SearchResults | null = null;
  @state() private busy = false;
  @state() private error: ApiError | null = null;
  @state() private q = '';

  override connectedCallback(): void {
    super.connectedCallback();
    this.q = this.query.get('q') ?? '';
    if (this.q.trim()) void this.#search();
  }

  async #search() {
    this.busy = true;
    this.error = null;
    try {
      const meetingId = this.query.get('meetingId') ?? undefined;
      this.results = await this.api.get<SearchResults>('/api/search', { q: this.q.trim(), meetingId, limit: 50 });
    } catch (e) {
      this.error = e instanceof ApiError ? e : new ApiError(0, 'network', String(e));
    } finally {
      this.busy = false;
    }
  }

  #submit(e: Event) {
    e.preventDefault();
    if (!this.q.trim()) return;
    const qs = new URLSearchParams(this.query);
    qs.set('q', this.q.trim());
    navigate(`/search?${qs}`, { replace: true });
    this.query = qs;
    void this.#search();
  }

  #href(h: SearchHit): string {
    if (h.kind === 'document') return `/documents/${h.refId}${h.page ? `?page=${h.page}` : ''}`;
    if (h.meetingId) return `/meetings/${h.meetingId}`;
    return '#';
  }

  #kind(h: SearchHit) {
    if (h.kind === 'document') return msg('Tài liệu', { id: 'search.kind.document' });
    if (h.kind === 'agenda_item') return msg('Nội dung chương trình', { id: 'search.kind.agenda' });
    if (h.kind === 'minutes') return msg('Biên bản', { id: 'search.kind.minutes' });
    if (h.kind === 'conclusion') return msg('Kết luận', { id: 'search.kind.conclusion' });
    return h.kind;
  }

  override render() {
    return html`<div class="page">
      <h1>${msg('Tìm kiếm', { id: 'search.title' })}</h1>
      <form role="search" @submit=${this.#submit}>
        <input
          type="search"
          name="q"
          .value=${this.q}
          placeholder=${msg('Ví dụ: chuyen doi so', { id: 'search.placeholder' })}
          aria-label=${msg('Từ khóa', { id: 'search.keywords' })}
          @input=${(e: Event) => (this.q = (e.target as HTMLInputElement).value)}
        />
        <button class="primary" type="submit" ?disabled=${this.busy}>${msg('Tìm', { id: 'documents.viewer.find' })}</button>
      </form>
      ${this.error
        ? html`<p class="error" role="alert">
            ${this.error.code === 'network' ? msg('Không kết nối được máy chủ. Kiểm tra mạng rồi thử lại.', { id: 'documents.pack.network' }) : this.error.message}
          </p>`
        : nothing}
      ${this.busy ? html`<div class="state" role="status"><span class="spinner"></span></div>` : nothing}
      ${this.results && !this.busy
        ? this.results.hits.length
          ? html`<p class="muted" role="status">${msg(str`${this.results.hits.length} kết quả`, { id: 'search.count' })}</p>
              <ol>
                ${groupHits(this.results.hits).map(
                  ({ hit: h, more }) => html`<li class="card hit" data-kind=${h.kind}>
                    <a href=${this.#href(h)}>
                      <span class="meta"><span class="badge">${this.#kind(h)}</span>${h.page ? html`<span class="muted">${msg(str`Trang ${h.page}`, { id: 'documents.viewer.pageLabel' })}</span>` : nothing}</span>
                      <span class="title">${h.title}</span>
                      <span>${h.snippet.map((p) => (p.hit ? html`<mark>${p.text}</mark>` : p.text))}</span>
                    </a>
                    ${more.length
                      ? html`<div class="pages">
                          <span class="muted">${msg('Các trang khác:', { id: 'search.morePages' })}</span>
                          ${more.map((m) => html`<a class="btn" href=${this.#href(m)}>${m.page}</a>`)}
                        </div>`
                      : nothing}
                  </li>`,
                )}
              </ol>`
          : html`<p class="state">${msg('Không tìm thấy kết quả phù hợp.', { id: 'search.none' })}</p>`
        : nothing}
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-search-view': EcSearchView;
  }
}
