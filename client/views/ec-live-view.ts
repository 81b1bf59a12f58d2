import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { MeetingPack } from '../../shared/protocol/documents.js';
import type { SpeakerKind } from '../../shared/protocol/live.js';
import '../components/ec-live-timer.js';
import '../components/ec-quorum-badge.js';
import '../components/ec-vote-delegation.js';
import '../components/ec-vote-panel.js';
import type { Api } from '../services/api.js';
import { apiContext } from '../services/context.js';
import { statusLabel } from '../services/labels.js';
import { LiveSession, errorCode } from '../services/live.js';
import { sharedRealtime } from '../services/socket.js';
import { VotesSession } from '../services/votes.js';
import { attendanceLabel, commandErrorText, connectionBanner, kindLabel, liveStyles } from './live-shared.js';

const KINDS: SpeakerKind[] = ['speech', 'question', 'point_of_order'];

/**
 * A participant's tablet during the meeting: check in (room / remote), the current item, who has the
 * floor with the shared timer, ask for the floor or withdraw, and follow the presenter's document page
 * — or browse freely and jump back with one tap. Whoever may present (chair, the item's presenter, the
 * speaker) can present the document they are reading.
 */
@localized()
@customElement('ec-live-view')
export class EcLiveView extends LitElement {
  static override styles = [
    liveStyles,
    css`
      :host {
        display: block;
      }
      .page {
        max-width: 1100px;
        margin: 0 auto;
        padding: 1rem;
      }
      header {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem 1rem;
        align-items: center;
        margin-bottom: 0.75rem;
      }
      h1 {
        font-size: 1.4rem;
        margin: 0;
        color: var(--ec-primary-strong);
      }
      .card {
        background: var(--ec-surface);
        border: 1px solid var(--ec-border);
        border-radius: var(--ec-radius, 10px);
        padding: 1rem;
      }
      h2 {
        font-size: 1.1rem;
        margin: 0 0 0.5rem;
        color: var(--ec-primary-strong);
      }
      button {
        font: inherit;
        font-weight: 600;
        min-height: var(--ec-touch, 44px);
        min-width: var(--ec-touch, 44px);
        padding: 0.4rem 1rem;
        border-radius: 8px;
        border: 1px solid var(--ec-border);
        background: var(--ec-surface);
        color: var(--ec-primary-strong);
        cursor: pointer;
        touch-action: manipulation;
      }
      button.primary {
        background: var(--ec-primary);
        color: #fff;
        border-color: var(--ec-primary);
      }
      button:disabled {
        opacity: 0.5;
        cursor: default;
      }
      .row {
        display: flex;
        gap: 0.5rem;
        flex-wrap: wrap;
        align-items: center;
      }
      .muted {
        color: var(--ec-muted);
      }
      .error {
        color: var(--ec-danger);
        font-weight: 600;
        margin: 0.5rem 0;
      }
      .badge {
        padding: 0.2rem 0.7rem;
        border-radius: 999px;
        background: var(--ec-primary-soft);
        font-weight: 600;
      }
      label.toggle {
        display: inline-flex;
        align-items: center;
        gap: 0.5rem;
        min-height: var(--ec-touch, 44px);
        font-weight: 600;
      }
      label.toggle input {
        width: 1.4rem;
        height: 1.4rem;
      }
      select {
        font: inherit;
        min-height: var(--ec-touch, 44px);
        max-width: 100%;
      }
      /* A long document title must not widen the page (it did, at 1024 px and on phones). */
      label.doc {
        display: grid;
        gap: 0.25rem;
        flex: 1 1 16rem;
        min-width: 0;
      }
      label.doc select {
        width: 100%;
        min-width: 0;
      }
      .viewer {
        height: 60vh;
        min-height: 320px;
        border: 1px solid var(--ec-border);
        border-radius: 8px;
        overflow: hidden;
        margin-top: 0.5rem;
      }
      ec-pdf-viewer {
        display: block;
        height: 100%;
      }
    `,
  ];

