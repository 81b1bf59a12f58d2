import { localized, msg } from '@lit/localize';
import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';

/**
 * The speaker's countdown. Every screen computes it from the same server facts — `startedAt`
 * (server ms) and `allottedSeconds` — and its own server clock (`now`, the socket's offset-corrected
 * clock), so all tablets and the big screen show the same second. Past the allotted time it counts
 * the overtime up, in red. `data-remaining` (seconds) is for tests and assistive tech.
 */
@localized()
@customElement('ec-live-timer')
export class EcLiveTimer extends LitElement {
  static override styles = css`
    :host {
      display: inline-block;
      font-variant-numeric: tabular-nums;
      font-weight: 700;
    }
    .over {
      color: var(--ec-danger, #b3261e);
    }
    .low {
      color: var(--ec-warning, #9a6700);
    }
  `;

  @property({ type: Number }) startedAt = 0;
  @property({ type: Number }) allottedSeconds = 0;
  /** The server's clock; defaults to the local one. */
  @property({ attribute: false }) now: () => number = () => Date.now();
  @state() private tick = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    this.#timer = setInterval(() => this.tick++, 250);
  }
  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.#timer);
  }

  /** Whole seconds left (negative = overtime). */
  get remaining(): number {
    return Math.ceil((this.startedAt + this.allottedSeconds * 1000 - this.now()) / 1000);
  }

  override render() {
    void this.tick;
    const r = this.remaining;
    const abs = Math.abs(r);
    const text = `${r < 0 ? '+' : ''}${Math.floor(abs / 60)}:${String(abs % 60).padStart(2, '0')}`;
    this.dataset.remaining = String(r);
    return html`<span
      class=${r < 0 ? 'over' : r <= 30 ? 'low' : ''}
      role="timer"
      aria-label=${r < 0 ? msg('Quá giờ', { id: 'live.timer.over' }) : msg('Thời gian còn lại', { id: 'live.timer.left' })}
      data-testid="timer"
      >${text}</span
    >`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-live-timer': EcLiveTimer;
  }
}
