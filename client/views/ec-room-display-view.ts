import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import '../components/ec-live-timer.js';
import '../components/ec-quorum-badge.js';
import '../components/ec-vote-board.js';
import { statusLabel } from '../services/labels.js';
import { type LiveSession, LiveSessionController } from '../services/live.js';
import { connectionBanner, kindLabel, liveStyles } from './live-shared.js';

/**
 * The room's big screen: the current item, who has the floor with the timer, the quorum and how many
 * are connected. Read-only, large type, readable from the back of the room.
 */
@localized()
@customElement('ec-room-display-view')
export class EcRoomDisplayView extends LitElement {
  static override styles = [
    liveStyles,
    css`
      :host {
        display: block;
        min-height: 100vh;
        background: #0f2742;
        color: #fff;
      }
      .screen {
        display: grid;
        grid-template-rows: auto 1fr auto;
        min-height: 100vh;
        padding: 3vh 4vw;
        gap: 3vh;
      }
      .top {
        display: flex;
        justify-content: space-between;
        gap: 2rem;
        align-items: baseline;
        font-size: clamp(1rem, 2.2vw, 1.8rem);
      }
      .title {
        font-weight: 700;
      }
      .status {
        opacity: 0.8;
      }
      .label {
        text-transform: uppercase;
        letter-spacing: 0.08em;
        opacity: 0.7;
        font-size: clamp(0.9rem, 1.6vw, 1.3rem);
      }
      .item {
        font-size: clamp(1.6rem, 4.5vw, 3.6rem);
        font-weight: 700;
        line-height: 1.2;
      }
      .speaker {
        display: flex;
        align-items: center;
        gap: 2rem;
        flex-wrap: wrap;
        margin-top: 4vh;
      }
      .speaker .who {
        font-size: clamp(1.4rem, 3.6vw, 3rem);
        font-weight: 600;
      }
      .speaker ec-live-timer {
        font-size: clamp(3rem, 10vw, 9rem);
        margin-left: auto;
      }
      .kind {
        font-size: clamp(0.9rem, 1.6vw, 1.4rem);
      }
      .bottom {
        display: flex;
        justify-content: space-between;
        align-items: center;
        gap: 1rem;
        flex-wrap: wrap;
        font-size: clamp(1rem, 2vw, 1.6rem);
      }
      ec-quorum-badge {
        font-size: clamp(1rem, 2vw, 1.6rem);
      }
      .muted {
        opacity: 0.7;
      }
    `,
  ];

  @property({ attribute: false }) params: Record<string, string> = {};
  @property({ attribute: false }) query = new URLSearchParams();
  #live = new LiveSessionController(this, () => Number(this.params.id));
  private get session(): LiveSession | null {
    return this.#live.session;
  }

  override render() {
    const s = this.session;
    const st = s?.state;
    if (s?.joinError === 'not_found') return html`<div class="screen"><p>${msg('Không tìm thấy phiên họp.', { id: 'live.notFound' })}</p></div>`;
    if (!s || !st) return html`<div class="screen">${connectionBanner(s)}<p role="status">${msg('Đang tải phiên họp…', { id: 'live.loading' })}</p></div>`;
    const current = st.agenda.items.find((i) => i.status === 'current');
    const floor = st.speakers.floor;
    const online = st.attendance.attendance.filter((a) => a.online).length;
    return html`<div class="screen">
      <div>
        ${connectionBanner(s)}
        <div class="top">
          <span class="title">${st.meeting.title}</span>
          <span class="status" data-testid="meeting-status">${statusLabel(st.meeting.status)}</span>
        </div>
      </div>
      <main>
        <div class="label">${msg('Nội dung đang thảo luận', { id: 'live.currentItem' })}</div>
        <div class="item" data-testid="current-item">${current ? `${current.number}. ${current.title}` : msg('Chưa bắt đầu nội dung nào', { id: 'live.noCurrent' })}</div>
        ${floor
          ? html`<div class="speaker">
              <div>
                <div class="label">${msg('Đang phát biểu', { id: 'live.floor' })}</div>
                <div class="who" data-testid="speaker">${floor.fullName}</div>
                <span class="kind ${floor.kind}">${kindLabel(floor.kind)}</span>
              </div>
              <ec-live-timer .startedAt=${floor.startedAt} .allottedSeconds=${floor.allottedSeconds} .now=${() => s.client.now()}></ec-live-timer>
            </div>`
          : nothing}
        ${st.speakers.queue.length
          ? html`<p class="muted">${msg(str`Tiếp theo: ${st.speakers.queue.slice(0, 3).map((q) => q.fullName).join(', ')}`, { id: 'live.display.next' })}</p>`
          : nothing}
        <ec-vote-board meeting-id=${s.meetingId}></ec-vote-board>
      </main>
      <div class="bottom">
        <ec-quorum-badge .quorum=${st.attendance.quorum}></ec-quorum-badge>
        <span class="muted">${msg(str`${online} thiết bị đang kết nối`, { id: 'live.display.online' })}</span>
      </div>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-room-display-view': EcRoomDisplayView;
  }
}
