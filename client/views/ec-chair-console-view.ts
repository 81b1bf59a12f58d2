import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { MeetingPack } from '../../shared/protocol/documents.js';
import { type AttendanceEntry, LIVE_LIMITS } from '../../shared/protocol/live.js';
import '../components/ec-live-timer.js';
import '../components/ec-quorum-badge.js';
import '../components/ec-vote-console.js';
import type { Api } from '../services/api.js';
import { apiContext } from '../services/context.js';
import { roleLabel, statusLabel } from '../services/labels.js';
import { errorText } from '../services/errors.js';
import { type LiveSession, LiveSessionController } from '../services/live.js';
import { attendanceLabel, connectionBanner, kindLabel, liveStyles, presenterOffline } from './live-shared.js';

/**
 * The chair's console: open (with quorum, or a recorded reason), pause, resume and close the meeting;
 * attendance with the live quorum (the secretary checks people in, records absences and proxies);
 * the agenda (previous / next / any item, done / deferred, an urgent item); the speakers' list
 * (grant, reorder, remove, next, end) with the shared timer; what is presented (start presenting a
 * document, move its pages, stop — the members' tablets that follow the presenter move with it).
 */
@localized()
@customElement('ec-chair-console-view')
export class EcChairConsoleView extends LitElement {
  static override styles = [
    liveStyles,
    css`
      :host {
        display: block;
      }
      .page {
        max-width: 1400px;
        margin: 0 auto;
        padding: 0.75rem;
      }
      header {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem 1rem;
        align-items: center;
        margin-bottom: 0.75rem;
      }
      h1 {
        font-size: 1.3rem;
        margin: 0;
        color: var(--ec-primary-strong);
      }
      h2 {
        font-size: 1.05rem;
        margin: 0 0 0.5rem;
        color: var(--ec-primary-strong);
      }
      .cols {
        display: grid;
        grid-template-columns: minmax(0, 1fr) minmax(0, 1.1fr) minmax(0, 1fr);
        gap: 0.75rem;
        align-items: start;
      }
      @media (max-width: 980px) {
        .cols {
          grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
        }
      }
      @media (max-width: 640px) {
        .cols {
          grid-template-columns: minmax(0, 1fr);
        }
      }
      .card {
        background: var(--ec-surface);
        border: 1px solid var(--ec-border);
        border-radius: var(--ec-radius, 10px);
        padding: 0.75rem;
      }
      button,
      select,
      input {
        font: inherit;
        min-height: var(--ec-touch, 44px);
      }
      button {
        font-weight: 600;
        min-width: var(--ec-touch, 44px);
        padding: 0.3rem 0.8rem;
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
      button.danger {
        color: var(--ec-danger);
      }
      button:disabled {
        opacity: 0.5;
        cursor: default;
      }
      input,
      select {
        border: 1px solid var(--ec-border);
        border-radius: 8px;
        padding: 0.2rem 0.5rem;
        max-width: 100%;
      }
      .row {
        display: flex;
        gap: 0.4rem;
        flex-wrap: wrap;
        align-items: center;
      }
      .muted {
        color: var(--ec-muted);
      }
      .error {
        color: var(--ec-danger);
        font-weight: 600;
      }
      .badge {
        padding: 0.2rem 0.7rem;
        border-radius: 999px;
        background: var(--ec-primary-soft);
        font-weight: 600;
      }
      .agenda li.current {
        border-color: var(--ec-primary);
        background: var(--ec-primary-soft);
      }
      .agenda li.done .t {
        text-decoration: line-through;
        color: var(--ec-muted);
      }
      .agenda .t {
        flex: 1;
        min-width: 8rem;
        text-align: left;
        border: 0;
        background: transparent;
        justify-content: flex-start;
        padding-left: 0.2rem;
      }
      .att .name {
        flex: 1;
        min-width: 8rem;
      }
      .att .st {
        font-size: 0.9rem;
        color: var(--ec-muted);
      }
      .attsel {
        max-width: 11rem;
      }
      .present {
        margin-bottom: 0.75rem;
      }
      .present .pstate {
        margin: 0 0 0.5rem;
      }
      .present .docsel {
        flex: 1 1 14rem;
        min-width: 0;
      }
      .present .pages {
        gap: 0.25rem;
        flex-wrap: nowrap;
      }
      .present .pageno {
        width: 4.5rem;
        text-align: center;
      }
      .name small {
        display: block;
        color: var(--ec-muted);
      }
    `,
  ];

