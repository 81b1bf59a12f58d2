import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { connectivity } from '../services/connectivity.js';
import { offlineStore } from '../services/offline.js';

/**
 * A sticky banner shown while the app is offline (see services/connectivity.ts), and a notice when an
 * offline copy was replaced by a newer version of a document (services/offline.ts).
 */
@localized()
@customElement('ec-offline-banner')
export class EcOfflineBanner extends LitElement {
  static override styles = css`
    div {
      position: sticky;
      top: 0;
      z-index: 50;
      background: #7a4b00;
      color: #fff;
      text-align: center;
      padding: 0.6rem 1rem;
      font-weight: 600;
      font-family: var(--ec-font);
    }
    div.updated {
      background: #1b4d2e;
      display: flex;
      gap: 1rem;
      align-items: center;
      justify-content: center;
      flex-wrap: wrap;
    }
    div.updated button {
      min-height: 44px;
      min-width: 44px;
      font: inherit;
      border-radius: 6px;
      border: 1px solid #fff;
      background: transparent;
      color: #fff;
      padding: 0 1rem;
    }
  `;

  @state() private online = connectivity.online;
  @state() private updatedTitles: string[] = [];
  #onChange = () => (this.online = connectivity.online);
  #onUpdated = (e: Event) => (this.updatedTitles = (e as CustomEvent<string[]>).detail);

  override connectedCallback(): void {
    super.connectedCallback();
    connectivity.addEventListener('change', this.#onChange);
    offlineStore.addEventListener('updated', this.#onUpdated);
    this.online = connectivity.online;
  }
  override disconnectedCallback(): void {
    connectivity.removeEventListener('change', this.#onChange);
    offlineStore.removeEventListener('updated', this.#onUpdated);
    super.disconnectedCallback();
  }

  override render() {
    return html`${this.online ? nothing : html`<div role="status" aria-live="polite">${msg('Mất kết nối — đang kết nối lại', { id: 'app.offline' })}</div>`}
    ${this.updatedTitles.length
      ? html`<div class="updated" role="status" data-testid="offline-updated">
          ${msg(str`Bản ngoại tuyến đã được cập nhật lên phiên bản mới: ${this.updatedTitles.join(', ')}`, { id: 'offline.updated' })}
          <button type="button" @click=${() => (this.updatedTitles = [])}>${msg('Đóng', { id: 'offline.dismiss' })}</button>
        </div>`
      : nothing}`;
  }
}
