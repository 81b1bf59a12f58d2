import { localized, msg } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { connectivity } from '../services/connectivity.js';

/** A sticky banner shown while the app is offline (see services/connectivity.ts). */
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
  `;

  @state() private online = connectivity.online;
  #onChange = () => (this.online = connectivity.online);

  override connectedCallback(): void {
    super.connectedCallback();
    connectivity.addEventListener('change', this.#onChange);
    this.online = connectivity.online;
  }
  override disconnectedCallback(): void {
    connectivity.removeEventListener('change', this.#onChange);
    super.disconnectedCallback();
  }

  override render() {
    return this.online ? nothing : html`<div role="status" aria-live="polite">${msg('Mất kết nối — đang kết nối lại', { id: 'app.offline' })}</div>`;
  }
}
