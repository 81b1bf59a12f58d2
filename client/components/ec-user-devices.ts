import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { Locale } from '../../shared/protocol/auth.js';
import type { User } from '../../shared/protocol/users.js';
import type { DeviceList } from '../../shared/protocol/offline.js';
import { type Api, ApiError } from '../services/api.js';
import { apiContext, localeContext } from '../services/context.js';
import { formatDateTime } from '../services/format.js';
import { Loader } from '../services/loader.js';
import { sharedStyles } from '../styles/shared.js';

/**
 * Admin: the tablets, phones and browsers a user has signed in from, with "revoke": at its next
 * contact a revoked device's session ends and the app wipes every offline copy on it (docs/OFFLINE.md).
 * Emits `ec-close`.
 */
@localized()
@customElement('ec-user-devices')
export class EcUserDevices extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      ul {
        list-style: none;
        padding: 0;
        margin: 0.5rem 0;
      }
      li {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5rem 1rem;
        padding: 0.6rem 0;
        border-bottom: 1px solid var(--ec-border, #dde3ea);
      }
      li .what {
        flex: 1 1 14rem;
      }
      small {
        display: block;
        color: var(--ec-muted);
      }
    `,
  ];

  @property({ attribute: false }) user!: User;
  @consume({ context: apiContext }) private api!: Api;
  @consume({ context: localeContext, subscribe: true }) private locale: Locale = 'vi';
  #devices = new Loader(this, async () => (await this.api.get<DeviceList>(`/api/admin/users/${this.user.id}/devices`)).devices);
  /** Why the last revocation failed (a load failure is the loader's error). */
  @state() private error = '';
  @state() private busy = false;
  @state() private done = '';

  override willUpdate(changed: Map<string, unknown>): void {
    // Another person's devices: not the last person's list while they load.
    if (changed.has('user') && this.user) void this.#load(false);
  }

  #load(keepValue = true) {
    this.error = '';
    return this.#devices.load({ keepValue });
  }

  async #revoke(id: string, label: string) {
    if (!confirm(msg(str`Thu hồi thiết bị "${label}"? Phiên đăng nhập trên đó kết thúc và mọi dữ liệu ngoại tuyến trên đó bị xoá ở lần kết nối tới.`, { id: 'admin.devices.confirm' }))) return;
    this.busy = true;
    try {
      await this.api.post(`/api/admin/users/${this.user.id}/devices/${id}/revoke`);
      this.done = msg(str`Đã thu hồi: ${label}`, { id: 'admin.devices.revoked' });
      await this.#load();
    } catch (e) {
      this.error = e instanceof ApiError ? e.message : String(e);
    } finally {
      this.busy = false;
    }
  }

  override render() {
    const list = this.#devices.value;
    return html`<section class="card" data-testid="user-devices" aria-labelledby="devices-title">
      <h2 id="devices-title">${msg(str`Thiết bị của ${this.user.fullName}`, { id: 'admin.devices.title' })}</h2>
      ${this.error || this.#devices.error ? html`<p class="error" role="alert">${this.error || this.#devices.error?.message}</p>` : nothing}
      ${this.done ? html`<p class="ok" role="status">${this.done}</p>` : nothing}
      ${!list
        ? html`<p role="status">${msg('Đang tải…', { id: 'admin.devices.loading' })}</p>`
        : list.length === 0
          ? html`<p>${msg('Chưa đăng nhập từ thiết bị nào của ứng dụng.', { id: 'admin.devices.empty' })}</p>`
          : html`<ul>
              ${list.map(
                (d) => html`<li data-device=${d.id}>
                  <span class="what"
                    >${d.label}<small
                      >${msg(str`Lần cuối: ${formatDateTime(d.lastSeenAt, this.locale)}`, { id: 'admin.devices.lastSeen' })}${d.revokedAt
                        ? html` · <b>${msg('Đã thu hồi', { id: 'admin.devices.isRevoked' })}</b>`
                        : nothing}</small
                    ></span
                  >
                  ${d.revokedAt
                    ? nothing
                    : html`<button class="danger" ?disabled=${this.busy} @click=${() => this.#revoke(d.id, d.label)}>
                        ${msg('Thu hồi và xoá dữ liệu', { id: 'admin.devices.revoke' })}
                      </button>`}
                </li>`,
              )}
            </ul>`}
      <button @click=${() => this.dispatchEvent(new Event('ec-close'))}>${msg('Đóng', { id: 'admin.devices.close' })}</button>
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-user-devices': EcUserDevices;
  }
}
