import { localized, msg } from '@lit/localize';
import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { AgendaItem } from '../../shared/protocol/agenda.js';
import { sharedStyles } from '../styles/shared.js';
import './ec-item-notes.js';

/**
 * The meeting's collaborative item notes: pick an agenda item (the current one by default), edit
 * or follow its notes live (`<ec-item-notes>`).
 */
@localized()
@customElement('ec-item-notes-panel')
export class EcItemNotesPanel extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      h2 {
        margin-top: 0;
      }
      label {
        display: block;
        font-weight: 600;
        margin-bottom: 0.3rem;
      }
      select {
        width: 100%;
        margin-bottom: 0.75rem;
      }
    `,
  ];

  @property({ type: Number }) meetingId = 0;
  @property({ attribute: false }) items: AgendaItem[] = [];
  @property({ type: Boolean }) editable = false;
  @state() private selected = 0;

  #itemId(): number {
    if (this.items.some((i) => i.id === this.selected)) return this.selected;
    return (this.items.find((i) => i.status === 'current') ?? this.items[0])?.id ?? 0;
  }

  override render() {
    const itemId = this.#itemId();
    return html`<h2 id="notes-h">${msg('Ghi chú theo nội dung', { id: 'notes.title' })}</h2>
      ${this.items.length
        ? html`<label for="notes-item">${msg('Nội dung', { id: 'notes.item' })}</label>
            <select id="notes-item" data-testid="notes-item" @change=${(e: Event) => (this.selected = Number((e.target as HTMLSelectElement).value))}>
              ${this.items.map((i) => html`<option value=${i.id} ?selected=${i.id === itemId}>${i.number}. ${i.title}</option>`)}
            </select>
            <ec-item-notes .meetingId=${this.meetingId} .itemId=${itemId} ?editable=${this.editable}></ec-item-notes>`
        : html`<p class="muted">${msg('Chương trình họp chưa có nội dung nào.', { id: 'notes.noItems' })}</p>`}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-item-notes-panel': EcItemNotesPanel;
  }
}
