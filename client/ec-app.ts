import { LitElement, html } from 'lit';
import { customElement, state } from 'lit/decorators.js';

/** Application shell (placeholder until the client lands). */
@customElement('ec-app')
export class EcApp extends LitElement {
  @state() private ready = true;
  override render() {
    return html`<p>${this.ready ? 'E-Cabinet' : ''}</p>`;
  }
}