  @property({ attribute: false }) params: Record<string, string> = {};
  @property({ attribute: false }) query = new URLSearchParams();
  @consume({ context: apiContext }) private api!: Api;

  @state() private session: LiveSession | null = null;
  /** The meeting's votes and delegations, shared by the vote panel and the delegation card. */
  @state() private votes: VotesSession | null = null;
  @state() private error = '';
  @state() private busy = false;
  /** Follow the presenter (default) or browse freely. */
  @state() private following = true;
  /** The document and page this tablet shows. */
  @state() private docId: number | null = null;
  @state() private page = 1;
  @state() private presenting = false;
  @state() private pack: MeetingPack | null = null;
  #onChange = () => this.#sync();

  override connectedCallback(): void {
    super.connectedCallback();
    void import('../components/ec-pdf-viewer.js');
    const id = Number(this.params.id);
    this.following = localStorage.getItem(`ec-follow-${id}`) !== 'false';
    this.session = new LiveSession(sharedRealtime(), id);
    this.session.addEventListener('change', this.#onChange);
    this.votes = new VotesSession(this.api, sharedRealtime(), id);
    this.api
      .get<MeetingPack>(`/api/meetings/${id}/documents`)
      .then((p) => (this.pack = p))
      .catch(() => (this.pack = null));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.session?.removeEventListener('change', this.#onChange);
    this.session?.close();
    this.session = null;
    this.votes?.close();
    this.votes = null;
  }

  /** A push arrived: follow the presenter if we do. */
  #sync() {
    const p = this.session?.state?.presenter;
    if (p && this.following && !this.presenting) {
      this.docId = p.documentId;
      this.page = p.page;
    }
    if (this.presenting && !this.#mayPresent()) this.presenting = false;
    this.requestUpdate();
  }

  async #run(fn: () => Promise<unknown>) {
    this.busy = true;
    this.error = '';
    try {
      await fn();
    } catch (e) {
      this.error = commandErrorText(errorCode(e));
    } finally {
      this.busy = false;
    }
  }

  #setFollowing(on: boolean) {
    this.following = on;
    localStorage.setItem(`ec-follow-${this.session?.meetingId}`, String(on));
    const p = this.session?.state?.presenter;
    if (on && p) {
      this.docId = p.documentId;
      this.page = p.page;
    }
  }

