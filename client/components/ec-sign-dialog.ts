import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { sharedStyles } from '../styles/shared.js';

/**
 * The signing PIN dialog. Emits `ec-sign` ({ pin }) and `ec-cancel`; the view calls the API and
 * passes back `busy`, `error` and `attemptsLeft`. The PIN never leaves this element except in the
 * event, and is cleared after each try.
 */
@localized()
@customElement('ec-sign-dialog')
export class EcSignDialog extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      .backdrop {
        position: fixed;
        inset: 0;
        background: rgb(0 0 0 / 45%);
        display: grid;
        place-items: center;
        z-index: 50;
        padding: 1rem;
      }
      .dialog {
        width: min(420px, 100%);
        display: grid;
        gap: 0.75rem;
      }
      input {
        font-size: 1.6rem;
        letter-spacing: 0.4em;
        text-align: center;
      }
      .actions {
        display: flex;
        gap: 0.5rem;
        justify-content: flex-end;
      }
    `,
  ];

  @property() roleLabel = '';
  @property() versionLabel = '';
  @property({ type: Boolean }) busy = false;
  @property() error = '';
  @state() private pin = '';
  @query('input') private input!: HTMLInputElement;

  override firstUpdated(): void {
    this.input?.focus();
  }

  private submit(e: Event) {
    e.preventDefault();
    if (this.pin.length < 4 || this.busy) return;
    this.dispatchEvent(new CustomEvent('ec-sign', { detail: { pin: this.pin }, bubbles: true, composed: true }));
    this.pin = '';
  }

  override render() {
    return html`<div class="backdrop" @click=${(e: Event) => e.target === e.currentTarget && this.dispatchEvent(new Event('ec-cancel'))}>
      <form class="card dialog" role="dialog" aria-modal="true" aria-labelledby="sign-title" @submit=${this.submit}>
        <h2 id="sign-title">${msg('Ký số biên bản', { id: 'minutes.signTitle' })}</h2>
        <p class="muted">${msg(str`Ký với tư cách ${this.roleLabel}, ${this.versionLabel}. Nhập mã PIN ký số của bạn.`, { id: 'minutes.signIntro' })}</p>
        <label>
          ${msg('Mã PIN', { id: 'minutes.pin' })}
          <input type="password" inputmode="numeric" autocomplete="off" minlength="4" maxlength="64" .value=${this.pin} @input=${(e: Event) => (this.pin = (e.target as HTMLInputElement).value)} data-testid="sign-pin" />
        </label>
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
        <div class="actions">
          <button type="button" class="secondary" @click=${() => this.dispatchEvent(new Event('ec-cancel'))}>${msg('Hủy', { id: 'minutes.cancel' })}</button>
          <button type="submit" ?disabled=${this.busy || this.pin.length < 4} data-testid="sign-confirm">${this.busy ? msg('Đang ký…', { id: 'minutes.signing' }) : msg('Ký', { id: 'minutes.sign' })}</button>
        </div>
      </form>
    </div>`;
  }
}
