import '../components/ec-offline-toggle.js';
import { consume } from '@lit/context';
import { localized, msg } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { Locale, Me } from '../../shared/protocol/auth.js';
import type { MeetingSummary } from '../../shared/protocol/meetings.js';
import type { MeetingList } from '../services/types.js';
import type { Api } from '../services/api.js';
import { apiContext, localeContext, meContext } from '../services/context.js';
import { formatSpan } from '../services/format.js';
import { Loader } from '../services/loader.js';
import { modeLabel, roleLabel, statusLabel } from '../services/labels.js';
import { navigate } from '../services/router.js';
import { sharedRealtime } from '../services/socket.js';
import { sharedStyles } from '../styles/shared.js';

type Tab = 'upcoming' | 'live' | 'past';
const TABS: Tab[] = ['upcoming', 'live', 'past'];

/** The meetings the signed-in user may see (exactly what GET /api/meetings returns), by tab. */
@localized()
@customElement('ec-meeting-list-view')
export class EcMeetingListView extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      .tabs {
        display: flex;
        gap: 0.25rem;
        border-bottom: 2px solid var(--ec-border);
        margin-bottom: 1rem;
        overflow-x: auto;
      }
      .tabs button {
        border: 0;
        border-radius: 8px 8px 0 0;
        background: transparent;
        color: var(--ec-muted);
        margin-bottom: -2px;
        border-bottom: 3px solid transparent;
        padding: 0 1.2rem;
        white-space: nowrap;
      }
      .tabs button[aria-selected='true'] {
        color: var(--ec-primary-strong);
        border-bottom-color: var(--ec-primary);
      }
      ul {
        list-style: none;
        padding: 0;
        margin: 0;
        display: grid;
        gap: 0.75rem;
      }
      li a {
        display: grid;
        grid-template-columns: 1fr auto;
        gap: 0.25rem 1rem;
        text-decoration: none;
        color: inherit;
        padding: 1rem 1.25rem;
        min-height: var(--ec-touch);
      }
      li a:hover {
        background: var(--ec-surface-2);
      }
      li.card {
        padding: 0;
        overflow: hidden;
        border-left: 5px solid var(--ec-primary);
      }
      li.card.live,
      li.card.paused {
        border-left-color: var(--ec-accent);
      }
      li.card.draft {
        border-left-color: #9aa5b5;
      }
      li.card.closed {
        border-left-color: var(--ec-success);
      }
      ec-offline-toggle.offline {
        padding: 0 1.25rem 0.6rem;
      }
      .title {
        font-size: 1.15rem;
        font-weight: 600;
        color: var(--ec-primary-strong);
      }
      .meta {
        color: var(--ec-muted);
        font-size: 0.95rem;
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem 1rem;
      }
      .side {
        display: flex;
        flex-direction: column;
        align-items: flex-end;
        gap: 0.35rem;
        grid-row: span 2;
      }
      @media (max-width: 600px) {
        li a {
          grid-template-columns: 1fr;
        }
        .side {
          grid-row: auto;
          flex-direction: row;
          align-items: center;
          justify-content: flex-start;
        }
      }
    `,
  ];

  @property({ attribute: false }) params: Record<string, string> = {};
  @property({ attribute: false }) query = new URLSearchParams();
  @consume({ context: apiContext }) private api!: Api;
  @consume({ context: meContext, subscribe: true }) private me: Me | null = null;
  @consume({ context: localeContext, subscribe: true }) private locale: Locale = 'vi';

  @state() private tab: Tab = 'upcoming';
  #meetings = new Loader(this, async () => (await this.api.get<MeetingList>('/api/meetings', { scope: this.tab })).meetings);
  #unsubscribe: (() => void) | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    const t = this.query.get('tab');
    this.tab = TABS.includes(t as Tab) ? (t as Tab) : 'upcoming';
    void this.#load();
    // A meeting published to me (or changed, cancelled) is pushed as a notification: refresh the
    // list in place, without a spinner.
    this.#unsubscribe = sharedRealtime().on('notifications:new', (push) => {
      if (push.data.kind.startsWith('meeting_')) void this.#load(true);
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  #load(quiet = false) {
    return this.#meetings.load({ keepValue: quiet });
  }

  #select(t: Tab) {
    if (t === this.tab) return;
    this.tab = t;
    history.replaceState(null, '', t === 'upcoming' ? location.pathname : `${location.pathname}?tab=${t}`);
    void this.#load();
  }

  #tabLabel(t: Tab) {
    return t === 'upcoming'
      ? msg('Sắp diễn ra', { id: 'meetings.tab.upcoming' })
      : t === 'live'
        ? msg('Đang diễn ra', { id: 'meetings.tab.live' })
        : msg('Đã qua', { id: 'meetings.tab.past' });
  }

  #onTabKey(e: KeyboardEvent) {
    const i = TABS.indexOf(this.tab);
    const next = e.key === 'ArrowRight' ? TABS[(i + 1) % 3] : e.key === 'ArrowLeft' ? TABS[(i + 2) % 3] : null;
    if (!next) return;
    e.preventDefault();
    this.#select(next);
    void this.updateComplete.then(() => (this.renderRoot.querySelector(`#tab-${next}`) as HTMLElement | null)?.focus());
  }

  override render() {
    const canCreate = !!this.me && (this.me.systemRole === 'admin' || this.me.secretaryOf.length > 0);
    return html`<div class="page">
      <div class="row" style="margin-bottom:0.75rem">
        <h1 style="margin:0">${msg('Cuộc họp', { id: 'meetings.title' })}</h1>
        <span class="spacer"></span>
        ${canCreate ? html`<button class="primary" data-testid="new-meeting" @click=${() => navigate('/meetings/new')}>+ ${msg('Tạo cuộc họp', { id: 'meetings.create' })}</button>` : nothing}
      </div>
      <div class="tabs" role="tablist" @keydown=${this.#onTabKey}>
        ${TABS.map(
          (t) => html`<button role="tab" id="tab-${t}" aria-selected=${t === this.tab} tabindex=${t === this.tab ? 0 : -1} aria-controls="panel" @click=${() => this.#select(t)}>
            ${this.#tabLabel(t)}
          </button>`,
        )}
      </div>
      <div id="panel" role="tabpanel" aria-labelledby="tab-${this.tab}">${this.#list()}</div>
    </div>`;
  }

  #list() {
    const meetings = this.#meetings.value;
    const error = this.#meetings.error;
    if (error)
      return html`<div class="error" role="alert">
        ${error.code === 'network' ? msg('Không kết nối được máy chủ.', { id: 'app.networkError' }) : msg('Không tải được danh sách cuộc họp.', { id: 'meetings.loadFailed' })}
        <button @click=${() => void this.#load()}>${msg('Thử lại', { id: 'app.retry' })}</button>
      </div>`;
    if (!meetings) return html`<div class="state" role="status"><span class="spinner"></span> ${msg('Đang tải…', { id: 'app.loading' })}</div>`;
    if (meetings.length === 0)
      return html`<div class="card state" data-testid="meetings-empty">
        ${this.tab === 'upcoming'
          ? msg('Không có cuộc họp sắp diễn ra.', { id: 'meetings.empty.upcoming' })
          : this.tab === 'live'
            ? msg('Không có cuộc họp nào đang diễn ra.', { id: 'meetings.empty.live' })
            : msg('Chưa có cuộc họp nào đã qua.', { id: 'meetings.empty.past' })}
      </div>`;
    return html`<ul data-testid="meeting-list">
      ${meetings.map(
        (m) => html`<li class="card ${m.status}" data-meeting-id=${m.id}>
          <a href="/meetings/${m.id}">
            <span class="title">${m.title}</span>
            <span class="side">
              <span class="badge ${m.status}">${statusLabel(m.status)}</span>
              ${m.myRole ? html`<span class="muted" style="font-size:0.9rem">${roleLabel(m.myRole)}</span>` : nothing}
            </span>
            <span class="meta">
              <span>${formatSpan(m.startsAt, m.endsAt, this.locale)}</span>
              <span>${m.roomName ?? modeLabel(m.mode)}</span>
              <span>${m.committeeName}</span>
            </span>
          </a>
          ${m.status === 'draft' ? nothing : html`<ec-offline-toggle class="offline" .meetingId=${m.id}></ec-offline-toggle>`}
        </li>`,
      )}
    </ul>`;
  }
}