  #onPageChange(e: CustomEvent<{ page: number; source: 'user' | 'program' }>) {
    if (e.detail.source !== 'user') return;
    this.page = e.detail.page;
    const p = this.session?.state?.presenter;
    if (this.presenting && this.docId != null) {
      void this.#run(() => this.session!.command('presenter:show', { documentId: this.docId!, page: this.page }));
    } else if (this.following && p && e.detail.page !== p.page) {
      // Reading on their own: stop following until they tap "back to the presenter".
      this.#setFollowing(false);
    }
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
      void this.#run(() => this.session!.command('presenter:stop', {}));
      return;
    }
    if (this.docId == null) return;
    this.presenting = true;
    void this.#run(() => this.session!.command('presenter:show', { documentId: this.docId!, page: this.page }));
  }

  override render() {
    const s = this.session;
    const st = s?.state;
    if (s?.joinError === 'not_found') return html`<div class="page"><p class="error">${msg('Không tìm thấy phiên họp.', { id: 'live.notFound' })}</p></div>`;
    if (!s || !st)
      return html`<div class="page">${connectionBanner(s)}<p class="muted" role="status">${msg('Đang tải phiên họp…', { id: 'live.loading' })}</p></div>`;
    const current = st.agenda.items.find((i) => i.status === 'current');
    const me = s.me;
    const floor = st.speakers.floor;
    const myRequest = st.speakers.queue.findIndex((q) => q.userId === s.userId);
    const checkedIn = me?.status === 'in_room' || me?.status === 'remote';
    const running = st.meeting.status === 'live';
    return html`<div class="page">
      ${connectionBanner(s)}
      <header>
        <h1>${st.meeting.title}</h1>
        <span class="badge" data-testid="meeting-status">${statusLabel(st.meeting.status)}</span>
        <ec-quorum-badge .quorum=${st.attendance.quorum}></ec-quorum-badge>
        ${s.access?.canChair
          ? html`<a href="/meetings/${s.meetingId}/console" data-testid="to-console">${msg('Bảng điều khiển chủ tọa', { id: 'live.toConsole' })}</a>`
          : nothing}
      </header>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      <ec-vote-panel .session=${this.votes} style="margin-bottom:0.75rem"></ec-vote-panel>
      <div class="grid2">
        <div class="stack">
          <section class="card" aria-labelledby="cur">
            <h2 id="cur">${msg('Nội dung đang thảo luận', { id: 'live.currentItem' })}</h2>
            <div class="current-item" data-testid="current-item">
              ${current ? `${current.number}. ${current.title}` : msg('Chưa bắt đầu nội dung nào', { id: 'live.noCurrent' })}
            </div>
          </section>
          <section class="card" aria-labelledby="floor">
            <h2 id="floor">${msg('Đang phát biểu', { id: 'live.floor' })}</h2>
            ${floor
              ? html`<div class="floor">
                  <span class="who" data-testid="speaker">${floor.fullName}</span>
                  <span class="kind ${floor.kind}">${kindLabel(floor.kind)}</span>
                  <ec-live-timer .startedAt=${floor.startedAt} .allottedSeconds=${floor.allottedSeconds} .now=${() => s.client.now()}></ec-live-timer>
                </div>`
              : html`<p class="muted" data-testid="speaker-none">${msg('Chưa có ai được phát biểu', { id: 'live.noFloor' })}</p>`}
            <p class="muted">${msg(str`${st.speakers.queue.length} người đang chờ`, { id: 'live.waitingCount' })}</p>
          </section>
          <section class="card" aria-labelledby="att">
            <h2 id="att">${msg('Điểm danh', { id: 'live.checkIn' })}</h2>
            ${me
              ? html`<p data-testid="my-attendance">${attendanceLabel(me.status)}</p>
                  <div class="row">
                    <button class=${me.status === 'in_room' ? 'primary' : ''} data-testid="check-in-room" ?disabled=${this.busy || st.meeting.status === 'closed'}
                      @click=${() => this.#run(() => s.command('attendance:check_in', { mode: 'in_room' }))}>
                      ${msg('Có mặt tại phòng', { id: 'live.att.inRoom' })}
                    </button>
                    <button class=${me.status === 'remote' ? 'primary' : ''} data-testid="check-in-remote" ?disabled=${this.busy || st.meeting.status === 'closed'}
                      @click=${() => this.#run(() => s.command('attendance:check_in', { mode: 'remote' }))}>
                      ${msg('Dự trực tuyến', { id: 'live.att.remote' })}
                    </button>
                    <button data-testid="report-absent" ?disabled=${this.busy || st.meeting.status === 'closed'} @click=${() => this.#reportAbsent()}>
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
            ?closed=${st.meeting.status === 'closed'}
          ></ec-vote-delegation>
          ${me
            ? html`<section class="card" aria-labelledby="ask">
                <h2 id="ask">${msg('Đăng ký phát biểu', { id: 'live.ask' })}</h2>
                ${myRequest >= 0
                  ? html`<p data-testid="my-request">${msg(str`Bạn đang ở vị trí ${myRequest + 1} trong danh sách chờ`, { id: 'live.myPosition' })}</p>
                      <button data-testid="withdraw" ?disabled=${this.busy}
                        @click=${() => this.#run(() => s.command('speaker:withdraw', { requestId: st.speakers.queue[myRequest].id }))}>
                        ${msg('Rút đăng ký', { id: 'live.withdraw' })}
                      </button>`
                  : floor?.userId === s.userId
                    ? html`<p class="ok" data-testid="my-floor">${msg('Bạn đang được phát biểu', { id: 'live.youHaveFloor' })}</p>`
                    : html`<div class="row">
                        ${KINDS.map(
                          (k) => html`<button data-testid="ask-${k}" ?disabled=${this.busy || !running || !checkedIn} @click=${() => this.#run(() => s.command('speaker:request', { kind: k }))}>
                            ${kindLabel(k)}
                          </button>`,
                        )}
                      </div>
                      ${!checkedIn ? html`<p class="muted">${msg('Hãy điểm danh trước khi đăng ký phát biểu.', { id: 'live.err.notCheckedIn' })}</p>` : nothing}`}
              </section>`
            : nothing}
        </div>
        ${this.#renderPresenter()}
      </div>
    </div>`;
  }

  #renderPresenter() {
    const s = this.session!;
    const st = s.state!;
    const p = st.presenter;
    const docs = (this.pack?.items ?? []).flatMap((i) => i.documents.map((d) => ({ ...d, item: i.number })));
    const docName = (id: number | null) => docs.find((d) => d.id === id)?.title ?? (id != null ? `#${id}` : '');
    const may = this.#mayPresent();
    return html`<section class="card" aria-labelledby="pres">
      <h2 id="pres">${msg('Tài liệu trình bày', { id: 'live.presenter' })}</h2>
      <p data-testid="presenter-state">
        ${p
          ? html`${msg(str`${p.presenterName} đang trình bày`, { id: 'live.presenting' })}: ${docName(p.documentId)},
              <strong data-testid="presenter-page">${msg(str`trang ${p.page}`, { id: 'live.pageN' })}</strong>`
          : msg('Chưa có ai trình bày tài liệu', { id: 'live.noPresenter' })}
      </p>
      <div class="row">
        <label class="toggle"
          ><input type="checkbox" data-testid="follow" .checked=${this.following} @change=${(e: Event) => this.#setFollowing((e.target as HTMLInputElement).checked)} />
          ${msg('Theo dõi người trình bày', { id: 'live.follow' })}</label
        >
        ${p && (!this.following || this.docId !== p.documentId || this.page !== p.page) && !this.presenting
          ? html`<button class="primary" data-testid="back-to-presenter" @click=${() => this.#setFollowing(true)}>
              ${msg('Về trang người trình bày', { id: 'live.backToPresenter' })}
            </button>`
          : nothing}
      </div>
      <div class="row">
        <label class="doc"
          >${msg('Tài liệu', { id: 'live.document' })}
          <select data-testid="doc-select" @change=${(e: Event) => this.#pickDoc(Number((e.target as HTMLSelectElement).value))}>
            <option value="" ?selected=${this.docId == null}>—</option>
            ${docs.map((d) => html`<option value=${d.id} ?selected=${d.id === this.docId}>${d.item}. ${d.title}</option>`)}
          </select></label
        >
        <span data-testid="my-page">${this.docId != null ? msg(str`Bạn đang xem trang ${this.page}`, { id: 'live.myPage' }) : nothing}</span>
      </div>
      ${may
        ? html`<div class="row">
            <label class="toggle"
              ><input type="checkbox" data-testid="present" .checked=${this.presenting} ?disabled=${this.docId == null}
                @change=${(e: Event) => this.#present((e.target as HTMLInputElement).checked)} />
              ${msg('Trình bày tài liệu này cho mọi người', { id: 'live.presentThis' })}</label
            >
          </div>`
        : nothing}
      ${this.docId != null
        ? html`<div class="viewer">
            <ec-pdf-viewer src="/api/documents/${this.docId}/file" .page=${this.page} @ec-page-change=${this.#onPageChange}></ec-pdf-viewer>
          </div>`
        : nothing}
    </section>`;
  }

  #reportAbsent() {
    const reason = prompt(msg('Lý do vắng mặt', { id: 'live.absentReason' }))?.trim();
    if (reason) void this.#run(() => this.session!.command('attendance:mark_absent', { reason }));
  }

  #pickDoc(id: number) {
    this.docId = Number.isFinite(id) && id > 0 ? id : null;
    this.page = 1;
    if (this.following) this.#setFollowing(false);
    if (this.presenting && this.docId != null) void this.#run(() => this.session!.command('presenter:show', { documentId: this.docId!, page: 1 }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-live-view': EcLiveView;
  }
}
