import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { QuorumState } from '../../shared/protocol/live.js';

/** "18/25 có mặt, cần 13: đủ túc số" — the live quorum, green when met, amber when not. */
@localized()
@customElement('ec-quorum-badge')
export class EcQuorumBadge extends LitElement {
  static override styles = css`
    :host {
      display: inline-block;
    }
    span {
      display: inline-flex;
      align-items: center;
      gap: 0.4rem;
      padding: 0.35rem 0.8rem;
      border-radius: 999px;
      font-weight: 600;
      background: var(--ec-warning-soft, #fff4d6);
      color: var(--ec-warning, #7a5200);
    }
    span.met {
      background: var(--ec-success-soft, #e3f4e8);
      color: var(--ec-success, #1d6b35);
    }
  `;

  @property({ attribute: false }) quorum: QuorumState | null = null;

  override render() {
    const q = this.quorum;
    if (!q) return nothing;
    return html`<span class=${q.met ? 'met' : ''} data-testid="quorum" data-met=${String(q.met)}
      >${msg(str`${q.present}/${q.eligible} có mặt, cần ${q.required}`, { id: 'live.quorum.count' })}:
      ${q.met ? msg('đủ túc số', { id: 'live.quorum.met' }) : msg('chưa đủ túc số', { id: 'live.quorum.notMet' })}</span
    >`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-quorum-badge': EcQuorumBadge;
  }
}
