import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { MinutesBlock, MinutesRun } from '../../shared/protocol/minutes.js';
import { sharedStyles } from '../styles/shared.js';

/** Renders minutes blocks (generated sections, frozen versions) read-only, as the PDF lays them out. */
@customElement('ec-minutes-blocks')
export class EcMinutesBlocks extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
        font-family: 'Times New Roman', Tinos, serif;
        font-size: 1.05rem;
        line-height: 1.5;
      }
      h3,
      h4,
      h5 {
        margin: 0.9rem 0 0.3rem;
        color: var(--ec-text);
      }
      p {
        margin: 0 0 0.4rem;
      }
      table {
        border-collapse: collapse;
        width: 100%;
        margin: 0.4rem 0 0.6rem;
        font-size: 0.95rem;
      }
      td,
      th {
        border: 1px solid #999;
        padding: 0.25rem 0.45rem;
        text-align: left;
        vertical-align: top;
      }
      .scroll {
        overflow-x: auto;
      }
    `,
  ];

  @property({ attribute: false }) blocks: MinutesBlock[] = [];

  private runs(runs: MinutesRun[]) {
    return runs.map((r) => (r.b && r.i ? html`<b><i>${r.text}</i></b>` : r.b ? html`<b>${r.text}</b>` : r.i ? html`<i>${r.text}</i>` : r.text));
  }

  private block(b: MinutesBlock) {
    switch (b.t) {
      case 'h':
        return b.level === 1 ? html`<h3>${b.text}</h3>` : b.level === 2 ? html`<h4>${b.text}</h4>` : html`<h5><i>${b.text}</i></h5>`;
      case 'p':
        return html`<p>${this.runs(b.runs)}</p>`;
      case 'ul':
        return html`<ul>${b.items.map((i) => html`<li>${this.runs(i)}</li>`)}</ul>`;
      case 'ol':
        return html`<ol>${b.items.map((i) => html`<li>${this.runs(i)}</li>`)}</ol>`;
      case 'table':
        return html`<div class="scroll">
          <table>
            ${b.rows.map((r, ri) => html`<tr>${r.map((c) => (b.header && ri === 0 ? html`<th>${c}</th>` : html`<td>${c}</td>`))}</tr>`)}
          </table>
        </div>`;
      default:
        return nothing;
    }
  }

  override render() {
    return html`${this.blocks.map((b) => this.block(b))}`;
  }
}
