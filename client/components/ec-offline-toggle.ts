import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { localeContext } from '../services/context.js';
import type { Locale } from '../../shared/protocol/auth.js';
import { type OfflineStatus, offlineStore } from '../services/offline.js';
import { sharedStyles } from '../styles/shared.js';

/** "12,3 MB" in the reader's locale. */
export function formatBytes(n: number, locale: Locale): string {
  const mb = n / 1_048_576;
  const nf = new Intl.NumberFormat(locale === 'vi' ? 'vi-VN' : 'en-GB', { maximumFractionDigits: mb < 10 ? 1 : 0 });
  return mb >= 0.1 ? `${nf.format(mb)} MB` : `${nf.format(Math.max(1, Math.round(n / 1024)))} KB`;
}

/**
 * Per meeting: whether it is ready offline on this tablet, a one-tap download with progress and size,
 * and removal. Reads and drives the app's one {@link offlineStore}.
 */
@localized()
@customElement('ec-offline-toggle')
export class EcOfflineToggle extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      .row {
        display: flex;
        align-items: center;
        gap: 0.6rem;
        flex-wrap: wrap;
        min-height: 44px;
      }
      .ready {
        color: #1b5e20;
        font-weight: 600;
      }
      .error {
        color: #a4161a;
        font-weight: 600;
      }
      progress {
        flex: 1 1 8rem;
        min-width: 6rem;
        height: 0.9rem;
      }
      .note {
        font-size: 0.9rem;
        color: var(--ec-muted, #555);
        width: 100%;
      }
      button {
        min-height: 44px;
      }
    `,
  ];

  @property({ type: Number }) meetingId = 0;
  @consume({ context: localeContext, subscribe: true }) private locale: Locale = 'vi';
  @state() private status: OfflineStatus = { state: 'none' };

  #onChange = (e: Event) => {
    const id = (e as CustomEvent<number | null>).detail;
    if (id === null || id === this.meetingId) this.status = offlineStore.status(this.meetingId);
  };

  override connectedCallback(): void {
    super.connectedCallback();
    offlineStore.addEventListener('change', this.#onChange);
    this.status = offlineStore.status(this.meetingId);
  }
  override disconnectedCallback(): void {
    offlineStore.removeEventListener('change', this.#onChange);
    super.disconnectedCallback();
  }
  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('meetingId')) this.status = offlineStore.status(this.meetingId);
  }

  #download = () => void offlineStore.makeAvailable(this.meetingId);
  #remove = () => void offlineStore.remove(this.meetingId);

  override render() {
    const s = this.status;
    const download = html`<button type="button" data-testid="offline-download" @click=${this.#download}>
      ⤓ ${msg('Tải về để đọc ngoại tuyến', { id: 'offline.download' })}
    </button>`;
    if (s.state === 'downloading') {
      const pct = Math.min(100, Math.round((s.done / Math.max(1, s.total)) * 100));
      return html`<div class="row" data-testid="offline-status" data-state="downloading">
        <span>${msg(str`Đang tải về máy: ${pct}%`, { id: 'offline.progress' })}</span>
        <progress max="100" value=${pct} aria-label=${msg('Tiến độ tải về', { id: 'offline.progressLabel' })}></progress>
        <span class="note">${formatBytes(s.done, this.locale)} / ${formatBytes(s.total, this.locale)}</span>
      </div>`;
    }
    if (s.state === 'error') {
      const why =
        s.reason === 'quota'
          ? msg('Không đủ dung lượng trên máy: chưa tải xong, chưa dùng được ngoại tuyến.', { id: 'offline.quota' })
          : s.reason === 'network'
            ? msg('Mất kết nối khi đang tải: chưa dùng được ngoại tuyến.', { id: 'offline.networkFailed' })
            : msg('Không tải về được: chưa dùng được ngoại tuyến.', { id: 'offline.failed' });
      return html`<div class="row" data-testid="offline-status" data-state="error">
        <span class="error" role="alert">${why}</span>
        <button type="button" data-testid="offline-download" @click=${this.#download}>${msg('Thử lại', { id: 'offline.retry' })}</button>
      </div>`;
    }
    if (s.state === 'ready') {
      const r = s.record;
      return html`<div class="row" data-testid="offline-status" data-state="ready">
        <span class="ready">✓ ${msg(str`Sẵn sàng ngoại tuyến · ${formatBytes(r.bytes, this.locale)}`, { id: 'offline.ready' })}</span>
        <button type="button" data-testid="offline-remove" @click=${this.#remove}>${msg('Xoá khỏi máy', { id: 'offline.remove' })}</button>
        ${r.excluded.length
          ? html`<span class="note" data-testid="offline-excluded"
              >${msg(str`${r.excluded.length} tài liệu mật chỉ được xem trực tuyến, không lưu trên máy.`, { id: 'offline.excluded' })}</span
            >`
          : nothing}
      </div>`;
    }
    return html`<div class="row" data-testid="offline-status" data-state="none">${download}</div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-offline-toggle': EcOfflineToggle;
  }
}
