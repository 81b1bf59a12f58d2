import { localized, msg } from '@lit/localize';
import { provide } from '@lit/context';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import type { Locale, Me } from '../shared/protocol/auth.js';
import './components/ec-language-switch.js';
import './components/ec-notification-bell.js';
import './components/ec-offline-banner.js';
import { applyLocale } from './i18n/locale.js';
import { Api } from './services/api.js';
import { startOffline } from './services/offline.js';
import { connectivity } from './services/connectivity.js';
import { apiContext, localeContext, meContext } from './services/context.js';
import { matchRoute, navigate, type RouteMatch } from './services/router.js';
import { MEETING_REVOKED } from './services/socket.js';
import { sharedStyles } from './styles/shared.js';

const LOCALE_KEY = 'ec-locale';
/** sessionStorage: the language picked while signed out (login page); it becomes the account's at login. */
const LOCALE_CHOSEN_KEY = 'ec-locale-chosen';
/**
 * localStorage: a language a signed-in user picked that the server has not confirmed storing yet (`{ userId, locale }`):
 * the PATCH failed, or the page was left or reloaded while it was in flight (a navigation cancels it). At the next
 * start it wins over the account's and is sent again — else the app came back in the old language.
 */
const LOCALE_UNSAVED_KEY = 'ec-locale-unsaved';

function unsavedLocale(userId: number): Locale | null {
  try {
    const v = JSON.parse(localStorage.getItem(LOCALE_UNSAVED_KEY) ?? 'null') as { userId?: unknown; locale?: unknown } | null;
    return v && v.userId === userId && (v.locale === 'vi' || v.locale === 'en') ? v.locale : null;
  } catch {
    return null;
  }
}

/** Event a view dispatches (bubbling, composed) after a successful login; detail is the Me. */
export type LoginEvent = CustomEvent<Me>;

/**
 * Application shell: header (app name, navigation, language, notifications, user), the offline
 * banner and the routed view. Provides the api service, the current user and the locale via
 * @lit/context. Routes come from client/routes.ts.
 */
