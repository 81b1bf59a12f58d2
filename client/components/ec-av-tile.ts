import { localized, msg } from '@lit/localize';
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import { sharedStyles } from '../styles/shared.js';

/** Event asking the chair's mute of one participant: `detail` = { userId, muted }. */
export type AvMuteEvent = CustomEvent<{ userId: number; muted: boolean }>;

/**
 * One participant's picture and sound: the video (or initials), the name, the microphone state
 * as the server enforces it, and a highlight when they are the active speaker. The chair sees a
 * mute button on it.
 */
@localized()
@customElement('ec-av-tile')
export class EcAvTile extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
        position: relative;
        border-radius: var(--ec-radius);
        overflow: hidden;
        background: #101826;
        color: #fff;
        aspect-ratio: 16 / 9;
        border: 3px solid transparent;
      }
      :host([active]) {
        border-color: var(--ec-gold);
      }
      video {
        width: 100%;
        height: 100%;
        object-fit: cover;
        display: block;
      }
      .initials {
        position: absolute;
        inset: 0;
        display: grid;
        place-items: center;
        font-size: clamp(1.4rem, 6vw, 3rem);
        font-weight: 700;
        color: #c9d4e6;
      }
      .bar {
        position: absolute;
        left: 0;
        right: 0;
        bottom: 0;
        display: flex;
        align-items: center;
        gap: 0.4rem;
        padding: 0.3rem 0.5rem;
        background: linear-gradient(transparent, rgb(0 0 0 / 70%));
        font-size: 0.9rem;
      }
      .name {
        flex: 1;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
        font-weight: 600;
      }
      .mic {
        font-size: 0.8rem;
        padding: 0.05rem 0.45rem;
        border-radius: 999px;
        background: rgb(255 255 255 / 18%);
        white-space: nowrap;
      }
      .mic.open {
        background: var(--ec-success);
      }
      button {
        min-height: var(--ec-touch);
        font-size: 0.85rem;
        padding: 0.2rem 0.6rem;
        background: rgb(255 255 255 / 92%);
      }
    `,
  ];

  @property({ type: Number }) userId = 0;
  @property() name = '';
  @property({ attribute: false }) audio: MediaStreamTrack | null = null;
  @property({ attribute: false }) video: MediaStreamTrack | null = null;
  /** Whether the server lets this person's microphone through right now. */
  @property({ type: Boolean }) micOpen = false;
  @property({ type: Boolean }) hasMic = false;
  @property({ type: Boolean, reflect: true }) active = false;
  @property({ type: Boolean }) roomStation = false;
  /** Our own preview: never play our own sound. */
  @property({ type: Boolean }) self = false;
  /** Play the sound (off on a tablet in the room without headphones: no echo). */
  @property({ type: Boolean }) playAudio = true;
  /** Show the chair's mute button; `chairMuted` says its current state. */
  @property({ type: Boolean }) canMute = false;
  @property({ type: Boolean }) chairMuted = false;

  @query('video') private videoEl?: HTMLVideoElement;
  @query('audio') private audioEl?: HTMLAudioElement;

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('video') && this.videoEl) this.videoEl.srcObject = this.video ? new MediaStream([this.video]) : null;
    if ((changed.has('audio') || changed.has('playAudio')) && this.audioEl) {
      this.audioEl.srcObject = this.audio && this.playAudio && !this.self ? new MediaStream([this.audio]) : null;
      if (this.audioEl.srcObject) this.audioEl.play().catch(() => {});
    }
  }

  override render() {
    const initials = this.name
      .split(/\s+/)
      .filter(Boolean)
      .slice(-2)
      .map((w) => w[0])
      .join('')
      .toUpperCase();
    return html`
      ${this.video ? html`<video autoplay playsinline muted></video>` : html`<div class="initials" aria-hidden="true">${initials}</div>`}
      <audio autoplay></audio>
      <div class="bar">
        <span class="name" title=${this.name}>${this.name}${this.self ? html` (${msg('Bạn', { id: 'av.you' })})` : nothing}</span>
        ${this.hasMic
          ? html`<span class="mic ${this.micOpen ? 'open' : ''}" data-testid="mic-state">${this.micOpen ? msg('Micro mở', { id: 'av.micOn' }) : msg('Micro tắt', { id: 'av.micOff' })}</span>`
          : nothing}
        ${this.canMute && !this.self
          ? html`<button @click=${this.#toggleMute} data-testid="chair-mute">
              ${this.chairMuted ? msg('Cho phép nói', { id: 'av.release' }) : msg('Tắt micro', { id: 'av.muteThem' })}
            </button>`
          : nothing}
      </div>
    `;
  }

  #toggleMute() {
    this.dispatchEvent(new CustomEvent('ec-av-mute', { detail: { userId: this.userId, muted: !this.chairMuted }, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-av-tile': EcAvTile;
  }
}