  @property({ attribute: false }) params: Record<string, string> = {};
  @property({ attribute: false }) query = new URLSearchParams();

  #live = new LiveSessionController(this, () => Number(this.params.id), () => this.#onChange());
  private get session(): LiveSession | null {
    return this.#live.session;
  }
  @state() private error = '';
  @state() private busy = false;
  @state() private overrideReason = '';
  @state() private urgentTitle = '';
  @consume({ context: apiContext }) private api!: Api;
  /** The meeting's documents (for the presenter card), loaded again when an unknown one is presented. */
  @state() private pack: MeetingPack | null = null;
  /** The document picked in the presenter card (null: the one presented, or the current item's first). */
  @state() private pickedDoc: number | null = null;
  #packFor = '';
  #onChange = () => {
    const p = this.session?.state?.presenter;
    if (p && this.pack && !this.#docs().some((d) => d.id === p.documentId)) this.#loadPack(`doc:${p.documentId}`);
    this.requestUpdate();
  };

  #loadPack(reason: string) {
    if (this.#packFor === reason) return;
    this.#packFor = reason;
    this.api
      .get<MeetingPack>(`/api/meetings/${Number(this.params.id)}/documents`)
      .then((p) => (this.pack = p))
      .catch(() => undefined);
  }

  #docs() {
    return (this.pack?.items ?? []).flatMap((i) => i.documents.map((d) => ({ id: d.id, title: d.title, item: i.number, itemId: i.id, pages: d.current.pageCount })));
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.#loadPack('open');
  }

  async #run(fn: () => Promise<unknown>) {
    this.busy = true;
    this.error = '';
    try {
      await fn();
    } catch (e) {
      this.error = errorText(e, 'command');
    } finally {
      this.busy = false;
    }
  }

  override render() {
    const s = this.session;
    const st = s?.state;
    if (s?.joinError === 'not_found') return html`<div class="page"><p class="error">${msg('Không tìm thấy phiên họp.', { id: 'live.notFound' })}</p></div>`;
    if (!s || !st)
      return html`<div class="page">${connectionBanner(s)}<p class="muted" role="status">${msg('Đang tải phiên họp…', { id: 'live.loading' })}</p></div>`;
    if (!s.access?.canChair)
      return html`<div class="page"><p class="error">${msg('Chỉ chủ tọa và thư ký mới dùng được bảng điều khiển.', { id: 'live.console.onlyChair' })}</p></div>`;
    return html`<div class="page">
      ${connectionBanner(s)}
      <header>
        <h1>${st.meeting.title}</h1>
        <span class="badge" data-testid="meeting-status">${statusLabel(st.meeting.status)}</span>
        <ec-quorum-badge .quorum=${st.attendance.quorum}></ec-quorum-badge>
        <a href="/meetings/${s.meetingId}/live">${msg('Màn hình đại biểu', { id: 'live.toMember' })}</a>
        <a href="/meetings/${s.meetingId}/display" target="_blank">${msg('Màn hình lớn', { id: 'live.toDisplay' })}</a>
      </header>
      ${this.#renderMeetingControls()} ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing} ${this.#renderPresenter()}
      <div class="cols">${this.#renderAttendance()} ${this.#renderAgenda()} ${this.#renderSpeakers()}</div>
      <ec-vote-console meeting-id=${s.meetingId} .quorum=${st.attendance.quorum} .agendaItems=${st.agenda.items} .agendaItemId=${st.agenda.items.find((i) => i.status === 'current')?.id ?? null} style="margin-top:1rem"></ec-vote-console>
    </div>`;
  }

  #renderMeetingControls() {
    const s = this.session!;
    const st = s.state!;
    const status = st.meeting.status;
    return html`<div class="row card" style="margin-bottom:0.75rem">
      ${status === 'published'
        ? html`${!st.attendance.quorum.met
              ? html`<input
                  data-testid="override-reason"
                  placeholder=${msg('Lý do khai mạc khi chưa đủ túc số', { id: 'live.overridePlaceholder' })}
                  .value=${this.overrideReason}
                  @input=${(e: Event) => (this.overrideReason = (e.target as HTMLInputElement).value)}
                />`
              : nothing}
            <button
              class="primary"
              data-testid="open-meeting"
              ?disabled=${this.busy || (!st.attendance.quorum.met && !this.overrideReason.trim())}
              @click=${() => this.#run(() => s.command('meeting:open', this.overrideReason.trim() && !st.attendance.quorum.met ? { overrideReason: this.overrideReason.trim() } : {}))}
            >
              ${msg('Khai mạc phiên họp', { id: 'live.open' })}
            </button>`
        : nothing}
      ${status === 'live'
        ? html`<button data-testid="pause" ?disabled=${this.busy} @click=${() => this.#run(() => s.command('meeting:pause', {}))}>${msg('Tạm dừng', { id: 'live.pause' })}</button>`
        : nothing}
      ${status === 'paused'
        ? html`<button class="primary" data-testid="resume" ?disabled=${this.busy} @click=${() => this.#run(() => s.command('meeting:resume', {}))}>
            ${msg('Tiếp tục', { id: 'live.resume' })}
          </button>`
        : nothing}
      ${status === 'live' || status === 'paused'
        ? html`<button
            class="danger"
            data-testid="close-meeting"
            ?disabled=${this.busy}
            @click=${() => confirm(msg('Bế mạc phiên họp? Không thể mở lại.', { id: 'live.closeConfirm' })) && this.#run(() => s.command('meeting:close', {}))}
          >
            ${msg('Bế mạc', { id: 'live.close' })}
          </button>`
        : nothing}
      ${st.meeting.openOverrideReason
        ? html`<span class="muted">${msg(str`Khai mạc khi chưa đủ túc số: ${st.meeting.openOverrideReason}`, { id: 'live.openedWithout' })}</span>`
        : nothing}
    </div>`;
  }

  /**
   * Follow the presenter from the console: present a document (from its first page), move its pages,
   * stop. Moving the pages of someone else's presentation takes it over (the chair presents from then on).
   */
  #renderPresenter() {
    const s = this.session!;
    const st = s.state!;
    const p = st.presenter;
    const running = st.meeting.status === 'live' || st.meeting.status === 'paused';
    const docs = this.#docs();
    const currentItem = st.agenda.items.find((i) => i.status === 'current')?.id;
    const picked = this.pickedDoc ?? p?.documentId ?? docs.find((d) => d.itemId === currentItem)?.id ?? docs[0]?.id ?? null;
    const shown = p ? docs.find((d) => d.id === p.documentId) : undefined;
    const last = shown?.pages || LIVE_LIMITS.maxPage;
    const go = (page: number) =>
      p && this.#run(() => s.command('presenter:show', { documentId: p.documentId, page: Math.min(Math.max(1, page), last), zoom: p.zoom }));
    const disabled = this.busy || !running;
    return html`<section class="card present" aria-labelledby="pr" data-testid="console-presenter">
      <h2 id="pr">${msg('Trình chiếu tài liệu', { id: 'live.console.present' })}</h2>
      <p class="pstate" data-testid="console-presenter-state" aria-live="polite">
        ${p
          ? html`${msg(str`${p.presenterName} đang trình bày`, { id: 'live.presenting' })}: <strong>${shown?.title ?? `#${p.documentId}`}</strong>,
              ${shown
                ? msg(str`trang ${p.page}/${shown.pages}`, { id: 'live.console.pageOf' })
                : msg(str`trang ${p.page}`, { id: 'live.pageN' })}
              ${presenterOffline(st, p) ? html`<span class="error">(${msg('mất kết nối', { id: 'live.presenterOffline' })})</span>` : nothing}`
          : msg('Chưa có ai trình bày tài liệu', { id: 'live.noPresenter' })}
      </p>
      <div class="row">
        <select
          class="docsel"
          data-testid="console-doc"
          aria-label=${msg('Tài liệu', { id: 'live.document' })}
          ?disabled=${!docs.length}
          @change=${(e: Event) => (this.pickedDoc = Number((e.target as HTMLSelectElement).value) || null)}
        >
          ${docs.length ? nothing : html`<option value="">${msg('Phiên họp chưa có tài liệu', { id: 'live.console.noDocs' })}</option>`}
          ${docs.map((d) => html`<option value=${d.id} ?selected=${d.id === picked}>${d.item}. ${d.title}</option>`)}
        </select>
        <button
          class="primary"
          data-testid="console-present"
          ?disabled=${disabled || picked == null || picked === p?.documentId}
          @click=${() => picked != null && this.#run(() => s.command('presenter:show', { documentId: picked, page: 1 }))}
        >
          ${msg('Trình bày', { id: 'live.presentShort' })}
        </button>
        <span class="row pages" role="group" aria-label=${msg('Trang đang trình bày', { id: 'live.console.pageGroup' })}>
          <button data-testid="console-prev-page" aria-label=${msg('Trang trước', { id: 'documents.viewer.prev' })} ?disabled=${disabled || !p || p.page <= 1} @click=${() => go(p!.page - 1)}>◀</button>
          <input
            class="pageno"
            data-testid="console-page"
            inputmode="numeric"
            aria-label=${msg('Đến trang', { id: 'documents.viewer.goto' })}
            .value=${p ? String(p.page) : ''}
            ?disabled=${disabled || !p}
            @change=${(e: Event) => {
              const el = e.target as HTMLInputElement;
              const n = Number(el.value);
              if (Number.isInteger(n) && n >= 1) void go(n);
              el.value = p ? String(p.page) : '';
            }}
          />
          ${shown ? html`<span class="muted">/ ${shown.pages}</span>` : nothing}
          <button data-testid="console-next-page" aria-label=${msg('Trang sau', { id: 'documents.viewer.next' })} ?disabled=${disabled || !p || p.page >= last} @click=${() => go(p!.page + 1)}>▶</button>
        </span>
        <button class="danger" data-testid="console-stop" ?disabled=${disabled || !p} @click=${() => this.#run(() => s.command('presenter:stop', {}))}>
          ${msg('Dừng trình bày', { id: 'live.console.stopPresenting' })}
        </button>
      </div>
    </section>`;
  }

  #renderAttendance() {
    const s = this.session!;
    const st = s.state!;
    const list = st.attendance.attendance;
    const present = list.filter((a) => a.status === 'in_room' || a.status === 'remote').length;
    const manage = !!s.access?.canManage;
    return html`<section class="card att" aria-labelledby="att">
      <h2 id="att">${msg(str`Điểm danh (${present}/${list.length})`, { id: 'live.console.attendance' })}</h2>
      <ul class="plain">
        ${list.map(
          (a) => html`<li data-testid="att-${a.userId}">
            <span class="dot ${a.online ? 'on' : ''}" title=${a.online ? msg('Đang kết nối', { id: 'live.online' }) : msg('Không kết nối', { id: 'live.notOnline' })}></span>
            <span class="name">${a.fullName}<small>${roleLabel(a.role)}${a.canVote ? '' : ` · ${msg('không biểu quyết', { id: 'live.noVote' })}`}</small></span>
            <span class="st">${attendanceLabel(a.status)}${a.status === 'absent' && a.reason ? `: ${a.reason}` : ''}${a.status === 'proxy'
              ? ` → ${this.#name(a.proxyHolderId)} (${a.proxyKind === 'substitute' ? msg('dự thay', { id: 'live.proxy.substitute' }) : msg('ủy quyền biểu quyết', { id: 'live.proxy.vote' })}${a.reason ? `: ${a.reason}` : ''})`
              : ''}</span>
            ${manage ? this.#attendanceActions(a) : nothing}
          </li>`,
        )}
      </ul>
    </section>`;
  }

  #name(userId: number | null): string {
    return this.session?.state?.attendance.attendance.find((a) => a.userId === userId)?.fullName ?? `#${userId}`;
  }

  #attendanceActions(a: AttendanceEntry) {
    const s = this.session!;
    const others = s.state!.attendance.attendance.filter((o) => o.userId !== a.userId);
    const pick = (value: string) => {
      if (value === 'in_room' || value === 'remote') return this.#run(() => s.command('attendance:check_in', { userId: a.userId, mode: value }));
      if (value === 'absent') {
        const reason = prompt(msg('Lý do vắng mặt', { id: 'live.absentReason' }));
        if (reason?.trim()) return this.#run(() => s.command('attendance:mark_absent', { userId: a.userId, reason: reason.trim() }));
      }
      const m = /^(proxy|substitute):(\d+)$/.exec(value);
      if (m) {
        // A paper authorization: its reason is recorded, shown to the chair and audited.
        const reason = prompt(msg('Lý do / số giấy ủy quyền', { id: 'live.proxyReason' }));
        if (reason?.trim()) return this.#run(() => s.command('attendance:set_proxy', { userId: a.userId, holderId: Number(m[2]), kind: m[1] === 'proxy' ? 'vote' : 'substitute', reason: reason.trim() }));
      }
      this.requestUpdate();
    };
    return html`<select
      class="attsel"
      aria-label=${msg(str`Điểm danh ${a.fullName}`, { id: 'live.console.attFor' })}
      data-testid="att-action-${a.userId}"
      @change=${(e: Event) => {
        const el = e.target as HTMLSelectElement;
        void pick(el.value);
        el.value = '';
      }}
    >
      <option value="">${msg('Ghi nhận…', { id: 'live.console.record' })}</option>
      <option value="in_room">${msg('Có mặt tại phòng', { id: 'live.att.inRoom' })}</option>
      <option value="remote">${msg('Dự trực tuyến', { id: 'live.att.remote' })}</option>
      <option value="absent">${msg('Vắng mặt', { id: 'live.att.absent' })}</option>
      ${a.canVote
        ? html`<optgroup label=${msg('Ủy quyền biểu quyết cho', { id: 'live.console.proxyTo' })}>
            ${others.filter((o) => o.canVote && o.userId !== s.userId).map((o) => html`<option value="proxy:${o.userId}">${o.fullName}</option>`)}
          </optgroup>`
        : nothing}
      <optgroup label=${msg('Cử người dự thay', { id: 'live.console.substituteBy' })}>
        ${others.filter((o) => o.userId !== s.userId).map((o) => html`<option value="substitute:${o.userId}">${o.fullName}</option>`)}
      </optgroup>
    </select>`;
  }

  #renderAgenda() {
    const s = this.session!;
    const st = s.state!;
    const running = st.meeting.status === 'live' || st.meeting.status === 'paused';
    return html`<section class="card agenda" aria-labelledby="ag">
      <h2 id="ag">${msg('Chương trình', { id: 'live.console.agenda' })}</h2>
      <div class="row" style="margin-bottom:0.5rem">
        <button data-testid="prev-item" ?disabled=${this.busy || !running} @click=${() => this.#run(() => s.command('agenda:previous', {}))}>
          ◀ ${msg('Nội dung trước', { id: 'live.prevItem' })}
        </button>
        <button class="primary" data-testid="next-item" ?disabled=${this.busy || !running} @click=${() => this.#run(() => s.command('agenda:next', {}))}>
          ${msg('Nội dung tiếp', { id: 'live.nextItem' })} ▶
        </button>
      </div>
      <ol class="queue">
        ${st.agenda.items.map(
          (i) => html`<li class=${i.status} style="margin-left:${(i.number.split('.').length - 1) * 1}rem" data-testid="item-${i.id}">
            <button class="t" ?disabled=${this.busy || !running || i.status === 'current'} @click=${() => this.#run(() => s.command('agenda:goto', { itemId: i.id }))}>
              ${i.number}. ${i.title}
            </button>
            ${i.status === 'deferred' ? html`<span class="kind">${msg('Hoãn', { id: 'live.deferred' })}</span>` : nothing}
            ${running && i.status !== 'done'
              ? html`<button title=${msg('Đã xong', { id: 'live.markDone' })} aria-label=${msg('Đã xong', { id: 'live.markDone' })}
                  @click=${() => this.#run(() => s.command('agenda:mark', { itemId: i.id, status: 'done' }))}>✓</button>`
              : nothing}
            ${running && i.status !== 'deferred' && i.status !== 'done'
              ? html`<button title=${msg('Hoãn', { id: 'live.deferred' })} aria-label=${msg('Hoãn', { id: 'live.deferred' })}
                  @click=${() => this.#run(() => s.command('agenda:mark', { itemId: i.id, status: 'deferred' }))}>⏸</button>`
              : nothing}
          </li>`,
        )}
      </ol>
      ${running
        ? html`<form
            class="row"
            style="margin-top:0.5rem"
            @submit=${(e: Event) => {
              e.preventDefault();
              const title = this.urgentTitle.trim();
              if (title) void this.#run(async () => {
                await s.command('agenda:add_urgent', { title, makeCurrent: false });
                this.urgentTitle = '';
              });
            }}
          >
            <input
              data-testid="urgent-title"
              aria-label=${msg('Nội dung phát sinh', { id: 'live.urgent' })}
              placeholder=${msg('Nội dung phát sinh', { id: 'live.urgent' })}
              .value=${this.urgentTitle}
              @input=${(e: Event) => (this.urgentTitle = (e.target as HTMLInputElement).value)}
            />
            <button type="submit" ?disabled=${this.busy || !this.urgentTitle.trim()}>+ ${msg('Thêm', { id: 'live.add' })}</button>
          </form>`
        : nothing}
    </section>`;
  }

  #renderSpeakers() {
    const s = this.session!;
    const st = s.state!;
    const { floor, queue } = st.speakers;
    const live = st.meeting.status === 'live';
    const move = (from: number, to: number) => {
      const ids = queue.map((q) => q.id);
      const [x] = ids.splice(from, 1);
      ids.splice(to, 0, x);
      return this.#run(() => s.command('speaker:reorder', { requestIds: ids }));
    };
    return html`<section class="card" aria-labelledby="sp">
      <h2 id="sp">${msg('Phát biểu', { id: 'live.console.speakers' })}</h2>
      ${floor
        ? html`<div class="floor">
            <span class="who" data-testid="speaker">${floor.fullName}</span>
            <span class="kind ${floor.kind}">${kindLabel(floor.kind)}</span>
            <ec-live-timer .startedAt=${floor.startedAt} .allottedSeconds=${floor.allottedSeconds} .now=${() => s.client.now()}></ec-live-timer>
          </div>
          <div class="row">
            <button data-testid="end-floor" ?disabled=${this.busy} @click=${() => this.#run(() => s.command('speaker:end', {}))}>${msg('Kết thúc', { id: 'live.endFloor' })}</button>
          </div>`
        : html`<p class="muted" data-testid="speaker-none">${msg('Chưa có ai được phát biểu', { id: 'live.noFloor' })}</p>`}
      <div class="row" style="margin:0.5rem 0">
        <button class="primary" data-testid="next-speaker" ?disabled=${this.busy || !live || queue.length === 0} @click=${() => this.#run(() => s.command('speaker:next', {}))}>
          ${msg('Mời người tiếp theo', { id: 'live.nextSpeaker' })}
        </button>
      </div>
      ${queue.length === 0
        ? html`<p class="muted">${msg('Danh sách chờ trống', { id: 'live.queueEmpty' })}</p>`
        : html`<ol class="queue">
            ${queue.map(
              (q, i) => html`<li data-testid="queue-${q.id}">
                <span style="flex:1;min-width:7rem">${i + 1}. ${q.fullName}</span>
                <span class="kind ${q.kind}">${kindLabel(q.kind)}</span>
                <button class="primary" data-testid="grant-${q.id}" ?disabled=${this.busy || !live} @click=${() => this.#run(() => s.command('speaker:grant', { requestId: q.id }))}>
                  ${msg('Mời', { id: 'live.grant' })}
                </button>
                <button aria-label=${msg('Lên', { id: 'live.up' })} ?disabled=${this.busy || i === 0} @click=${() => move(i, i - 1)}>▲</button>
                <button aria-label=${msg('Xuống', { id: 'live.down' })} ?disabled=${this.busy || i === queue.length - 1} @click=${() => move(i, i + 1)}>▼</button>
                <button class="danger" aria-label=${msg('Xóa khỏi danh sách', { id: 'live.remove' })} ?disabled=${this.busy}
                  @click=${() => this.#run(() => s.command('speaker:remove', { requestId: q.id }))}>✕</button>
              </li>`,
            )}
          </ol>`}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-chair-console-view': EcChairConsoleView;
  }
}
