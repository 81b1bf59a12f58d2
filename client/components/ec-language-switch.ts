import { localized, msg } from '@lit/localize';
import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { Locale } from '../../shared/protocol/auth.js';
import { sharedStyles } from '../styles/shared.js';

/**
 * Two-button language switch (VI / EN). Emits `ec-locale` (detail: the chosen locale); the owner
 * applies and persists it.
 */
@localized()
@customElement('ec-language-switch')
export class EcLanguageSwitch extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: inline-flex;
      }
      div {
        display: inline-flex;
        border: 1px solid var(--ec-switch-border, rgb(255 255 255 / 35%));
        border-radius: 8px;
        overflow: hidden;
      }
      button {
        border: 0;
        border-radius: 0;
        background: transparent;
        color: var(--ec-switch-color, #fff);
        padding: 0 0.7rem;
        font-size: 0.9rem;
      }
      /* Also under the pointer (the shared hover background would leave white on pale blue). */
      button[aria-pressed='true'],
      button[aria-pressed='true']:hover:not(:disabled) {
        background: var(--ec-switch-active-bg, #fff);
        color: var(--ec-switch-active-color, var(--ec-primary-strong));
      }
      button:hover:not(:disabled):not([aria-pressed='true']) {
        background: rgb(127 127 127 / 15%);
      }
    `,
  ];

  @property() locale: Locale = 'vi';

  #pick(l: Locale) {
    if (l !== this.locale) this.dispatchEvent(new CustomEvent<Locale>('ec-locale', { detail: l, bubbles: true, composed: true }));
  }

  override render() {
    return html`<div role="group" aria-label=${msg('Ngôn ngữ', { id: 'app.language' })}>
      <button lang="vi" aria-pressed=${this.locale === 'vi'} title="Tiếng Việt" @click=${() => this.#pick('vi')}>VI</button>
      <button lang="en" aria-pressed=${this.locale === 'en'} title="English" @click=${() => this.#pick('en')}>EN</button>
    </div>`;
  }
}
