import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { SearchHit, SearchResults } from '../../shared/protocol/search.js';
import type { Api } from '../services/api.js';
import { apiContext } from '../services/context.js';
import { Loader } from '../services/loader.js';
import { navigate } from '../services/router.js';
import { sharedStyles } from '../styles/shared.js';

type Parts = SearchHit['snippet'];
type Filter = 'all' | 'document' | 'meeting' | 'agenda_item' | 'other';

const KNOWN = new Set(['document', 'meeting', 'agenda_item']);
const filterOf = (h: SearchHit): Filter => (KNOWN.has(h.kind) ? (h.kind as Filter) : 'other');

/** Text parts with the matched words in `<mark>`: rendered as text by lit (never as HTML). */
const marked = (parts: Parts) => parts.map((p) => (p.hit ? html`<mark>${p.text}</mark>` : p.text));

/**
 * Search across meetings, agenda items, documents, minutes and conclusions: `/search?q=…[&meetingId=…]`.
 * One card per thing in rank order (the server groups pages: a document appears once, with its best
 * pages as links under it); the matched words are highlighted in titles and snippets; a filter by kind.
 * Works with or without Vietnamese marks; words in quotes are searched as a phrase.
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
        margin-bottom: 0.25rem;
      }
      form input {
        flex: 1;
        min-width: 0;
      }
      .tip {
        margin: 0 0 1rem;
        font-size: 0.9rem;
      }
      .filters {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
        margin: 0 0 0.75rem;
        padding: 0;
        list-style: none;
      }
      .filters button {
        min-height: var(--ec-touch);
        border-radius: 999px;
        padding: 0.3rem 0.9rem;
        background: var(--ec-surface, #fff);
        border: 1px solid var(--ec-border, #c9d1dc);
        color: inherit;
        font: inherit;
        cursor: pointer;
      }
      .filters button[aria-pressed='true'] {
        background: var(--ec-primary);
        border-color: var(--ec-primary);
        color: #fff;
      }
      ol.results {
        list-style: none;
        padding: 0;
        margin: 0;
        display: grid;
        gap: 0.75rem;
      }
      .hit > a {
        display: flex;
        flex-direction: column;
        gap: 0.3rem;
        text-decoration: none;
        color: inherit;
        min-height: var(--ec-touch);
        border-radius: 6px;
      }
      .hit > a:focus-visible,
      .pages a:focus-visible {
        outline: 3px solid var(--ec-primary);
        outline-offset: 2px;
      }
      .hit .title {
        font-weight: 600;
        font-size: 1.05rem;
        color: var(--ec-primary-strong, var(--ec-primary));
        overflow-wrap: anywhere;
      }
      .hit .snippet {
        overflow-wrap: anywhere;
      }
      mark {
        background: #ffe08a;
        color: inherit;
        padding: 0 1px;
        border-radius: 2px;
      }
      .meta {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
        font-size: 0.9rem;
      }
      .pages {
        list-style: none;
        margin: 0.6rem 0 0;
        padding: 0 0 0 0.75rem;
        border-left: 3px solid var(--ec-primary-soft, #dbe7f5);
        display: grid;
        gap: 0.35rem;
      }
      .pages a {
        display: flex;
        gap: 0.6rem;
        align-items: baseline;
        min-height: var(--ec-touch);
        padding: 0.35rem 0.25rem;
        text-decoration: none;
        color: inherit;
        border-radius: 6px;
      }
      .pages .pg {
        flex: none;
        font-weight: 600;
        color: var(--ec-primary-strong, var(--ec-primary));
        white-space: nowrap;
      }
      .pages .snippet {
        font-size: 0.92rem;
        overflow-wrap: anywhere;
      }
      .error button {
        margin-left: 0.5rem;
      }
    `,
  ];

  @property({ attribute: false }) params: Record<string, string> = {};
  @property({ attribute: false }) query: URLSearchParams = new URLSearchParams();
  @consume({ context: apiContext }) private api!: Api;

  // A slower, older answer never replaces a newer one (the loader drops it).
  #results = new Loader(this, () => this.api.get<SearchResults>('/api/search', { q: this.q.trim(), meetingId: this.query.get('meetingId') ?? undefined, limit: 50 }), {
    onValue: () => (this.filter = 'all'),
  });
  @state() private q = '';
  @state() private filter: Filter = 'all';
  @query('input[type=search]') private input!: HTMLInputElement;

  override connectedCallback(): void {
    super.connectedCallback();
    this.q = this.query.get('q') ?? '';
    if (this.q.trim()) void this.#search();
  }

  override firstUpdated(): void {
    if (!this.q.trim()) this.input?.focus();
  }

  #search() {
    return this.#results.load({ keepValue: true });
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

  #href(h: SearchHit, page = h.page): string {
    if (h.kind === 'document') return `/documents/${h.refId}${page ? `?page=${page}` : ''}`;
    if (h.meetingId) return `/meetings/${h.meetingId}`;
    return '#';
  }

  #kind(kind: string) {
    if (kind === 'document') return msg('Tài liệu', { id: 'search.kind.document' });
    if (kind === 'meeting') return msg('Phiên họp', { id: 'search.kind.meeting' });
    if (kind === 'agenda_item') return msg('Nội dung chương trình', { id: 'search.kind.agenda' });
    if (kind === 'minutes') return msg('Biên bản', { id: 'search.kind.minutes' });
    if (kind === 'conclusion') return msg('Kết luận', { id: 'search.kind.conclusion' });
    return kind;
  }

  #filterLabel(f: Filter) {
    if (f === 'all') return msg('Tất cả', { id: 'search.filter.all' });
    if (f === 'document') return msg('Tài liệu', { id: 'search.kind.document' });
    if (f === 'meeting') return msg('Phiên họp', { id: 'search.kind.meeting' });
    if (f === 'agenda_item') return msg('Nội dung chương trình', { id: 'search.kind.agenda' });
    return msg('Biên bản, kết luận', { id: 'search.filter.other' });
  }

  #filters(hits: SearchHit[]) {
    const counts = new Map<Filter, number>();
    for (const h of hits) counts.set(filterOf(h), (counts.get(filterOf(h)) ?? 0) + 1);
    const shown: Filter[] = ['all', ...(['document', 'meeting', 'agenda_item', 'other'] as Filter[]).filter((f) => counts.get(f))];
    if (shown.length <= 2) return nothing;
    return html`<ul class="filters" aria-label=${msg('Lọc theo loại', { id: 'search.filter.label' })}>
      ${shown.map(
        (f) =>
          html`<li>
            <button type="button" aria-pressed=${this.filter === f ? 'true' : 'false'} data-filter=${f} @click=${() => (this.filter = f)}>
              ${this.#filterLabel(f)} (${f === 'all' ? hits.length : counts.get(f)})
            </button>
          </li>`,
      )}
    </ul>`;
  }

  #hit(h: SearchHit) {
    const extraPages = h.kind === 'document' ? h.pages : [];
    return html`<li class="card hit" data-kind=${h.kind} data-ref=${h.refId}>
      <a href=${this.#href(h)}>
        <span class="meta">
          <span class="badge">${this.#kind(h.kind)}</span>
          ${h.kind !== 'meeting' && h.meetingTitle ? html`<span class="muted">${h.meetingTitle}</span>` : nothing}
        </span>
        <span class="title">${marked(h.titleParts.length ? h.titleParts : [{ text: h.title, hit: false }])}</span>
        ${extraPages.length === 0 && h.snippet.some((p) => p.text.trim()) && h.snippet.map((p) => p.text).join('') !== h.title
          ? html`<span class="snippet">${marked(h.snippet)}</span>`
          : nothing}
      </a>
      ${extraPages.length
        ? html`<ul class="pages" aria-label=${msg(str`Các trang phù hợp nhất của ${h.title}`, { id: 'search.bestPages' })}>
            ${extraPages.map(
              (p) => html`<li>
                <a href=${this.#href(h, p.page)} data-page=${p.page}>
                  <span class="pg">${msg(str`Trang ${p.page}`, { id: 'documents.viewer.pageLabel' })}</span>
                  <span class="snippet">${marked(p.snippet)}</span>
                </a>
              </li>`,
            )}
          </ul>`
        : nothing}
    </li>`;
  }

  #body() {
    if (this.#results.loading)
      return html`<div class="state" role="status"><span class="spinner" aria-hidden="true"></span> ${msg('Đang tìm…', { id: 'search.loading' })}</div>`;
    const error = this.#results.error;
    if (error)
      return html`<p class="error" role="alert">
        ${error.code === 'network' ? msg('Không kết nối được máy chủ. Kiểm tra mạng rồi thử lại.', { id: 'documents.pack.network' }) : error.message}
        <button type="button" @click=${() => void this.#search()}>${msg('Thử lại', { id: 'search.retry' })}</button>
      </p>`;
    if (!this.#results.value) return html`<p class="state">${msg('Nhập từ khóa: tên phiên họp, nội dung chương trình, tên hoặc nội dung tài liệu.', { id: 'search.start' })}</p>`;
    const hits = this.#results.value.hits;
    if (!hits.length)
      return html`<div class="state" role="status">
        <p>${msg('Không tìm thấy kết quả phù hợp.', { id: 'search.none' })}</p>
        <p>${msg('Thử ít từ hơn, hoặc bỏ dấu ngoặc kép.', { id: 'search.noneTip' })}</p>
      </div>`;
    const shown = this.filter === 'all' ? hits : hits.filter((h) => filterOf(h) === this.filter);
    return html`<p class="muted" role="status">${msg(str`${hits.length} kết quả`, { id: 'search.count' })}</p>
      ${this.#filters(hits)}
      <ol class="results">
        ${shown.map((h) => this.#hit(h))}
      </ol>`;
  }

  override render() {
    return html`<div class="page">
      <h1>${msg('Tìm kiếm', { id: 'search.title' })}</h1>
      <form role="search" @submit=${this.#submit}>
        <input
          type="search"
          name="q"
          maxlength="200"
          .value=${this.q}
          placeholder=${msg('Ví dụ: chuyen doi so', { id: 'search.placeholder' })}
          aria-label=${msg('Từ khóa', { id: 'search.keywords' })}
          aria-describedby="search-tip"
          @input=${(e: Event) => (this.q = (e.target as HTMLInputElement).value)}
        />
        <button class="primary" type="submit" ?disabled=${this.#results.loading}>${msg('Tìm', { id: 'documents.viewer.find' })}</button>
      </form>
      <p class="tip muted" id="search-tip">${msg('Gõ có dấu hoặc không dấu; đặt cụm từ trong "ngoặc kép" để tìm đúng cụm từ.', { id: 'search.tip' })}</p>
      ${this.#body()}
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-search-view': EcSearchView;
  }
}
