import { localized, msg } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { sharedStyles } from '../styles/shared.js';

/** The chosen devices: `detail` of the `ec-devices` event. */
export interface DeviceChoice {
  audioDeviceId: string;
  videoDeviceId: string;
}

/**
 * Microphone and camera selection with a live preview, before joining. Asks for permission once
 * (device names are only visible after it) and stops its preview tracks when removed.
 */
@localized()
@customElement('ec-av-device-picker')
export class EcAvDevicePicker extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: grid;
        grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
        gap: 1rem;
        align-items: start;
      }
      @media (max-width: 640px) {
        :host {
          grid-template-columns: 1fr;
        }
      }
      .preview {
        background: #101826;
        border-radius: var(--ec-radius);
        aspect-ratio: 4 / 3;
        overflow: hidden;
        display: grid;
        place-items: center;
        color: #c9d4e6;
      }
      video {
        width: 100%;
        height: 100%;
        object-fit: cover;
        transform: scaleX(-1);
      }
      .fields {
        display: flex;
        flex-direction: column;
        gap: 0.75rem;
      }
      meter {
        width: 100%;
        height: 12px;
      }
    `,
  ];

  /** Show the camera part (off for audio-only). */
  @property({ type: Boolean }) camera = true;
  @state() private mics: MediaDeviceInfo[] = [];
  @state() private cams: MediaDeviceInfo[] = [];
  @state() private choice: DeviceChoice = { audioDeviceId: '', videoDeviceId: '' };
  @state() private problem: string | null = null;
  @state() private level = 0;
  @query('video') private videoEl?: HTMLVideoElement;
  #stream: MediaStream | null = null;
  #raf = 0;
  #audioCtx: AudioContext | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#preview();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#stop();
  }

  /** The current selection. */
  get value(): DeviceChoice {
    return this.choice;
  }

  async #preview() {
    this.#stop();
    try {
      if (!navigator.mediaDevices?.getUserMedia) throw new DOMException('no media devices', 'NotSupportedError');
      const { audioDeviceId, videoDeviceId } = this.choice;
      this.#stream = await navigator.mediaDevices.getUserMedia({
        audio: audioDeviceId ? { deviceId: { exact: audioDeviceId } } : true,
        video: this.camera ? (videoDeviceId ? { deviceId: { exact: videoDeviceId } } : { width: 640, height: 480 }) : false,
      });
      const devices = await navigator.mediaDevices.enumerateDevices();
      this.mics = devices.filter((d) => d.kind === 'audioinput');
      this.cams = devices.filter((d) => d.kind === 'videoinput');
      this.choice = {
        audioDeviceId: this.#stream.getAudioTracks()[0]?.getSettings().deviceId ?? '',
        videoDeviceId: this.#stream.getVideoTracks()[0]?.getSettings().deviceId ?? '',
      };
      this.problem = null;
      await this.updateComplete;
      if (this.videoEl) this.videoEl.srcObject = this.#stream;
      this.#meter(this.#stream);
      this.#emit();
    } catch (e) {
      this.problem = (e as DOMException).name === 'NotAllowedError' ? 'denied' : 'missing';
    }
  }

  #meter(stream: MediaStream) {
    if (!stream.getAudioTracks().length || typeof AudioContext === 'undefined') return;
    this.#audioCtx = new AudioContext();
    const analyser = this.#audioCtx.createAnalyser();
    this.#audioCtx.createMediaStreamSource(stream).connect(analyser);
    const data = new Uint8Array(analyser.fftSize);
    const tick = () => {
      analyser.getByteTimeDomainData(data);
      let peak = 0;
      for (const v of data) peak = Math.max(peak, Math.abs(v - 128));
      this.level = peak / 128;
      this.#raf = requestAnimationFrame(tick);
    };
    tick();
  }

  #stop() {
    cancelAnimationFrame(this.#raf);
    void this.#audioCtx?.close().catch(() => {});
    this.#audioCtx = null;
    this.#stream?.getTracks().forEach((t) => t.stop());
    this.#stream = null;
  }

  #select(kind: 'audio' | 'video', e: Event) {
    const id = (e.target as HTMLSelectElement).value;
    this.choice = kind === 'audio' ? { ...this.choice, audioDeviceId: id } : { ...this.choice, videoDeviceId: id };
    void this.#preview();
  }

  #emit() {
    this.dispatchEvent(new CustomEvent<DeviceChoice>('ec-devices', { detail: this.choice, bubbles: true, composed: true }));
  }

  override render() {
    if (this.problem)
      return html`<p class="notice" role="status" style="grid-column: 1 / -1">
        ${this.problem === 'denied'
          ? msg('Trình duyệt chưa cho phép dùng micro/camera. Hãy cho phép trong cài đặt của trình duyệt rồi thử lại.', { id: 'av.permissionDenied' })
          : msg('Không tìm thấy micro hoặc camera trên thiết bị này.', { id: 'av.noDevices' })}
      </p>`;
    return html`
      ${this.camera
        ? html`<div class="preview"><video autoplay playsinline muted aria-label=${msg('Xem trước camera', { id: 'av.preview' })}></video></div>`
        : nothing}
      <div class="fields">
        <label class="field"
          >${msg('Micro', { id: 'av.microphone' })}
          <select @change=${(e: Event) => this.#select('audio', e)} data-testid="mic-select">
            ${this.mics.map((d, i) => html`<option value=${d.deviceId} ?selected=${d.deviceId === this.choice.audioDeviceId}>${d.label || `Micro ${i + 1}`}</option>`)}
          </select>
        </label>
        <meter min="0" max="1" .value=${this.level} aria-label=${msg('Mức âm thanh', { id: 'av.level' })}></meter>
        ${this.camera
          ? html`<label class="field"
              >${msg('Camera', { id: 'av.camera' })}
              <select @change=${(e: Event) => this.#select('video', e)} data-testid="cam-select">
                ${this.cams.map((d, i) => html`<option value=${d.deviceId} ?selected=${d.deviceId === this.choice.videoDeviceId}>${d.label || `Camera ${i + 1}`}</option>`)}
              </select>
            </label>`
          : nothing}
      </div>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-av-device-picker': EcAvDevicePicker;
  }
}