@localized()
@customElement('ec-app')
export class EcApp extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: flex;
        flex-direction: column;
        min-height: 100vh;
      }
      header {
        background: var(--ec-primary-strong);
        color: #fff;
        border-bottom: 4px solid var(--ec-gold);
      }
      .bar {
        max-width: 1200px;
        margin: 0 auto;
        display: flex;
        align-items: center;
        gap: 0.5rem;
        padding: 0.4rem 1rem;
        flex-wrap: wrap;
      }
      .brand {
        display: flex;
        align-items: center;
        gap: 0.6rem;
        color: #fff;
        text-decoration: none;
        min-height: var(--ec-touch);
        margin-right: 0.75rem;
      }
      .brand .logo {
        width: 36px;
        height: 36px;
        border-radius: 8px;
        background: var(--ec-gold);
        color: var(--ec-primary-strong);
        display: grid;
        place-items: center;
        font-weight: 700;
      }
      .brand b {
        font-size: 1.15rem;
        display: block;
        line-height: 1.1;
      }
      .brand small {
        font-size: 0.78rem;
        opacity: 0.8;
      }
      nav {
        display: flex;
        gap: 0.25rem;
        flex-wrap: wrap;
      }
      nav a {
        color: #dfe7f5;
        text-decoration: none;
        min-height: var(--ec-touch);
        display: inline-flex;
        align-items: center;
        padding: 0 0.85rem;
        border-radius: 8px;
        font-weight: 500;
      }
      nav a:hover {
        background: rgb(255 255 255 / 10%);
      }
      nav a[aria-current='page'] {
        background: rgb(255 255 255 / 16%);
        color: #fff;
      }
      .user {
        display: flex;
        align-items: center;
        gap: 0.4rem;
      }
      .who {
        text-align: right;
        line-height: 1.2;
        font-size: 0.9rem;
        color: inherit;
        text-decoration: none;
        min-height: 44px;
        display: flex;
        flex-direction: column;
        justify-content: center;
        padding: 0 0.25rem;
        border-radius: 6px;
      }
      .who:hover,
      .who:focus-visible {
        background: rgb(255 255 255 / 12%);
      }
      .account-icon {
        display: none;
        color: inherit;
        min-width: 44px;
        min-height: 44px;
        align-items: center;
        justify-content: center;
        border-radius: 6px;
      }
      .who small {
        display: block;
        opacity: 0.75;
        font-size: 0.78rem;
      }
      header button {
        background: transparent;
        color: #fff;
        border-color: rgb(255 255 255 / 35%);
      }
      header button:hover:not(:disabled) {
        background: rgb(255 255 255 / 12%);
      }
      main {
        flex: 1;
      }
      @media (max-width: 1180px) {
        .brand small,
        .logout .label {
          display: none;
        }
        .logout {
          padding: 0 0.6rem;
        }
        nav a {
          padding: 0 0.6rem;
        }
        .bar {
          padding: 0.4rem 0.75rem;
        }
        .brand {
          margin-right: 0.25rem;
        }
        .who small {
          display: none;
        }
        .who {
          max-width: 9rem;
          overflow: hidden;
          text-overflow: ellipsis;
          white-space: nowrap;
        }
      }
      @media (max-width: 700px) {
        .brand small,
        .who,
        .logout .label {
          display: none;
        }
        .account-icon {
          display: inline-flex;
        }
        .logout {
          padding: 0 0.6rem;
        }
        .brand {
          margin-right: 0;
        }
        /* Every tab stays visible on a phone: the strip wraps onto a second row instead of
           scrolling sideways (a scrolled strip showed 'Tìm k…' cut at the edge). */
        nav {
          order: 10;
          width: 100%;
          flex-wrap: wrap;
          gap: 0.15rem;
        }
        nav a {
          white-space: nowrap;
          flex: 1 1 auto;
          justify-content: center;
          padding: 0 0.5rem;
        }
      }
      .page.revoked {
        padding-bottom: 0;
      }
      .page.revoked .notice {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        justify-content: space-between;
        gap: 0.75rem;
        margin: 0;
      }
    `,
  ];

  @provide({ context: apiContext })
  api = new Api({
    onUnauthenticated: () => this.#signedOut(),
    onConnectivity: (online) => connectivity.report(online),
  });

  @provide({ context: meContext })
  @state()
  me: Me | null = null;

  @provide({ context: localeContext })
  @state()
  locale: Locale = (localStorage.getItem(LOCALE_KEY) as Locale | null) === 'en' ? 'en' : 'vi';

  /** False until /api/auth/me has answered. */
  @state() private booted = false;
  @state() private match: RouteMatch | null = null;
  @state() private view: HTMLElement | null = null;
  @state() private viewError = false;
  /** Set when the server revoked access to the meeting of the open view (shown on the meeting list). */
  @state() private revoked = false;
  #renderSeq = 0;

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('popstate', this.#onLocation);
    window.addEventListener('ec-navigate', this.#onLocation);
    this.addEventListener('click', this.#onClick);
    this.addEventListener('ec-login', this.#onLogin);
    this.addEventListener('ec-locale', this.#onLocale);
    window.addEventListener(MEETING_REVOKED, this.#onRevoked);
    void this.#boot();
  }

  override disconnectedCallback(): void {
    window.removeEventListener('popstate', this.#onLocation);
    window.removeEventListener('ec-navigate', this.#onLocation);
    this.removeEventListener('click', this.#onClick);
    this.removeEventListener('ec-login', this.#onLogin);
    this.removeEventListener('ec-locale', this.#onLocale);
    window.removeEventListener(MEETING_REVOKED, this.#onRevoked);
    super.disconnectedCallback();
  }

  async #boot(): Promise<void> {
    await applyLocale(this.locale);
    try {
      const me = await this.api.get<Me>('/api/auth/me');
      // A session that still owes this sign-in's code is not signed in: the login page asks again.
      this.me = me.restriction === 'mfa_required' ? null : me;
      if (!this.me) throw new Error('second factor owed');
      startOffline(this.api, this.me);
      // Started without network (the account came from the tablet's offline copy): the language last
      // chosen on this tablet wins over the copy's, which may be older. A choice the server never confirmed wins
      // too, and is stored on the account now.
      const unsaved = unsavedLocale(this.me.id);
      if (unsaved) await this.#setLocale(unsaved, true);
      else await this.#setLocale(connectivity.online ? this.me.locale : this.locale, false);
    } catch {
      this.me = null;
    }
    this.booted = true;
    await this.#route();
  }

  #onLocation = () => void this.#route();

  /**
   * The server revoked the user's access to a meeting (client/services/socket.ts): if the open view
   * shows that meeting (a `/meetings/:id…` page, or a document view whose `meetingScope` is it), leave
   * it for the meeting list with a notice. Its sockets, Yjs documents and offline copy are released by
   * their own services on the same event.
   */
  #onRevoked = (e: Event) => {
    const { meetingId } = (e as CustomEvent<{ meetingId: number }>).detail;
    const m = this.match;
    const fromPath = m && m.route.path.startsWith('/meetings/:id') ? Number(m.params.id) : null;
    const shown = fromPath ?? (this.view as { meetingScope?: number | null } | null)?.meetingScope ?? null;
    if (shown !== meetingId) return;
    this.revoked = true;
    navigate('/meetings', { replace: true });
  };

  /** Same-origin <a href> clicks anywhere (also inside shadow roots) become client-side navigation. */
  #onClick = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = e.composedPath().find((n): n is HTMLAnchorElement => n instanceof HTMLAnchorElement);
    if (!a || !a.href || a.target || a.hasAttribute('download') || a.origin !== location.origin) return;
    if (a.pathname.startsWith('/api/')) return;
    e.preventDefault();
    navigate(a.pathname + a.search);
  };

  #onLogin = async (e: Event) => {
    const me = (e as LoginEvent).detail;
    this.me = me;
    startOffline(this.api, me);
    // A language picked on the login page wins over the account's and is stored on it.
    const chosen = sessionStorage.getItem(LOCALE_CHOSEN_KEY);
    sessionStorage.removeItem(LOCALE_CHOSEN_KEY);
    if (chosen === 'vi' || chosen === 'en') await this.#setLocale(chosen, chosen !== me.locale);
    else await this.#setLocale(me.locale, false);
    // A session that owes a password change or a second factor opens the account page first.
    if (me.restriction) return navigate('/account', { replace: true });
    const next = new URLSearchParams(location.search).get('next');
    navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/meetings', { replace: true });
  };

  /** Any <ec-language-switch> (header, login page) bubbles `ec-locale` up to here. */
  #onLocale = (e: Event) => {
    const locale = (e as CustomEvent<Locale>).detail;
    if (!this.me) sessionStorage.setItem(LOCALE_CHOSEN_KEY, locale);
    void this.#setLocale(locale, true);
  };

  #signedOut(): void {
    // Before boot finishes a 401 is the expected answer of /api/auth/me; #boot routes by itself.
    if (!this.booted || (!this.me && this.match?.route.public)) return;
    this.me = null;
    const here = location.pathname + location.search;
    navigate(here.startsWith('/login') ? here : `/login?next=${encodeURIComponent(here)}`, { replace: true });
  }

  async #logout(): Promise<void> {
    try {
      await this.api.post('/api/auth/logout');
    } catch {
      /* the session may already be gone; either way we show the login page */
    }
    this.me = null;
    // Services holding per-user offline data (annotations in IndexedDB) clear it on this event.
    window.dispatchEvent(new Event('ec-logout'));
    navigate('/login', { replace: true });
  }

  /** Applies a locale; when signed in and `persist`, stores it on the account (PATCH /api/auth/me). */
  async #setLocale(locale: Locale, persist: boolean): Promise<void> {
    localStorage.setItem(LOCALE_KEY, locale);
    await applyLocale(locale);
    this.locale = locale;
    if (persist && this.me) {
      const userId = this.me.id;
      localStorage.setItem(LOCALE_UNSAVED_KEY, JSON.stringify({ userId, locale }));
      try {
        this.me = await this.api.patch<Me>('/api/auth/me', { locale });
        // Confirmed, unless the user switched again meanwhile (that choice's own PATCH clears it).
        if (unsavedLocale(userId) === locale) localStorage.removeItem(LOCALE_UNSAVED_KEY);
      } catch {
        /* kept locally (LOCALE_UNSAVED_KEY): sent again at the next start or switch */
      }
    }
  }

  async #route(): Promise<void> {
    const seq = ++this.#renderSeq;
    const match = matchRoute(location.pathname, location.search);
    if (this.revoked && location.pathname !== '/meetings') this.revoked = false;
    if (match && !match.route.public && !this.me) {
      navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
      return;
    }
    // Until a reset password is changed or a required second factor enrolled, only the account page opens.
    if (this.me?.restriction && this.me.restriction !== 'mfa_required' && match?.route.path !== '/account') {
      navigate('/account', { replace: true });
      return;
    }
    if (match?.route.public && this.me && match.route.path === '/login') {
      navigate('/meetings', { replace: true });
      return;
    }
    this.match = match;
    this.viewError = false;
    if (!match || (match.route.admin && this.me?.systemRole !== 'admin')) {
      this.view = null;
      return;
    }
    try {
      await match.route.load();
    } catch {
      if (seq === this.#renderSeq) this.viewError = true;
      return;
    }
    if (seq !== this.#renderSeq) return;
    const el = document.createElement(match.route.tag) as HTMLElement & { params?: Record<string, string>; query?: URLSearchParams };
    el.params = match.params;
    el.query = match.query;
    this.view = el;
    window.scrollTo(0, 0);
  }

  /**
   * On a phone the tab strip scrolls sideways: keep the current tab in view (without scrolling the
   * page itself, which `scrollIntoView` would do).
   */
  protected override updated(): void {
    const nav = this.renderRoot.querySelector('nav');
    const current = nav?.querySelector<HTMLElement>('a[aria-current="page"]');
    if (!nav || !current || nav.scrollWidth <= nav.clientWidth) return;
    const n = nav.getBoundingClientRect();
    const a = current.getBoundingClientRect();
    if (a.left < n.left) nav.scrollLeft -= n.left - a.left + 8;
    else if (a.right > n.right) nav.scrollLeft += a.right - n.right + 8;
  }

  override render() {
    return html`
      ${this.me && !this.match?.route.kiosk ? this.#header() : nothing}
      <ec-offline-banner></ec-offline-banner>
      <main id="main">${this.revoked ? this.#revokedNotice() : nothing}${this.#main()}</main>
    `;
  }

  #revokedNotice() {
    return html`<div class="page revoked"><p class="notice" role="alert" data-testid="meeting-revoked">
        ${msg('Bạn không còn quyền truy cập cuộc họp vừa mở. Trang của cuộc họp đã được đóng và bản lưu ngoại tuyến trên thiết bị này đã được xóa.', { id: 'app.meetingRevoked' })}
        <button @click=${() => (this.revoked = false)}>${msg('Đã hiểu', { id: 'app.meetingRevoked.ok' })}</button>
      </p></div>`;
  }

  #main() {
    if (!this.booted) return html`<div class="state" role="status"><span class="spinner"></span> ${msg('Đang tải…', { id: 'app.loading' })}</div>`;
    if (this.viewError)
      return html`<div class="page"><p class="error" role="alert">${msg('Không tải được trang. Kiểm tra kết nối và thử lại.', { id: 'app.viewLoadFailed' })}</p>
          <button @click=${() => void this.#route()}>${msg('Thử lại', { id: 'app.retry' })}</button></div>`;
    if (!this.match || (this.match.route.admin && this.me?.systemRole !== 'admin'))
      return html`<div class="page"><h1>${msg('Không tìm thấy trang', { id: 'app.notFound' })}</h1>
          <p class="muted">${msg('Trang này không tồn tại hoặc bạn không có quyền xem.', { id: 'app.notFoundHint' })}</p>
          <a class="btn" href="/meetings">${msg('Về danh sách cuộc họp', { id: 'app.backToMeetings' })}</a></div>`;
    if (!this.view) return html`<div class="state" role="status"><span class="spinner"></span> ${msg('Đang tải…', { id: 'app.loading' })}</div>`;
    return this.view;
  }

  #header() {
    const me = this.me!;
    const section = this.match?.route.section;
    const path = location.pathname;
    const cur = (p: string) => (path.startsWith(p) ? 'page' : undefined);
    return html`<header>
      <div class="bar">
        <a class="brand" href="/meetings"
          ><span class="logo" aria-hidden="true">EC</span><span><b>E-Cabinet</b><small>${msg('Phòng họp không giấy', { id: 'app.tagline' })}</small></span></a
        >
        <nav aria-label=${msg('Điều hướng chính', { id: 'app.mainNav' })}>
          <a href="/meetings" aria-current=${(section === 'meetings' ? 'page' : undefined) ?? nothing}>${msg('Cuộc họp', { id: 'app.nav.meetings' })}</a>
          <a href="/tasks" aria-current=${cur('/tasks') ?? nothing}>${msg('Nhiệm vụ', { id: 'tasks.nav' })}</a>
          <a href="/consultations" aria-current=${cur('/consultations') ?? nothing}>${msg('Lấy ý kiến', { id: 'app.nav.consultations' })}</a>
          <a href="/search" aria-current=${cur('/search') ?? nothing}>${msg('Tìm kiếm', { id: 'app.nav.search' })}</a>
          ${me.systemRole === 'admin'
            ? html`<a href="/admin/users" aria-current=${cur('/admin/users') ?? nothing}>${msg('Người dùng', { id: 'app.nav.users' })}</a>
                <a href="/admin/committees" aria-current=${cur('/admin/committees') ?? nothing}>${msg('Ban chỉ đạo', { id: 'app.nav.committees' })}</a>
                <a href="/admin/rooms" aria-current=${cur('/admin/rooms') ?? nothing}>${msg('Phòng họp', { id: 'app.nav.rooms' })}</a>`
            : nothing}
        </nav>
        <span class="spacer"></span>
        <div class="user">
          <ec-language-switch .locale=${this.locale}></ec-language-switch>
          <ec-notification-bell></ec-notification-bell>
          <a class="who" href="/account" data-testid="current-user" title=${msg('Tài khoản của tôi', { id: 'account.title' })}
            >${me.fullName}<small>${me.title ?? me.username}</small></a
          >
          <a class="account-icon" href="/account" aria-label=${msg('Tài khoản của tôi', { id: 'account.title' })}
            ><svg width="22" height="22" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"
              ><circle cx="12" cy="8" r="4" /><path d="M4 21a8 8 0 0 1 16 0" /></svg
          ></a>
          <button class="logout" aria-label=${msg('Đăng xuất', { id: 'app.logout' })} @click=${() => void this.#logout()}>
            <svg width="22" height="22" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
              <path d="M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4" /><path d="m16 17 5-5-5-5" /><path d="M21 12H9" />
            </svg>
            <span class="label">${msg('Đăng xuất', { id: 'app.logout' })}</span>
          </button>
        </div>
      </div>
    </header>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-app': EcApp;
  }
}
