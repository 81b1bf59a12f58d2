import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { AgendaItem } from '../../shared/protocol/agenda.js';
import { depths } from '../services/agenda-tree.js';
import { sharedStyles } from '../styles/shared.js';

/** Read-only agenda: numbered items and sub-items with presenter, minutes allotted and description. */
@localized()
@customElement('ec-agenda-tree')
export class EcAgendaTree extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      ol {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      li {
        display: grid;
        grid-template-columns: 3.2rem 1fr;
        gap: 0.2rem 0.75rem;
        padding: 0.8rem 0.5rem;
        border-bottom: 1px solid var(--ec-border);
      }
      li:last-child {
        border-bottom: 0;
      }
      li.sub {
        padding-left: calc(0.5rem + var(--depth) * 2rem);
        background: var(--ec-surface-2);
      }
      .num {
        font-weight: 700;
        color: var(--ec-primary);
        font-variant-numeric: tabular-nums;
        font-size: 1.05rem;
      }
      .title {
        font-weight: 600;
        font-size: 1.05rem;
      }
      .meta {
        grid-column: 2;
        color: var(--ec-muted);
        font-size: 0.92rem;
        display: flex;
        gap: 0.25rem 1.25rem;
        flex-wrap: wrap;
      }
      .desc {
        grid-column: 2;
        white-space: pre-line;
        margin: 0.2rem 0 0;
      }
    `,
  ];

  @property({ attribute: false }) items: AgendaItem[] = [];

  override render() {
    if (!this.items.length) return html`<p class="state">${msg('Chương trình họp chưa có nội dung.', { id: 'agenda.empty' })}</p>`;
    const d = depths(this.items);
    return html`<ol data-testid="agenda">
      ${this.items.map((it) => {
        const depth = d.get(it.id) ?? 0;
        return html`<li class=${depth ? 'sub' : ''} style="--depth:${depth}" data-item-id=${it.id} data-number=${it.number} aria-level=${depth + 1}>
          <span class="num">${it.number}</span>
          <span class="title">${it.title}</span>
          ${it.presenterName || it.durationMinutes
            ? html`<span class="meta">
                ${it.presenterName ? html`<span>${msg('Trình bày:', { id: 'agenda.presenter' })} ${it.presenterName}</span>` : nothing}
                ${it.durationMinutes ? html`<span>${msg(str`${it.durationMinutes} phút`, { id: 'agenda.minutes' })}</span>` : nothing}
              </span>`
            : nothing}
          ${it.description ? html`<p class="desc">${it.description}</p>` : nothing}
        </li>`;
      })}
    </ol>`;
  }
}
