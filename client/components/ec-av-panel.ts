import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { MediaSession, RemotePeer } from '../services/media.js';
import { sharedStyles } from '../styles/shared.js';
import './ec-av-device-picker.js';
import type { DeviceChoice } from './ec-av-device-picker.js';
import './ec-av-tile.js';
import type { AvMuteEvent } from './ec-av-tile.js';

type Mode = 'remote' | 'in_room';

/** How long the call shows that its media came back by itself after reconnecting. */
const RECONNECTED_NOTE_MS = 6000;

/**
 * The meeting's audio and video: before joining, the choice between joining remotely (camera and
 * microphone, device picker and preview) and a tablet in the room (listen only); once joined, the
 * current speaker large with everyone else as thumbnails, mute / camera / audio-only /
 * low-bandwidth buttons, the connection quality, the floor as the server enforces it, and for the
 * chair open discussion and a mute button per participant. When A/V is unavailable it says so and
 * the rest of the meeting keeps working.
 */
@localized()
@customElement('ec-av-panel')
export class EcAvPanel extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      .join {
        display: flex;
        flex-direction: column;
        gap: 1rem;
      }
      .modes {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(220px, 1fr));
        gap: 0.75rem;
      }
      .mode {
        display: flex;
        gap: 0.6rem;
        align-items: flex-start;
        border: 2px solid var(--ec-border);
        border-radius: var(--ec-radius);
        padding: 0.75rem;
        min-height: var(--ec-touch);
        cursor: pointer;
        background: var(--ec-surface);
      }
      .mode[aria-checked='true'] {
        border-color: var(--ec-primary);
        background: var(--ec-primary-soft);
      }
      .mode small {
        display: block;
        color: var(--ec-muted);
        font-weight: 400;
      }
      .layout {
        display: grid;
        grid-template-columns: minmax(0, 3fr) minmax(180px, 1fr);
        gap: 0.75rem;
      }
      @media (max-width: 720px) {
        .layout {
          grid-template-columns: 1fr;
        }
      }
      .thumbs {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(150px, 1fr));
        gap: 0.5rem;
        align-content: start;
      }
      .controls {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
        margin-top: 0.75rem;
      }
      button[aria-pressed='true'] {
        background: var(--ec-primary);
        border-color: var(--ec-primary);
        color: #fff;
      }
      .floor {
        margin-bottom: 0.6rem;
      }
      .quality {
        display: inline-flex;
        align-items: center;
        gap: 0.35rem;
        font-size: 0.9rem;
        color: var(--ec-muted);
      }
      .dot {
        width: 12px;
        height: 12px;
        border-radius: 50%;
        background: #a0a8b5;
      }
      .dot.good {
        background: var(--ec-success);
      }
      .dot.fair {
        background: #d79b00;
      }
      .dot.poor {
        background: var(--ec-danger);
      }
    `,
  ];

  @property({ attribute: false }) session!: MediaSession;
  /** Names of the meeting's participants, for peers and the floor line. */
  @property({ attribute: false }) names: Map<number, string> = new Map();
  @state() private mode: Mode = 'remote';
  @state() private camera = true;
  @state() private headphones = false;
  @state() private busy = false;
  #devices: DeviceChoice | null = null;
  #noteTimer: ReturnType<typeof setTimeout> | undefined;

  /** Re-renders when the "reconnected" note is due to go. */
  #hideNoteLater(ms: number) {
    clearTimeout(this.#noteTimer);
    this.#noteTimer = setTimeout(() => this.requestUpdate(), Math.max(0, ms) + 50);
  }
  #onChange = () => this.requestUpdate();

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('session')) {
      (changed.get('session') as MediaSession | undefined)?.removeEventListener('change', this.#onChange);
      this.session?.addEventListener('change', this.#onChange);
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.#noteTimer);
    this.session?.removeEventListener('change', this.#onChange);
  }

  override render() {
    const s = this.session;
    if (!s) return nothing;
    switch (s.state) {
      case 'idle':
        return this.#renderJoin();
      case 'joining':
        return html`<p class="state" role="status" data-testid="av-joining">${msg('Đang kết nối âm thanh và hình ảnh…', { id: 'av.joining' })}</p>`;
      case 'reconnecting':
        // The media dropped by no choice of the user (connection, server node change): it comes back by itself.
        return html`<p class="state notice" role="status" data-testid="av-reconnecting">
          ${msg('Đang kết nối lại âm thanh và hình ảnh… Micro và camera của bạn vẫn giữ nguyên.', { id: 'av.reconnecting' })}
        </p>`;
      case 'unavailable':
      case 'error':
        return this.#renderUnavailable();
      default:
        return this.#renderCall();
    }
  }

  #renderJoin() {
    const mode = (m: Mode, title: string, hint: string) =>
      html`<div
        class="mode"
        role="radio"
        tabindex="0"
        aria-checked=${this.mode === m}
        data-testid="mode-${m}"
        @click=${() => (this.mode = m)}
        @keydown=${(e: KeyboardEvent) => (e.key === ' ' || e.key === 'Enter') && (this.mode = m)}
      >
        <strong>${title}<small>${hint}</small></strong>
      </div>`;
    return html`<section class="join card" aria-labelledby="av-join-title">
      <h2 id="av-join-title">${msg('Tham gia âm thanh và hình ảnh', { id: 'av.joinTitle' })}</h2>
      <div class="modes" role="radiogroup">
        ${mode('remote', msg('Họp từ xa', { id: 'av.modeRemote' }), msg('Dùng micro và camera của thiết bị này.', { id: 'av.modeRemoteHint' }))}
        ${mode(
          'in_room',
          msg('Máy tính bảng trong phòng họp', { id: 'av.modeInRoom' }),
          msg('Chỉ nghe và xem, không phát âm thanh (tránh vọng tiếng). Có thể nghe bằng tai nghe.', { id: 'av.modeInRoomHint' }),
        )}
      </div>
      ${this.mode === 'remote' && !this.busy
        ? html`<label class="row"
              ><input type="checkbox" .checked=${this.camera} @change=${(e: Event) => (this.camera = (e.target as HTMLInputElement).checked)} />
              ${msg('Bật camera', { id: 'av.withCamera' })}</label
            >
            <ec-av-device-picker .camera=${this.camera} @ec-devices=${(e: CustomEvent<DeviceChoice>) => (this.#devices = e.detail)}></ec-av-device-picker>`
        : nothing}
      <div class="row">
        <button class="primary" data-testid="av-join" ?disabled=${this.busy} @click=${this.#join}>${msg('Tham gia', { id: 'av.join' })}</button>
      </div>
    </section>`;
  }

  #renderUnavailable() {
    const s = this.session;
    const why =
      s.error === 'sfu_disabled'
        ? msg('Máy chủ chưa bật âm thanh/hình ảnh.', { id: 'av.reasonDisabled' })
        : s.error === 'NotAllowedError'
          ? msg('Trình duyệt chưa cho phép dùng micro/camera.', { id: 'av.reasonDenied' })
          : s.error === 'NotFoundError'
            ? msg('Không tìm thấy micro hoặc camera.', { id: 'av.reasonNoDevice' })
            : msg('Không kết nối được âm thanh/hình ảnh.', { id: 'av.reasonError' });
    return html`<section class="card" data-testid="av-unavailable" role="status">
      <p class="notice">
        <strong>${msg('Âm thanh/hình ảnh hiện không khả dụng.', { id: 'av.unavailable' })}</strong> ${why}
        ${msg('Cuộc họp vẫn tiếp tục: chương trình, tài liệu, phát biểu và biểu quyết vẫn hoạt động.', { id: 'av.restWorks' })}
      </p>
      <button @click=${() => s.leave()}>${msg('Thử lại', { id: 'av.retry' })}</button>
    </section>`;
  }

  #renderCall() {
    const s = this.session;
    const me = s.me!;
    const peers = [...s.peers.values()];
    const stageId = this.#stageUser(peers);
    const stage = peers.find((p) => p.userId === stageId);
    const others = peers.filter((p) => p !== stage);
    const name = (id: number | null) => (id === null ? '' : id === me.userId ? msg('bạn', { id: 'av.youLower' }) : (s.peers.get(id)?.fullName ?? this.names.get(id) ?? `#${id}`));
    const f = s.floor;
    const play = !me.receiveOnly || this.headphones;
    const back = s.reconnectedAt !== null && Date.now() - s.reconnectedAt < RECONNECTED_NOTE_MS;
    if (back) this.#hideNoteLater(s.reconnectedAt! + RECONNECTED_NOTE_MS - Date.now());
    return html`
      ${back ? html`<p class="ok" role="status" data-testid="av-reconnected">${msg('Âm thanh và hình ảnh đã kết nối lại.', { id: 'av.reconnected' })}</p>` : nothing}
      <p class="floor ${f.openDiscussion ? 'ok' : 'notice'}" role="status" data-testid="av-floor">
        ${f.openDiscussion
          ? msg('Thảo luận tự do: mọi người có thể mở micro.', { id: 'av.openDiscussion' })
          : f.speakerUserId !== null
            ? msg(str`Đang phát biểu: ${name(f.speakerUserId)}`, { id: 'av.speaking' })
            : msg('Chưa có ai được phát biểu.', { id: 'av.noSpeaker' })}
        ${me.receiveOnly
          ? nothing
          : s.micOpen
            ? html` · <strong data-testid="my-mic">${msg('Micro của bạn đang mở.', { id: 'av.myMicOpen' })}</strong>`
            : html` · <span data-testid="my-mic">${msg('Micro của bạn đang đóng cho đến khi được phát biểu.', { id: 'av.myMicClosed' })}</span>`}
      </p>
      <div class="layout" @ec-av-mute=${(e: AvMuteEvent) => void s.chairMute(e.detail.userId, e.detail.muted)}>
        <div data-testid="av-stage">${stage ? this.#tile(stage, play, true) : this.#selfTile(true)}</div>
        <div class="thumbs" data-testid="av-thumbs">${stage ? this.#selfTile(false) : nothing} ${others.map((p) => this.#tile(p, play, false))}</div>
      </div>
      <div class="controls">
        ${me.receiveOnly
          ? html`<button aria-pressed=${this.headphones} data-testid="headphones" @click=${() => (this.headphones = !this.headphones)}>
              ${msg('Nghe bằng tai nghe', { id: 'av.headphones' })}
            </button>`
          : html`<button aria-pressed=${s.selfMuted} data-testid="self-mute" @click=${() => void s.setMuted(!s.selfMuted)}>
                ${s.selfMuted ? msg('Bật micro', { id: 'av.unmute' }) : msg('Tắt micro của tôi', { id: 'av.mute' })}
              </button>
              <button aria-pressed=${s.cameraOn} ?disabled=${s.audioOnly} data-testid="camera" @click=${() => void s.setCamera(!s.cameraOn)}>
                ${s.cameraOn ? msg('Tắt camera', { id: 'av.cameraOff' }) : msg('Bật camera', { id: 'av.cameraOn' })}
              </button>`}
        <button aria-pressed=${s.audioOnly} data-testid="audio-only" @click=${() => void s.setAudioOnly(!s.audioOnly)}>${msg('Chỉ âm thanh', { id: 'av.audioOnly' })}</button>
        <button aria-pressed=${s.lowBandwidth} data-testid="low-bandwidth" @click=${() => void s.setLowBandwidth(!s.lowBandwidth)}>
          ${msg('Tiết kiệm băng thông', { id: 'av.lowBandwidth' })}
        </button>
        ${me.canChair
          ? html`<button aria-pressed=${f.openDiscussion} data-testid="open-discussion" @click=${() => void s.setOpenDiscussion(!f.openDiscussion)}>
              ${msg('Thảo luận tự do', { id: 'av.openDiscussionToggle' })}
            </button>`
          : nothing}
        <span class="spacer"></span>
        <span class="quality" data-testid="av-quality" title=${s.stats.rttMs !== null ? `RTT ${s.stats.rttMs} ms · ${s.stats.lossPct ?? 0}%` : ''}>
          <span class="dot ${s.quality}"></span>${this.#qualityLabel()}
        </span>
        <button class="danger" data-testid="av-leave" @click=${() => void s.leave()}>${msg('Rời âm thanh/hình ảnh', { id: 'av.leave' })}</button>
      </div>
    `;
  }

  /** Who is shown large: the floor holder, else the active speaker, else the room, else anyone with video. */
  #stageUser(peers: RemotePeer[]): number | null {
    const s = this.session;
    const has = (id: number | null) => id !== null && peers.some((p) => p.userId === id);
    if (has(s.floor.speakerUserId)) return s.floor.speakerUserId;
    if (has(s.activeSpeaker)) return s.activeSpeaker;
    return peers.find((p) => p.roomStation)?.userId ?? peers.find((p) => p.video)?.userId ?? peers[0]?.userId ?? null;
  }

  #tile(p: RemotePeer, play: boolean, large: boolean) {
    const s = this.session;
    return html`<ec-av-tile
      data-user=${p.userId}
      data-testid=${large ? 'stage-tile' : 'thumb-tile'}
      .userId=${p.userId}
      .name=${p.fullName}
      .audio=${p.audio}
      .video=${p.video}
      .hasMic=${p.hasMic}
      .micOpen=${p.hasMic && !p.micClosed}
      .roomStation=${p.roomStation}
      .playAudio=${play}
      .canMute=${!!s.me?.canChair && p.hasMic}
      .chairMuted=${s.floor.chairMuted.includes(p.userId)}
      ?active=${s.activeSpeaker === p.userId}
    ></ec-av-tile>`;
  }

  #selfTile(large: boolean) {
    const s = this.session;
    const me = s.me!;
    if (me.receiveOnly && !large) return nothing;
    return html`<ec-av-tile
      self
      data-testid=${large ? 'stage-tile' : 'thumb-tile'}
      .userId=${me.userId}
      .name=${this.names.get(me.userId) ?? ''}
      .video=${s.localStream?.getVideoTracks()[0] ?? null}
      .hasMic=${!me.receiveOnly}
      .micOpen=${s.micOpen}
      ?active=${s.activeSpeaker === me.userId}
    ></ec-av-tile>`;
  }

  #qualityLabel() {
    switch (this.session.quality) {
      case 'good':
        return msg('Kết nối tốt', { id: 'av.qualityGood' });
      case 'fair':
        return msg('Kết nối trung bình', { id: 'av.qualityFair' });
      case 'poor':
        return msg('Kết nối kém', { id: 'av.qualityPoor' });
      default:
        return msg('Đang đo kết nối…', { id: 'av.qualityUnknown' });
    }
  }

  async #join() {
    this.busy = true;
    try {
      // The preview holds the devices; it is removed (and releases them) before the session opens its own.
      await this.updateComplete;
      await this.session.join({
        receiveOnly: this.mode === 'in_room',
        camera: this.mode === 'remote' && this.camera,
        audioDeviceId: this.#devices?.audioDeviceId || undefined,
        videoDeviceId: this.#devices?.videoDeviceId || undefined,
      });
    } finally {
      this.busy = false;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-av-panel': EcAvPanel;
  }
}
