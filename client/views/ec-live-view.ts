import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { LitElement, html, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { Locale, Me } from '../../shared/protocol/auth.js';
import type { MeetingPack } from '../../shared/protocol/documents.js';
import type { SpeakerKind } from '../../shared/protocol/live.js';
import type { EcPdfViewer, PageChangeDetail, ZoomChangeDetail } from '../components/ec-pdf-viewer.js';
import '../components/ec-document-annotations.js';
import '../components/ec-live-timer.js';
import '../components/ec-quorum-badge.js';
import '../components/ec-vote-delegation.js';
import '../components/ec-vote-panel.js';
import type { Api } from '../services/api.js';
import { apiContext, localeContext, meContext } from '../services/context.js';
import { formatDateTime } from '../services/format.js';
import { Loader } from '../services/loader.js';
import { FillBelowHeader } from '../styles/document-page.js';
import { statusLabel } from '../services/labels.js';
import { errorText } from '../services/errors.js';
import { type LiveSession, LiveSessionController } from '../services/live.js';
import { sharedRealtime } from '../services/socket.js';
import { VotesSession } from '../services/votes.js';
import { attendanceLabel, connectionBanner, kindLabel, liveStyles, presenterOffline } from './live-shared.js';
import { liveViewStyles } from './ec-live-view.styles.js';

const KINDS: SpeakerKind[] = ['speech', 'question', 'point_of_order'];
/** Two zooms closer than this are the same (relative zooms are rounded to 1/1000). */
const SAME_ZOOM = 0.01;

/**
 * A participant's tablet during the meeting, document first: the document being discussed fills
 * the screen; a compact bar above it holds the current item, who has the floor with the shared
 * timer and the member's next action (check in, ask for the floor, withdraw); everything else
 * (attendance, vote delegation, the kinds of floor requests) is in a side panel that opens on
 * demand. An open vote always shows between the bar and the document, never inside the panel.
 *
 * Follow the presenter (default): the viewer moves to the presenter's document, page and zoom on
 * every `presenter:moved`. Scrolling or zooming away stops following and shows "you left the
 * presenter" with one tap back. Whoever may present (chair, the item's presenter, the speaker)
 * presents the document they are reading: their page and zoom go to everyone. Annotations (private,
 * shared on request) are one tap away on the same viewer.
 */
@localized()
@customElement('ec-live-view')
export class EcLiveView extends LitElement {
  static override styles = [liveStyles, liveViewStyles];

  @property({ attribute: false }) params: Record<string, string> = {};
  @property({ attribute: false }) query = new URLSearchParams();
  @consume({ context: apiContext }) private api!: Api;
  @consume({ context: meContext, subscribe: true }) private me: Me | null = null;
  @consume({ context: localeContext, subscribe: true }) private locale: Locale = 'vi';

  #live = new LiveSessionController(this, () => Number(this.params.id), () => this.#sync());
  private get session(): LiveSession | null {
    return this.#live.session;
  }
  /** The meeting's votes and delegations, shared by the vote panel and the delegation card. */
  @state() private votes: VotesSession | null = null;
  @state() private error = '';
  /** A command waiting for the network (idempotent ones are sent once the tablet is back), in words. */
  @state() private queued = '';
  @state() private busy = false;
  /** Follow the presenter (default) or browse freely. */
  @state() private following = true;
  /** The document, page and zoom (relative to fit width) this tablet shows. */
  @state() private docId: number | null = null;
  @state() private page = 1;
  @state() private zoom = 1;
  @state() private presenting = false;
  /** The meeting's documents to pick from (none when they cannot be loaded). */
  #pack = new Loader(this, () => this.api.get<MeetingPack>(`/api/meetings/${this.params.id}/documents`));
  /** The side panel (attendance, delegation, floor requests). */
  @state() private panelOpen = false;
  /** The annotation tools on the viewer. */
  @state() private annotating = false;
  @state() private viewerEl: EcPdfViewer | null = null;
  @query('ec-pdf-viewer') private viewerQuery!: EcPdfViewer | null;
  /** Fixed when the view opens: the watermark says when this copy was looked at. */
  #openedAt = new Date().toISOString();
  /** The view fills the screen below the app header (the controller measures after each update). */
  #fill = new FillBelowHeader(this);
  /** A presenter:show is in flight / another position waits to be sent after it (coalesced). */
  #sending = false;
  #sendAgain = false;
  /** My presenter:stop is in flight (the pushes before it still name me: do not resume). */
  #stopping = false;

  override connectedCallback(): void {
    super.connectedCallback();
    void import('../components/ec-pdf-viewer.js');
    const id = Number(this.params.id);
    this.following = localStorage.getItem(`ec-follow-${id}`) !== 'false';
    this.panelOpen = localStorage.getItem('ec-live-panel') === 'open';
    this.votes = new VotesSession(this.api, sharedRealtime(), id);
    void this.#pack.load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.votes?.close();
    this.votes = null;
  }

  override updated(): void {
    if (this.viewerQuery !== this.viewerEl) this.viewerEl = this.viewerQuery;
  }

  /**
   * A push arrived. The server's presenter decides who presents: this tablet presents while it is me
   * (also after a reload or a reconnect, and when I move pages from the console), stops when someone
   * else takes over or the chair stops it (then follows the new presenter), and otherwise follows if
   * the reader does. While one of my own positions is in flight its echo is not applied (it would pull
   * a fast reader back).
   */
  #sync() {
    const s = this.session;
    const p = s?.state?.presenter ?? null;
    const mine = !!p && p.presenterId === s?.userId;
    const inFlight = this.#sending || this.#sendAgain || this.#stopping;
    if (!inFlight) {
      if (mine && this.#mayPresent()) {
        this.presenting = true;
        if (p.documentId !== this.docId || p.page !== this.page || Math.abs(p.zoom - this.zoom) > SAME_ZOOM) this.#show(p);
      } else if (this.presenting) {
        // Handed over (or stopped): follow whoever presents now.
        this.presenting = false;
        if (p) this.#setFollowing(true);
      } else if (p && this.following) this.#show(p);
    }
    if (this.presenting && !this.#mayPresent()) this.presenting = false;
    this.requestUpdate();
  }

  #show(p: { documentId: number; page: number; zoom: number }) {
    this.docId = p.documentId;
    this.page = p.page;
    this.zoom = p.zoom;
  }

  async #run(fn: () => Promise<unknown>) {
    this.busy = true;
    this.error = '';
    // With no network the command waits (and is sent once, with its id, on reconnect) or is refused
    // at once: either way the member is told, never left with a silent grey button.
    if (this.session?.connection !== 'online' || navigator.onLine === false) {
      this.queued = msg('Máy tính bảng đang mất kết nối: yêu cầu sẽ được gửi khi có kết nối trở lại.', { id: 'live.queued' });
    }
    try {
      await fn();
    } catch (e) {
      this.error = errorText(e, 'command');
    } finally {
      this.busy = false;
      this.queued = '';
    }
  }

  #setFollowing(on: boolean) {
    this.following = on;
    localStorage.setItem(`ec-follow-${this.session?.meetingId}`, String(on));
    const p = this.session?.state?.presenter;
    if (on && p) this.#show(p);
  }

  #toggleAnnotating() {
    this.annotating = !this.annotating;
  }

  #togglePanel(open = !this.panelOpen) {
    this.panelOpen = open;
    localStorage.setItem('ec-live-panel', open ? 'open' : 'closed');
  }

  #onPageChange(e: CustomEvent<PageChangeDetail>) {
    this.page = e.detail.page;
    if (e.detail.source !== 'user') return;
    const p = this.session?.state?.presenter;
    if (this.presenting && this.docId != null) this.#sendPosition();
    else if (this.following && p && (e.detail.page !== p.page || this.docId !== p.documentId)) this.#setFollowing(false);
  }

  #onZoomChange(e: CustomEvent<ZoomChangeDetail>) {
    this.zoom = e.detail.zoom;
    if (e.detail.source !== 'user') return;
    const p = this.session?.state?.presenter;
    if (this.presenting && this.docId != null) this.#sendPosition();
    else if (this.following && p && Math.abs(e.detail.zoom - p.zoom) > SAME_ZOOM) this.#setFollowing(false);
  }

  /**
   * Sends what this presenter shows. Positions are coalesced: at most one command in flight, and
   * only the latest position is sent after it — a quick scroll through fifty pages is two commands,
   * not fifty (and never hits the rate limit).
   */
  #sendPosition() {
    if (this.#sending) {
      this.#sendAgain = true;
      return;
    }
    if (!this.presenting || this.docId == null) return;
    this.#sending = true;
    const zoom = Math.min(8, Math.max(0.25, Math.round(this.zoom * 1000) / 1000));
    void this.#run(() => this.session!.command('presenter:show', { documentId: this.docId!, page: this.page, zoom })).finally(() => {
      this.#sending = false;
      if (this.#sendAgain) {
        this.#sendAgain = false;
        this.#sendPosition();
      } else this.#sync();
    });
  }

  #mayPresent(): boolean {
    const s = this.session;
    const st = s?.state;
    if (!s || !st || (st.meeting.status !== 'live' && st.meeting.status !== 'paused')) return false;
    const current = st.agenda.items.find((i) => i.status === 'current');
    return !!s.access?.canChair || st.speakers.floor?.userId === s.userId || (current?.presenterId != null && current.presenterId === s.userId);
  }

  #present(on: boolean) {
    if (!on) {
      this.presenting = false;
      this.#stopping = true;
      void this.#run(() => this.session!.command('presenter:stop', {})).finally(() => {
        this.#stopping = false;
        this.#sync();
      });
      return;
    }
    if (this.docId == null) return;
    this.presenting = true;
    this.#sendPosition();
  }

  override render() {
    const s = this.session;
    const st = s?.state;
    if (s?.joinError === 'not_found') return html`<p class="error">${msg('Không tìm thấy phiên họp.', { id: 'live.notFound' })}</p>`;
    if (!s || !st)
      return html`${connectionBanner(s)}<p class="muted" role="status" style="padding:1rem">${msg('Đang tải phiên họp…', { id: 'live.loading' })}</p>`;
    return html`
      ${connectionBanner(s)} ${this.#renderBar()} ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${this.queued ? html`<p class="offline" role="status" data-testid="command-queued">${this.queued}</p>` : nothing}
      <div class="vote"><ec-vote-panel .session=${this.votes}></ec-vote-panel></div>
      <div class="main">${this.#renderDocument()} ${this.panelOpen ? this.#renderPanel() : nothing}</div>
    `;
  }

  /** The compact bar: meeting, current item, who speaks with the timer, my next action, the panel toggle. */
  #renderBar() {
    const s = this.session!;
    const st = s.state!;
    const current = st.agenda.items.find((i) => i.status === 'current');
    const floor = st.speakers.floor;
    return html`<header class="bar">
      <h1 title=${st.meeting.title}>${st.meeting.title}</h1>
      <span class="badge" data-testid="meeting-status">${statusLabel(st.meeting.status)}</span>
      <div class="item" data-testid="current-item" title=${current ? `${current.number}. ${current.title}` : ''}>
        <small>${msg('Đang thảo luận', { id: 'live.bar.now' })}</small>${current ? `${current.number}. ${current.title}` : msg('Chưa bắt đầu nội dung nào', { id: 'live.noCurrent' })}
      </div>
      ${floor
        ? html`<span class="speaker" aria-label=${msg('Đang phát biểu', { id: 'live.floor' })}>
            <svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
              <rect x="9" y="2" width="6" height="12" rx="3"></rect><path d="M5 10a7 7 0 0 0 14 0M12 17v5M8 22h8"></path>
            </svg>
            <span data-testid="speaker">${floor.fullName}</span>
            <ec-live-timer .startedAt=${floor.startedAt} .allottedSeconds=${floor.allottedSeconds} .now=${() => s.client.now()}></ec-live-timer>
          </span>`
        : nothing}
      <div class="actions">
        ${this.#renderMyAction()}
        <button data-testid="panel-toggle" aria-expanded=${this.panelOpen ? 'true' : 'false'} aria-controls="live-panel" @click=${() => this.#togglePanel()}
          title=${msg('Điểm danh, ủy quyền, đăng ký phát biểu', { id: 'live.panel.hint' })}>
          ☰ <span class="panel-label">${msg('Phiên họp', { id: 'live.panel' })}</span>
        </button>
      </div>
    </header>`;
  }

  /** The one thing a member most likely wants to do now. */
  #renderMyAction() {
    const s = this.session!;
    const st = s.state!;
    const me = s.me;
    if (!me || st.meeting.status === 'closed') return nothing;
    const checkedIn = me.status === 'in_room' || me.status === 'remote';
    if (!checkedIn)
      return html`<button class="primary" data-testid="bar-check-in" ?disabled=${this.busy} @click=${() => this.#run(() => s.command('attendance:check_in', { mode: 'in_room' }))}>
        ${msg('Điểm danh có mặt', { id: 'live.bar.checkIn' })}
      </button>`;
    if (st.speakers.floor?.userId === s.userId) return html`<span class="mine" data-testid="my-floor">${msg('Bạn đang được phát biểu', { id: 'live.youHaveFloor' })}</span>`;
    const mine = st.speakers.queue.findIndex((q) => q.userId === s.userId);
    if (mine >= 0)
      return html`<span class="mine" data-testid="my-request">${msg(str`Bạn đang ở vị trí ${mine + 1} trong danh sách chờ`, { id: 'live.myPosition' })}</span>
        <button data-testid="withdraw" ?disabled=${this.busy} @click=${() => this.#run(() => s.command('speaker:withdraw', { requestId: st.speakers.queue[mine].id }))}>
          ${msg('Rút đăng ký', { id: 'live.withdraw' })}
        </button>`;
    if (st.meeting.status !== 'live') return nothing;
    return html`<button class="primary" data-testid="ask-speech" ?disabled=${this.busy} @click=${() => this.#run(() => s.command('speaker:request', { kind: 'speech' }))}>
      ${msg('Xin phát biểu', { id: 'live.bar.ask' })}
    </button>`;
  }

  #renderDocument() {
    const s = this.session!;
    const st = s.state!;
    const p = st.presenter;
    const docs = (this.#pack.value?.items ?? []).flatMap((i) => i.documents.map((d) => ({ ...d, item: i.number })));
    const doc = docs.find((d) => d.id === this.docId) ?? null;
    const docName = (id: number | null) => docs.find((d) => d.id === id)?.title ?? (id != null ? `#${id}` : '');
    const may = this.#mayPresent();
    const me = this.me;
    const watermark = me ? [me.fullName, me.unit ?? '', formatDateTime(this.#openedAt, this.locale)].filter(Boolean) : [];
    const left = !!p && !this.following && !this.presenting;
    return html`<section class="doc" aria-labelledby="pres">
      <h2 id="pres" class="visually-hidden">${msg('Tài liệu trình bày', { id: 'live.presenter' })}</h2>
      <div class="docbar">
        <p class="who" data-testid="presenter-state">
          ${p
            ? html`${msg(str`${p.presenterName} đang trình bày`, { id: 'live.presenting' })}: ${docName(p.documentId)},
                <strong data-testid="presenter-page">${msg(str`trang ${p.page}`, { id: 'live.pageN' })}</strong>
                ${presenterOffline(st, p) ? html`<span class="offline-tag" data-testid="presenter-offline">(${msg('mất kết nối', { id: 'live.presenterOffline' })})</span>` : nothing}`
            : msg('Chưa có ai trình bày tài liệu', { id: 'live.noPresenter' })}
        </p>
        <label class="doc"
          ><span class="visually-hidden">${msg('Tài liệu', { id: 'live.document' })}</span>
          <select data-testid="doc-select" aria-label=${msg('Tài liệu', { id: 'live.document' })} @change=${(e: Event) => this.#pickDoc(Number((e.target as HTMLSelectElement).value))}>
            <option value="" ?selected=${this.docId == null}>${msg('— Chọn tài liệu —', { id: 'live.pickDocument' })}</option>
            ${docs.map((d) => html`<option value=${d.id} ?selected=${d.id === this.docId}>${d.item}. ${d.title}</option>`)}
          </select></label
        >
        <label class="toggle"
          ><input type="checkbox" data-testid="follow" .checked=${this.following} @change=${(e: Event) => this.#setFollowing((e.target as HTMLInputElement).checked)} />
          <span class="long">${msg('Theo dõi người trình bày', { id: 'live.follow' })}</span
          ><span class="short">${msg('Theo dõi', { id: 'live.followShort' })}</span></label
        >
        ${may
          ? html`<label class="toggle"
              ><input type="checkbox" data-testid="present" .checked=${this.presenting} ?disabled=${this.docId == null}
                @change=${(e: Event) => this.#present((e.target as HTMLInputElement).checked)} />
              <span class="long">${msg('Trình bày cho mọi người', { id: 'live.presentAll' })}</span
              ><span class="short">${msg('Trình bày', { id: 'live.presentShort' })}</span></label
            >`
          : nothing}
        ${doc && me
          ? html`<button data-testid="annotate-toggle" aria-expanded=${this.annotating ? 'true' : 'false'} aria-label=${msg('Ghi chú', { id: 'live.annotate' })}
              @click=${() => this.#toggleAnnotating()}>
              ✎<span class="long"> ${msg('Ghi chú', { id: 'live.annotate' })}</span>
            </button>`
          : nothing}
        <span class="mypage" data-testid="my-page">${this.docId != null ? msg(str`Bạn đang xem trang ${this.page}`, { id: 'live.myPage' }) : nothing}</span>
      </div>
      ${doc && me
        ? html`<ec-document-annotations
            .open=${this.annotating}
            .viewer=${this.viewerEl}
            .documentId=${doc.id}
            .meetingId=${doc.meetingId}
            .versionId=${doc.current.id}
            .isCurrentVersion=${true}
            .me=${{ id: me.id, fullName: me.fullName }}
          ></ec-document-annotations>`
        : nothing}
      <div class="viewer">
        ${this.docId != null
          ? html`<ec-pdf-viewer
              src="/api/documents/${this.docId}/file"
              findUrl="/api/documents/${this.docId}/find"
              .page=${this.page}
              .relativeZoom=${this.zoom}
              .watermark=${watermark}
              @ec-page-change=${this.#onPageChange}
              @ec-zoom-change=${this.#onZoomChange}
            ></ec-pdf-viewer>`
          : html`<p class="empty">${msg('Chọn một tài liệu để đọc, hoặc chờ người trình bày.', { id: 'live.noDocument' })}</p>`}
        ${left
          ? html`<div class="left" role="status" data-testid="left-presenter">
              <span>${msg('Bạn đã rời khỏi trang người trình bày', { id: 'live.leftPresenter' })}</span>
              <button data-testid="back-to-presenter" @click=${() => this.#setFollowing(true)}>${msg('Về trang người trình bày', { id: 'live.backToPresenter' })}</button>
            </div>`
          : nothing}
      </div>
    </section>`;
  }

  /** Everything that is not the document: attendance, delegation, the speakers' list. */
  #renderPanel() {
    const s = this.session!;
    const st = s.state!;
    const me = s.me;
    const floor = st.speakers.floor;
    const myRequest = st.speakers.queue.findIndex((q) => q.userId === s.userId);
    const checkedIn = me?.status === 'in_room' || me?.status === 'remote';
    const running = st.meeting.status === 'live';
    const closed = st.meeting.status === 'closed';
    return html`<aside id="live-panel" aria-label=${msg('Phiên họp', { id: 'live.panel' })}>
      <button class="close" @click=${() => this.#togglePanel(false)}>✕ ${msg('Đóng', { id: 'live.panel.close' })}</button>
      <section class="card" aria-labelledby="meet">
        <h2 id="meet">${st.meeting.title}</h2>
        <div class="row">
          <ec-quorum-badge .quorum=${st.attendance.quorum}></ec-quorum-badge>
          ${s.access?.canChair
            ? html`<a class="btnlink" href="/meetings/${s.meetingId}/console" data-testid="to-console">${msg('Bảng điều khiển chủ tọa', { id: 'live.toConsole' })}</a>`
            : nothing}
        </div>
      </section>
      <section class="card" aria-labelledby="floor">
        <h2 id="floor">${msg('Đang phát biểu', { id: 'live.floor' })}</h2>
        ${floor
          ? html`<div class="floor">
              <span class="who">${floor.fullName}</span>
              <span class="kind ${floor.kind}">${kindLabel(floor.kind)}</span>
            </div>`
          : html`<p class="muted" data-testid="speaker-none">${msg('Chưa có ai được phát biểu', { id: 'live.noFloor' })}</p>`}
        <p class="muted">${msg(str`${st.speakers.queue.length} người đang chờ`, { id: 'live.waitingCount' })}</p>
      </section>
      <section class="card" aria-labelledby="att">
        <h2 id="att">${msg('Điểm danh', { id: 'live.checkIn' })}</h2>
        ${me
          ? html`<p data-testid="my-attendance">${attendanceLabel(me.status)}</p>
              <div class="row">
                <button class=${me.status === 'in_room' ? 'primary' : ''} data-testid="check-in-room" ?disabled=${this.busy || closed}
                  @click=${() => this.#run(() => s.command('attendance:check_in', { mode: 'in_room' }))}>
                  ${msg('Có mặt tại phòng', { id: 'live.att.inRoom' })}
                </button>
                <button class=${me.status === 'remote' ? 'primary' : ''} data-testid="check-in-remote" ?disabled=${this.busy || closed}
                  @click=${() => this.#run(() => s.command('attendance:check_in', { mode: 'remote' }))}>
                  ${msg('Dự trực tuyến', { id: 'live.att.remote' })}
                </button>
                <button data-testid="report-absent" ?disabled=${this.busy || closed} @click=${() => this.#reportAbsent()}>
                  ${msg('Báo vắng', { id: 'live.reportAbsent' })}
                </button>
              </div>
              ${me.status === 'absent' && me.reason ? html`<p class="muted">${me.reason}</p>` : nothing}`
          : html`<p class="muted">${msg('Bạn không có trong danh sách đại biểu.', { id: 'live.notParticipant' })}</p>`}
      </section>
      <ec-vote-delegation
        .session=${this.votes}
        .participants=${st.attendance.attendance}
        .userId=${s.userId}
        ?canVote=${!!s.access?.canVote}
        ?closed=${closed}
      ></ec-vote-delegation>
      ${me
        ? html`<section class="card" aria-labelledby="ask">
            <h2 id="ask">${msg('Đăng ký phát biểu', { id: 'live.ask' })}</h2>
            ${myRequest >= 0
              ? html`<p>${msg(str`Bạn đang ở vị trí ${myRequest + 1} trong danh sách chờ`, { id: 'live.myPosition' })}</p>`
              : floor?.userId === s.userId
                ? html`<p class="ok">${msg('Bạn đang được phát biểu', { id: 'live.youHaveFloor' })}</p>`
                : html`<div class="row">
                      ${KINDS.map(
                        (k) => html`<button data-testid="ask-${k}-panel" ?disabled=${this.busy || !running || !checkedIn} @click=${() => this.#run(() => s.command('speaker:request', { kind: k }))}>
                          ${kindLabel(k)}
                        </button>`,
                      )}
                    </div>
                    ${!checkedIn ? html`<p class="muted">${msg('Hãy điểm danh trước khi đăng ký phát biểu.', { id: 'live.err.notCheckedIn' })}</p>` : nothing}`}
          </section>`
        : nothing}
    </aside>`;
  }

  #reportAbsent() {
    const reason = prompt(msg('Lý do vắng mặt', { id: 'live.absentReason' }))?.trim();
    if (reason) void this.#run(() => this.session!.command('attendance:mark_absent', { reason }));
  }

  #pickDoc(id: number) {
    this.docId = Number.isFinite(id) && id > 0 ? id : null;
    this.page = 1;
    this.zoom = 1;
    if (this.following) this.#setFollowing(false);
    if (this.presenting && this.docId != null) this.#sendPosition();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-live-view': EcLiveView;
  }
}
