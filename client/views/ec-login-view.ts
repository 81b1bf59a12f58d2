import { consume } from '@lit/context';
import { localized, msg } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import type { Locale, Me } from '../../shared/protocol/auth.js';
import '../components/ec-language-switch.js';
import { ApiError, type Api } from '../services/api.js';
import { apiContext, localeContext } from '../services/context.js';
import { sharedStyles } from '../styles/shared.js';

/** Sign-in page. On success dispatches `ec-login` (detail: Me); <ec-app> takes it from there. */
@localized()
@customElement('ec-login-view')
export class EcLoginView extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: grid;
        place-items: center;
        min-height: 100vh;
        padding: 1rem;
        background: linear-gradient(160deg, var(--ec-primary-strong) 0%, var(--ec-primary) 55%, #2f5690 100%);
      }
      .box {
        width: min(440px, 100%);
        background: var(--ec-surface);
        border-radius: 14px;
        box-shadow: 0 20px 60px rgb(0 0 0 / 25%);
        overflow: hidden;
      }
      .top {
        padding: 1.5rem 1.75rem 1rem;
        border-bottom: 4px solid var(--ec-gold);
        display: flex;
        align-items: center;
        gap: 0.9rem;
      }
      .logo {
        width: 52px;
        height: 52px;
        border-radius: 12px;
        background: var(--ec-primary-strong);
        color: var(--ec-gold);
        display: grid;
        place-items: center;
        font-weight: 700;
        font-size: 1.3rem;
        flex: none;
      }
      .top h1 {
        margin: 0;
        font-size: 1.45rem;
      }
      .top p {
        margin: 0;
        color: var(--ec-muted);
        font-size: 0.95rem;
      }
      form {
        padding: 1.25rem 1.75rem 1.75rem;
        display: grid;
        gap: 1rem;
      }
      button.primary {
        width: 100%;
        min-height: 50px;
        font-size: 1.05rem;
      }
      .lang {
        display: flex;
        justify-content: flex-end;
        padding: 0 1.75rem 1.25rem;
        --ec-switch-border: var(--ec-border);
        --ec-switch-color: var(--ec-primary-strong);
        --ec-switch-active-bg: var(--ec-primary);
        --ec-switch-active-color: #fff;
      }
    `,
  ];

  @consume({ context: apiContext }) private api!: Api;
  @consume({ context: localeContext, subscribe: true }) private locale: Locale = 'vi';
  @state() private busy = false;
  @state() private error: string | null = null;
  /** The password was right and the account has a second factor: the code is asked next. */
  @state() private needCode = false;

  async #submitCode(e: SubmitEvent) {
    e.preventDefault();
    const code = String(new FormData(e.target as HTMLFormElement).get('code') ?? '').trim();
    this.busy = true;
    this.error = null;
    try {
      const me = await this.api.post<Me>('/api/auth/mfa', { code });
      this.dispatchEvent(new CustomEvent<Me>('ec-login', { detail: me, bubbles: true, composed: true }));
    } catch (err) {
      const c = err instanceof ApiError ? err.code : 'internal';
      this.error =
        c === 'rate_limited'
          ? msg('Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút.', { id: 'login.rateLimited' })
          : c === 'unauthenticated'
            ? ((this.needCode = false), msg('Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.', { id: 'login.codeExpired' }))
            : msg('Mã xác thực không đúng hoặc đã được dùng. Hãy nhập mã mới.', { id: 'login.wrongCode' });
    } finally {
      this.busy = false;
    }
  }

  async #submit(e: SubmitEvent) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    this.busy = true;
    this.error = null;
    try {
      const me = await this.api.post<Me>('/api/auth/login', { username: String(data.get('username') ?? ''), password: String(data.get('password') ?? '') });
      if (me.restriction === 'mfa_required') {
        this.needCode = true;
        return;
      }
      this.dispatchEvent(new CustomEvent<Me>('ec-login', { detail: me, bubbles: true, composed: true }));
    } catch (err) {
      const code = err instanceof ApiError ? err.code : 'internal';
      this.error =
        code === 'invalid_credentials' || code === 'invalid_payload'
          ? msg('Tên đăng nhập hoặc mật khẩu không đúng.', { id: 'login.invalid' })
          : code === 'rate_limited'
            ? msg('Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút.', { id: 'login.rateLimited' })
            : code === 'account_disabled'
              ? msg('Tài khoản đã bị khóa. Liên hệ quản trị viên.', { id: 'login.disabled' })
              : code === 'network'
                ? msg('Không kết nối được máy chủ.', { id: 'login.network' })
                : msg('Đăng nhập không thành công. Vui lòng thử lại.', { id: 'login.failed' });
    } finally {
      this.busy = false;
    }
  }

  override render() {
    return html`<div class="box">
      <div class="top">
        <div class="logo" aria-hidden="true">EC</div>
        <div>
          <h1>E-Cabinet</h1>
          <p>${msg('Hệ thống phòng họp không giấy', { id: 'login.subtitle' })}</p>
        </div>
      </div>
      ${this.needCode
        ? html`<form @submit=${this.#submitCode} novalidate>
            <label class="field">${msg('Mã xác thực 6 số từ ứng dụng xác thực', { id: 'login.code' })}
              <input name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required autofocus />
            </label>
            ${this.error ? html`<p class="error" role="alert" style="margin:0">${this.error}</p>` : nothing}
            <button class="primary" type="submit" ?disabled=${this.busy}>
              ${this.busy ? html`<span class="spinner"></span>` : nothing}${msg('Xác nhận', { id: 'login.verify' })}
            </button>
          </form>`
        : this.#passwordForm()}
      <div class="lang"><ec-language-switch .locale=${this.locale}></ec-language-switch></div>
    </div>`;
  }

  #passwordForm() {
    return html`<form @submit=${this.#submit} novalidate>
        <label class="field">${msg('Tên đăng nhập', { id: 'login.username' })}
          <input name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus />
        </label>
        <label class="field">${msg('Mật khẩu', { id: 'login.password' })}
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        ${this.error ? html`<p class="error" role="alert" style="margin:0">${this.error}</p>` : nothing}
        <button class="primary" type="submit" ?disabled=${this.busy}>
          ${this.busy ? html`<span class="spinner"></span>` : nothing}${msg('Đăng nhập', { id: 'login.submit' })}
        </button>
      </form>`;
  }
}
