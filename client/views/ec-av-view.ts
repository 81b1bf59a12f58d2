import { consume } from '@lit/context';
import { localized, msg } from '@lit/localize';
import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { Meeting } from '../../shared/protocol/meetings.js';
import '../components/ec-av-panel.js';
import type { Api } from '../services/api.js';
import { apiContext } from '../services/context.js';
import { Loader } from '../services/loader.js';
import { MediaSession } from '../services/media.js';
import { RealtimeClient } from '../services/socket.js';
import { sharedStyles } from '../styles/shared.js';

declare global {
  interface Window {
    /** The page's A/V session, for diagnostics (inbound bytes, quality) from the console and tests. */
    ecMedia?: MediaSession;
  }
}

/**
 * `/meetings/:id/av`: the meeting's audio and video on its own page (the room station's screen,
 * a remote member's call). Opens its own realtime connection; the live meeting view can embed
 * `<ec-av-panel>` with its own session instead.
 */
@localized()
@customElement('ec-av-view')
export class EcAvView extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      .page {
        max-width: 1200px;
      }
      .back {
        display: inline-flex;
        align-items: center;
        min-height: var(--ec-touch);
      }
    `,
  ];

  @property({ attribute: false }) params: Record<string, string> = {};
  @consume({ context: apiContext }) private api!: Api;
  #meeting = new Loader(this, () => this.api.get<Meeting>(`/api/meetings/${this.params.id}`), {
    // The meeting is there: join its audio and video on a connection of this page's own.
    onValue: (meeting) => {
      this.#client = new RealtimeClient();
      this.session = new MediaSession(this.#client, meeting.id);
      window.ecMedia = this.session;
    },
  });
  @state() private session: MediaSession | null = null;
  #client: RealtimeClient | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#meeting.load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    void this.session?.leave();
    this.session?.dispose();
    this.#client?.close();
    if (window.ecMedia === this.session) delete window.ecMedia;
  }

  override render() {
    if (this.#meeting.error)
      return html`<div class="page">
        <h1>${msg('Không tìm thấy cuộc họp', { id: 'meetings.notFound' })}</h1>
        <p class="muted">${msg('Cuộc họp không tồn tại hoặc bạn không được mời.', { id: 'meetings.notFoundHint' })}</p>
      </div>`;
    const meeting = this.#meeting.value;
    if (!meeting || !this.session) return html`<p class="state" role="status">${msg('Đang tải…', { id: 'av.loading' })}</p>`;
    const names = new Map(meeting.participants.map((p) => [p.userId, p.fullName]));
    return html`<div class="page">
      <a class="back" href="/meetings/${meeting.id}">← ${meeting.title}</a>
      <h1>${msg('Âm thanh và hình ảnh', { id: 'av.title' })}</h1>
      <ec-av-panel .session=${this.session} .names=${names}></ec-av-panel>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-av-view': EcAvView;
  }
}
