import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { Locale, Me, SessionList } from '../../shared/protocol/auth.js';
import { ApiError, type Api } from '../services/api.js';
import { apiContext, localeContext, meContext } from '../services/context.js';
import { formatDateTime } from '../services/format.js';
import { Loader } from '../services/loader.js';
import { sharedStyles } from '../styles/shared.js';

type Session = SessionList['sessions'][number];

/**
 * My account: change my password, my second factor (TOTP: enrol with an authenticator app, turn it
 * off when the policy allows), and the devices signed in as me (end any other one). A session that
 * must first change a reset password or enrol a required second factor is sent here by the shell and
 * sees only the step it owes; finishing it re-announces the account (`ec-login`) and the app opens.
 */
@localized()
@customElement('ec-account-view')
export class EcAccountView extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      .page {
        max-width: 760px;
        margin: 0 auto;
        padding: 1rem;
      }
      h1 {
        font-size: 1.4rem;
        color: var(--ec-primary-strong);
      }
      section {
        background: var(--ec-surface, #fff);
        border: 1px solid var(--ec-border, #d0d7e2);
        border-radius: 10px;
        padding: 1rem;
        margin-bottom: 1rem;
      }
      h2 {
        font-size: 1.1rem;
        margin: 0 0 0.5rem;
      }
      form {
        display: grid;
        gap: 0.75rem;
        max-width: 28rem;
      }
      .secret {
        font-family: ui-monospace, monospace;
        font-size: 1.05rem;
        letter-spacing: 0.08em;
        word-break: break-all;
        background: var(--ec-bg, #f4f6fa);
        padding: 0.5rem;
        border-radius: 6px;
      }
      ul {
        list-style: none;
        padding: 0;
        margin: 0;
      }
      li {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5rem;
        padding: 0.5rem 0;
        border-top: 1px solid var(--ec-border, #d0d7e2);
      }
      li .what {
        flex: 1 1 16rem;
        min-width: 0;
        overflow-wrap: anywhere;
      }
      .muted {
        color: var(--ec-muted);
      }
      a.link {
        display: inline-flex;
        align-items: center;
        min-height: 44px;
      }
    `,
  ];

  @property({ attribute: false }) params: Record<string, string> = {};
  @consume({ context: apiContext }) private api!: Api;
  @consume({ context: meContext, subscribe: true }) private me: Me | null = null;
  @consume({ context: localeContext, subscribe: true }) private locale: Locale = 'vi';
  #sessions = new Loader(this, async () => (await this.api.get<SessionList>('/api/auth/sessions')).sessions);
  @state() private enrolment: { secret: string; otpauthUri: string } | null = null;
  @state() private notice: string | null = null;
  @state() private error: { where: 'password' | 'mfa' | 'sessions'; text: string } | null = null;
  @state() private busy = false;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#loadSessions();
  }

  /** The devices signed in as me, refreshed in place (not while a step is owed: that page does not list them). */
  async #loadSessions() {
    if (this.me?.restriction) return;
    await this.#sessions.load({ keepValue: true, keepError: true });
  }

  #explain(err: unknown): string {
    const code = err instanceof ApiError ? err.code : 'internal';
    if (code === 'weak_password') return msg('Mật khẩu mới chưa đủ mạnh: cần ít nhất 12 ký tự, không phổ biến, không chứa tên đăng nhập.', { id: 'account.weak' });
    if (code === 'invalid_credentials') return msg('Mật khẩu hiện tại không đúng.', { id: 'account.wrongCurrent' });
    if (code === 'invalid_mfa_code') return msg('Mã xác thực không đúng hoặc đã được dùng. Hãy nhập mã mới.', { id: 'account.wrongCode' });
    if (code === 'rate_limited') return msg('Sai quá nhiều lần. Vui lòng thử lại sau ít phút.', { id: 'account.rateLimited' });
    if (code === 'network') return msg('Không kết nối được máy chủ.', { id: 'account.network' });
    return msg('Không thực hiện được. Vui lòng thử lại.', { id: 'account.failed' });
  }

  /** The account changed (password, second factor): tell the shell, which re-opens the app when nothing is owed. */
  #announce(me: Me) {
    const wasRestricted = !!this.me?.restriction;
    this.me = me;
    if (wasRestricted && !me.restriction) this.dispatchEvent(new CustomEvent<Me>('ec-login', { detail: me, bubbles: true, composed: true }));
  }

  async #changePassword(e: SubmitEvent) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const next = String(data.get('new') ?? '');
    this.error = null;
    this.notice = null;
    if (next !== String(data.get('confirm') ?? '')) {
      this.error = { where: 'password', text: msg('Hai lần nhập mật khẩu mới không khớp.', { id: 'account.mismatch' }) };
      return;
    }
    this.busy = true;
    try {
      const me = await this.api.post<Me>('/api/auth/password', { currentPassword: String(data.get('current') ?? ''), newPassword: next });
      form.reset();
      this.notice = msg('Đã đổi mật khẩu. Các thiết bị khác đã được đăng xuất.', { id: 'account.changed' });
      this.#announce(me);
      await this.#loadSessions();
    } catch (err) {
      this.error = { where: 'password', text: this.#explain(err) };
    } finally {
      this.busy = false;
    }
  }

  async #startEnrolment() {
    this.error = null;
    this.busy = true;
    try {
      this.enrolment = await this.api.post<{ secret: string; otpauthUri: string }>('/api/auth/mfa/enrol');
    } catch (err) {
      this.error = { where: 'mfa', text: this.#explain(err) };
    } finally {
      this.busy = false;
    }
  }

  async #confirmEnrolment(e: SubmitEvent) {
    e.preventDefault();
    const code = String(new FormData(e.target as HTMLFormElement).get('code') ?? '').trim();
    this.error = null;
    this.busy = true;
    try {
      const me = await this.api.post<Me>('/api/auth/mfa/confirm', { code });
      this.enrolment = null;
      this.notice = msg('Đã bật xác thực hai lớp.', { id: 'account.mfaOn' });
      this.#announce(me);
      await this.#loadSessions();
    } catch (err) {
      this.error = { where: 'mfa', text: this.#explain(err) };
    } finally {
      this.busy = false;
    }
  }

  async #disable(e: SubmitEvent) {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    this.error = null;
    this.busy = true;
    try {
      this.#announce(await this.api.request<Me>('DELETE', '/api/auth/mfa', { password: String(data.get('password') ?? ''), code: String(data.get('code') ?? '').trim() }));
      this.notice = msg('Đã tắt xác thực hai lớp.', { id: 'account.mfaOff' });
    } catch (err) {
      this.error = { where: 'mfa', text: this.#explain(err) };
    } finally {
      this.busy = false;
    }
  }

  async #revoke(s: Session) {
    this.error = null;
    try {
      await this.api.delete(`/api/auth/sessions/${s.id}`);
      await this.#loadSessions();
    } catch (err) {
      this.error = { where: 'sessions', text: this.#explain(err) };
    }
  }

  #err(where: 'password' | 'mfa' | 'sessions') {
    return this.error?.where === where ? html`<p class="error" role="alert">${this.error.text}</p>` : nothing;
  }

  override render() {
    const me = this.me;
    if (!me) return nothing;
    const r = me.restriction;
    return html`<div class="page">
      <h1>${msg('Tài khoản của tôi', { id: 'account.title' })}</h1>
      <p class="muted">${me.fullName} · ${me.username}</p>
      ${r === 'password_change_required'
        ? html`<p class="notice" role="status">${msg('Mật khẩu của bạn vừa được quản trị viên đặt lại. Hãy chọn mật khẩu mới để tiếp tục.', { id: 'account.mustChange' })}</p>`
        : r === 'mfa_enrolment_required'
          ? html`<p class="notice" role="status">${msg('Vai trò của bạn bắt buộc xác thực hai lớp. Hãy bật nó để tiếp tục.', { id: 'account.mustEnrol' })}</p>`
          : nothing}
      ${this.notice ? html`<p class="notice" role="status">${this.notice}</p>` : nothing}
      ${r === 'mfa_enrolment_required' ? nothing : this.#passwordSection()}
      ${r === 'password_change_required' ? nothing : this.#mfaSection(me)}
      ${r ? nothing : this.#sessionsSection()}
    </div>`;
  }

  #passwordSection() {
    return html`<section aria-labelledby="pw">
      <h2 id="pw">${msg('Đổi mật khẩu', { id: 'account.password' })}</h2>
      <form @submit=${this.#changePassword} novalidate>
        <label class="field">${msg('Mật khẩu hiện tại', { id: 'account.current' })}
          <input name="current" type="password" autocomplete="current-password" required />
        </label>
        <label class="field">${msg('Mật khẩu mới (ít nhất 12 ký tự)', { id: 'account.new' })}
          <input name="new" type="password" autocomplete="new-password" minlength="12" required />
        </label>
        <label class="field">${msg('Nhập lại mật khẩu mới', { id: 'account.confirm' })}
          <input name="confirm" type="password" autocomplete="new-password" minlength="12" required />
        </label>
        ${this.#err('password')}
        <button class="primary" type="submit" ?disabled=${this.busy}>${msg('Đổi mật khẩu', { id: 'account.changeButton' })}</button>
      </form>
    </section>`;
  }

  #mfaSection(me: Me) {
    return html`<section aria-labelledby="mfa">
      <h2 id="mfa">${msg('Xác thực hai lớp (mã TOTP)', { id: 'account.mfa' })}</h2>
      ${me.mfaEnabled
        ? html`<p>${msg('Đang bật: mỗi lần đăng nhập cần mã 6 số từ ứng dụng xác thực.', { id: 'account.mfaEnabled' })}</p>
            ${me.mfaRequired
              ? html`<p class="muted">${msg('Vai trò của bạn bắt buộc xác thực hai lớp.', { id: 'account.mfaRequired' })}</p>`
              : html`<form @submit=${this.#disable}>
                  <label class="field">${msg('Mật khẩu', { id: 'account.passwordField' })}<input name="password" type="password" autocomplete="current-password" required /></label>
                  <label class="field">${msg('Mã xác thực', { id: 'account.code' })}<input name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required /></label>
                  <button type="submit" ?disabled=${this.busy}>${msg('Tắt xác thực hai lớp', { id: 'account.disable' })}</button>
                </form>`}`
        : this.enrolment
          ? html`<p>${msg('Thêm khóa này vào ứng dụng xác thực (Google Authenticator, Microsoft Authenticator…), rồi nhập mã 6 số nó hiển thị.', { id: 'account.enrolHelp' })}</p>
              <p class="secret" aria-label=${msg('Khóa bí mật', { id: 'account.secret' })}>${this.enrolment.secret.replace(/(.{4})/g, '$1 ').trim()}</p>
              <a class="link" href=${this.enrolment.otpauthUri}>${msg('Mở bằng ứng dụng xác thực trên thiết bị này', { id: 'account.openApp' })}</a>
              <form @submit=${this.#confirmEnrolment}>
                <label class="field">${msg('Mã xác thực', { id: 'account.code' })}<input name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required /></label>
                <button class="primary" type="submit" ?disabled=${this.busy}>${msg('Xác nhận', { id: 'account.confirmCode' })}</button>
              </form>`
          : html`<p>${msg('Chưa bật. Xác thực hai lớp bảo vệ tài khoản khi mật khẩu bị lộ.', { id: 'account.mfaDisabled' })}</p>
              <button class="primary" @click=${() => void this.#startEnrolment()} ?disabled=${this.busy}>${msg('Bật xác thực hai lớp', { id: 'account.enable' })}</button>`}
      ${this.#err('mfa')}
    </section>`;
  }

  #sessionsSection() {
    const list = this.#sessions.value;
    return html`<section aria-labelledby="sessions">
      <h2 id="sessions">${msg('Các phiên đăng nhập', { id: 'account.sessions' })}</h2>
      ${this.error?.where !== 'sessions' && this.#sessions.error
        ? html`<p class="error" role="alert">${msg('Không tải được danh sách phiên đăng nhập.', { id: 'account.sessionsFailed' })}</p>`
        : this.#err('sessions')}
      ${list === undefined
        ? html`<p class="state" role="status"><span class="spinner"></span> ${msg('Đang tải…', { id: 'account.loading' })}</p>`
        : html`<ul>
            ${list.map(
              (s) => html`<li>
                <span class="what"
                  ><b>${s.userAgent ?? msg('Thiết bị không rõ', { id: 'account.unknownDevice' })}</b><br /><span class="muted"
                    >${s.ip ?? ''} · ${msg(str`từ ${formatDateTime(s.createdAt, this.locale)}`, { id: 'account.since' })}</span
                  ></span
                >
                ${s.current
                  ? html`<span class="badge">${msg('Thiết bị này', { id: 'account.thisDevice' })}</span>`
                  : html`<button @click=${() => void this.#revoke(s)} aria-label=${msg(str`Đăng xuất phiên ${s.userAgent ?? s.id}`, { id: 'account.revokeLabel' })}>
                      ${msg('Đăng xuất', { id: 'account.revoke' })}
                    </button>`}
              </li>`,
            )}
          </ul>`}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-account-view': EcAccountView;
  }
}
