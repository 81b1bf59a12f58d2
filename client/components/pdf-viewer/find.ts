import { msg, str } from '@lit/localize';
import { type ReactiveControllerHost, html, nothing } from 'lit';
import type { PageSlot } from './pages.js';
import { markHits } from './text-layer.js';

/** What find needs of the viewer: its endpoint, the reader's page, the page boxes, navigation. */
export interface FindTarget {
  /** Find-in-document endpoint (`/api/documents/:id/find`). */
  url(): string;
  /** The page the reader is on. */
  current(): number;
  slots(): readonly PageSlot[];
  /** Goes to page `n` on the reader's behalf. */
  goTo(n: number): void;
  /** Scrolls a hit into view (a program scroll, not the reader's). */
  reveal(hit: HTMLElement): void;
}

/**
 * Find-in-document for the PDF viewer: asks the server (folded search, the pages with hits and the
 * terms), marks the hits in the painted text layers, steps between pages with hits, and renders the
 * find form of the toolbar. Its state lives here; each change asks the host to render again.
 */
export class FindController {
  query = '';
  pages: number[] = [];
  terms: string[] = [];
  busy = false;
  done = false;
  /** Page whose first find hit should be scrolled into view once it is painted. */
  #revealHitOn = 0;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly target: FindTarget,
  ) {}

  /** Marks the hits on a painted page (none when the page has none), and reveals the first if asked. */
  highlight(s: PageSlot): void {
    if (!s.text) return;
    markHits(s.text, this.pages.includes(s.n) ? this.terms : []);
    if (this.#revealHitOn === s.n) {
      const hit = s.text.querySelector<HTMLElement>('.hit');
      if (hit) {
        this.#revealHitOn = 0;
        this.target.reveal(hit);
      }
    }
  }

  async run(e?: Event): Promise<void> {
    e?.preventDefault();
    const q = this.query.trim();
    const url = this.target.url();
    if (!q || !url) return;
    this.#set({ busy: true });
    try {
      const res = await fetch(`${url}?q=${encodeURIComponent(q)}`, { credentials: 'same-origin' });
      if (!res.ok) throw new Error(String(res.status));
      const body = (await res.json()) as { terms: string[]; pages: { page: number }[] };
      this.#set({ terms: body.terms, pages: body.pages.map((p) => p.page), done: true });
      for (const s of this.target.slots()) this.highlight(s);
      const next = this.pages.find((p) => p >= this.target.current()) ?? this.pages[0];
      if (next) this.#goToHit(next);
    } catch {
      this.#set({ pages: [], done: true });
    } finally {
      this.#set({ busy: false });
    }
  }

  step(dir: 1 | -1): void {
    if (!this.pages.length) return;
    const cur = this.target.current();
    const next = dir > 0 ? (this.pages.find((p) => p > cur) ?? this.pages[0]) : ([...this.pages].reverse().find((p) => p < cur) ?? this.pages.at(-1)!);
    this.#goToHit(next);
  }

  /** Goes to a page with find hits and brings the first hit into view. */
  #goToHit(n: number) {
    this.#revealHitOn = n;
    this.target.goTo(n);
    const s = this.target.slots()[n - 1];
    if (s?.painted) this.highlight(s);
  }

  #set(patch: Partial<Pick<FindController, 'query' | 'pages' | 'terms' | 'busy' | 'done'>>) {
    Object.assign(this, patch);
    this.host.requestUpdate();
  }

  /** The find form of the toolbar (`ready`: a document is open; `page`: the page shown). */
  render(ready: boolean, page: number) {
    const findIndex = this.pages.indexOf(page);
    return html`<form class="find o9" role="search" @submit=${(e: Event) => this.run(e)}>
      <input
        type="search"
        name="find"
        .value=${this.query}
        placeholder=${msg('Tìm trong tài liệu', { id: 'documents.viewer.findPlaceholder' })}
        aria-label=${msg('Tìm trong tài liệu', { id: 'documents.viewer.findPlaceholder' })}
        @input=${(e: Event) => this.#set({ query: (e.target as HTMLInputElement).value, done: false })}
      />
      <button type="submit" ?disabled=${!ready || this.busy}>${msg('Tìm', { id: 'documents.viewer.find' })}</button>
      ${this.done
        ? this.pages.length
          ? html`<button type="button" class="secondary" title=${msg('Kết quả trước', { id: 'documents.viewer.findPrev' })} @click=${() => this.step(-1)}>↑</button>
              <button type="button" class="secondary" title=${msg('Kết quả sau', { id: 'documents.viewer.findNext' })} @click=${() => this.step(1)}>↓</button>
              <span class="count" data-testid="find-count"
                >${findIndex >= 0
                  ? msg(str`Trang ${findIndex + 1}/${this.pages.length} có kết quả`, { id: 'documents.viewer.findPos' })
                  : msg(str`${this.pages.length} trang có kết quả`, { id: 'documents.viewer.findCount' })}</span
              >`
          : html`<span class="count" data-testid="find-count">${msg('Không thấy kết quả', { id: 'documents.viewer.findNone' })}</span>`
        : nothing}
    </form>`;
  }
}
