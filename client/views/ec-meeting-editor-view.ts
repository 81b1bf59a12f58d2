import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { LIMITS } from '../../shared/limits.js';
import type { Agenda } from '../../shared/protocol/agenda.js';
import type { Locale, Me } from '../../shared/protocol/auth.js';
import type { Committee, MeetingRole, Room } from '../../shared/protocol/committees.js';
import type { CreateMeetingBody, Meeting, MeetingMode, ParticipantInput, QuorumRule, UpdateMeetingBody } from '../../shared/protocol/meetings.js';
import type { User } from '../../shared/protocol/users.js';
import '../components/ec-agenda-builder.js';
import { ApiError, type Api } from '../services/api.js';
import { apiContext, localeContext, meContext } from '../services/context.js';
import { errorText } from '../services/errors.js';
import { formatDateTime, fromLocalInput, toLocalInput } from '../services/format.js';
import { Loader } from '../services/loader.js';
import { MEETING_MODES, MEETING_ROLES, modeLabel, roleLabel, statusLabel } from '../services/labels.js';
import { navigate } from '../services/router.js';
import type { Committees, Rooms, UserList } from '../services/types.js';
import { sharedStyles } from '../styles/shared.js';

interface Row {
  userId: number;
  fullName: string;
  unit: string | null;
  role: MeetingRole;
  canVote: boolean;
}

/** Default voting right by role (the server applies the same rule when canVote is omitted). */
const votesByDefault = (r: MeetingRole) => r === 'chair' || r === 'member';

/** Tomorrow at `hour`:00 Vietnam time, as a datetime-local value. */
function tomorrowAt(hour: number): string {
  const d = new Date(Date.now() + 86400_000 + 7 * 3600_000);
  return `${d.toISOString().slice(0, 10)}T${String(hour).padStart(2, '0')}:00`;
}

/**
 * The secretary's meeting editor: create or edit a meeting (committee, title, time, room, mode,
 * quorum rule, participants with role and voting right — defaults from the committee), build its
 * agenda (<ec-agenda-builder>), publish with confirmation.
 */
@localized()
@customElement('ec-meeting-editor-view')
export class EcMeetingEditorView extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      .when {
        font-weight: 400;
        font-size: 0.88rem;
      }
      .back {
        display: inline-flex;
        align-items: center;
        min-height: var(--ec-touch);
        text-decoration: none;
      }
      form.meeting {
        display: grid;
        grid-template-columns: 1fr 1fr;
        gap: 1rem;
      }
      .wide {
        grid-column: 1 / -1;
      }
      details.people-box {
        border: 1px solid var(--ec-border);
        border-radius: 8px;
        padding: 0 0.75rem;
      }
      details.people-box[open] {
        padding-bottom: 0.75rem;
      }
      summary {
        min-height: var(--ec-touch);
        display: flex;
        align-items: center;
        gap: 1rem;
        flex-wrap: wrap;
        font-weight: 600;
        cursor: pointer;
        list-style: none;
      }
      summary::-webkit-details-marker {
        display: none;
      }
      summary .muted {
        font-weight: 400;
        font-size: 0.92rem;
      }
      .people td:first-child small {
        display: block;
        color: var(--ec-muted);
      }
      .people select {
        min-width: 9rem;
      }
      .add-person {
        display: flex;
        gap: 0.5rem;
        margin-top: 0.75rem;
      }
      .add-person select {
        flex: 1;
      }
      .actions {
        display: flex;
        gap: 0.75rem;
        flex-wrap: wrap;
        align-items: center;
      }
      section.card {
        margin-top: 1.25rem;
      }
      section.card h2 {
        margin-top: 0;
      }
      dialog {
        border: 0;
        border-radius: 12px;
        padding: 1.5rem;
        max-width: min(480px, 92vw);
        box-shadow: 0 20px 60px rgb(0 0 0 / 30%);
        font-family: var(--ec-font);
      }
      dialog::backdrop {
        background: rgb(15 25 45 / 45%);
      }
      dialog h2 {
        margin-top: 0;
      }
      .vote-cell {
        text-align: center;
      }
      @media (max-width: 700px) {
        form.meeting {
          grid-template-columns: 1fr;
        }
        .people thead {
          display: none;
        }
        .people tr {
          display: grid;
          grid-template-columns: 1fr auto auto;
          gap: 0.4rem;
          align-items: center;
          border-bottom: 1px solid var(--ec-border);
          padding: 0.4rem 0;
        }
        .people td {
          border: 0;
          padding: 0.1rem;
        }
        .people td:first-child {
          grid-column: 1 / -1;
        }
      }
    `,
  ];

  @property({ attribute: false }) params: Record<string, string> = {};
  @consume({ context: apiContext }) private api!: Api;
  @consume({ context: meContext, subscribe: true }) private me: Me | null = null;
  @consume({ context: localeContext, subscribe: true }) private locale: Locale = 'vi';

  @state() private meeting: Meeting | null = null;
  @state() private agenda: Agenda | null = null;
  @state() private committees: Committee[] = [];
  @state() private rooms: Room[] = [];
  @state() private users: User[] = [];
  /** What the form starts from: the choices (committees, rooms, people) and, unless new, the meeting and its agenda. */
  #data = new Loader(
    this,
    async () => {
      const [c, r, u] = await Promise.all([this.api.get<Committees>('/api/committees'), this.api.get<Rooms>('/api/rooms'), this.api.get<UserList>('/api/users')]);
      const page = this.#isNew ? null : await Promise.all([this.api.get<Meeting>(`/api/meetings/${this.params.id}`), this.api.get<Agenda>(`/api/meetings/${this.params.id}/agenda`)]);
      return { committees: c.committees, rooms: r.rooms, users: u.users, page };
    },
    { onValue: (d) => this.#fill(d) },
  );
  @state() private saving = false;
  @state() private message: { kind: 'error' | 'notice' | 'ok'; text: string } | null = null;

  // form state
  @state() private committeeId = 0;
  @state() private mTitle = '';
  @state() private description = '';
  @state() private startsAt = tomorrowAt(8);
  @state() private endsAt = tomorrowAt(11);
  @state() private roomId: number | null = null;
  @state() private mode: MeetingMode = 'in_person';
  @state() private quorum: QuorumRule = { kind: 'majority' };
  @state() private rows: Row[] = [];
  @state() private addUserId = '';

  get #isNew() {
    return !this.params.id;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
  }

  #load() {
    return this.#data.load();
  }

  /** Fills the form from what was loaded: my active committees (all for an admin), active rooms and people; the meeting, or the first committee's members for a new one. */
  #fill(d: { committees: Committee[]; rooms: Room[]; users: User[]; page: [Meeting, Agenda] | null }) {
    const mine = this.me?.systemRole === 'admin' ? d.committees : d.committees.filter((x) => this.me?.secretaryOf.includes(x.id));
    this.committees = mine.filter((x) => x.active);
    this.rooms = d.rooms.filter((x) => x.active);
    this.users = d.users.filter((x) => x.active);
    if (!d.page) {
      if (this.committees[0]) this.#pickCommittee(this.committees[0].id);
    } else {
      this.#adopt(d.page[0]);
      this.agenda = d.page[1];
    }
  }

  /** Copies a meeting from the server into the form. */
  #adopt(m: Meeting) {
    this.meeting = m;
    this.committeeId = m.committeeId;
    this.mTitle = m.title;
    this.description = m.description;
    this.startsAt = toLocalInput(m.startsAt);
    this.endsAt = toLocalInput(m.endsAt);
    this.roomId = m.roomId;
    this.mode = m.mode;
    this.quorum = m.quorumRule;
    this.rows = m.participants.map((p) => ({ userId: p.userId, fullName: p.fullName, unit: p.unit, role: p.role, canVote: p.canVote }));
    if (!this.committees.some((c) => c.id === m.committeeId)) {
      this.committees = [...this.committees, { id: m.committeeId, name: m.committeeName, description: '', active: true, members: [] }];
    }
  }

  /** New meeting: choosing a committee resets the participants to its members and default roles. */
  #pickCommittee(id: number) {
    this.committeeId = id;
    const c = this.committees.find((x) => x.id === id);
    this.rows = (c?.members ?? []).map((m) => ({ userId: m.userId, fullName: m.fullName, unit: m.unit, role: m.defaultRole, canVote: m.defaultRole === 'guest' ? false : m.votingRight }));
  }

  #setRole(row: Row, role: MeetingRole) {
    this.rows = this.rows.map((r) => (r === row ? { ...r, role, canVote: votesByDefault(role) } : r));
  }
  #setVote(row: Row, canVote: boolean) {
    this.rows = this.rows.map((r) => (r === row ? { ...r, canVote } : r));
  }
  #remove(row: Row) {
    this.rows = this.rows.filter((r) => r !== row);
  }
  #addPerson() {
    const u = this.users.find((x) => String(x.id) === this.addUserId);
    if (!u || this.rows.some((r) => r.userId === u.id)) return;
    this.rows = [...this.rows, { userId: u.id, fullName: u.fullName, unit: u.unit, role: 'member', canVote: true }];
    this.addUserId = '';
  }

  #participants(): ParticipantInput[] {
    return this.rows.map((r) => ({ userId: r.userId, role: r.role, canVote: r.role === 'guest' ? false : r.canVote }));
  }

  async #save(e: SubmitEvent) {
    e.preventDefault();
    if (!this.mTitle.trim()) {
      this.message = { kind: 'error', text: msg('Nhập tên cuộc họp.', { id: 'editor.titleRequired' }) };
      return;
    }
    if (this.endsAt <= this.startsAt) {
      this.message = { kind: 'error', text: msg('Thời gian kết thúc phải sau thời gian bắt đầu.', { id: 'editor.endBeforeStart' }) };
      return;
    }
    this.saving = true;
    this.message = null;
    const fields = {
      title: this.mTitle.trim(),
      description: this.description,
      startsAt: fromLocalInput(this.startsAt),
      endsAt: fromLocalInput(this.endsAt),
      roomId: this.roomId,
      mode: this.mode,
      quorumRule: this.quorum,
      participants: this.#participants(),
    };
    try {
      if (this.#isNew) {
        const m = await this.api.post<Meeting>('/api/meetings', { committeeId: this.committeeId, ...fields } satisfies CreateMeetingBody);
        navigate(`/meetings/${m.id}/edit`, { replace: true });
        return;
      }
      const m = await this.api.patch<Meeting>(`/api/meetings/${this.meeting!.id}`, { version: this.meeting!.version, ...fields } satisfies UpdateMeetingBody);
      this.#adopt(m);
      this.message = { kind: 'ok', text: msg('Đã lưu.', { id: 'editor.saved' }) };
    } catch (err) {
      this.message = { kind: err instanceof ApiError && err.code === 'version_conflict' ? 'notice' : 'error', text: errorText(err, 'meeting-editor') };
      if (err instanceof ApiError && err.code === 'version_conflict') {
        try {
          this.#adopt(await this.api.get<Meeting>(`/api/meetings/${this.meeting!.id}`));
        } catch {
          /* the message above already tells the user */
        }
      }
    } finally {
      this.saving = false;
    }
  }

  /** The picked time spelled out in the UI language and Vietnam time (date inputs follow the device's locale). */
  #when(local: string) {
    return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(local) ? html`<small class="muted when">${formatDateTime(fromLocalInput(local.slice(0, 16)), this.locale)}</small>` : nothing;
  }

  #openPublish() {
    this.renderRoot.querySelector<HTMLDialogElement>('dialog#publish')?.showModal();
  }

  async #publish() {
    this.renderRoot.querySelector<HTMLDialogElement>('dialog#publish')?.close();
    this.saving = true;
    this.message = null;
    try {
      this.#adopt(await this.api.post<Meeting>(`/api/meetings/${this.meeting!.id}/publish`));
      this.message = { kind: 'ok', text: msg('Đã công bố. Thành phần tham dự đã được thông báo.', { id: 'editor.published' }) };
      window.dispatchEvent(new Event('ec-notifications-changed'));
    } catch (err) {
      this.message = { kind: 'error', text: err instanceof ApiError && err.code === 'invalid_state' ? msg('Cuộc họp này không thể công bố ở trạng thái hiện tại.', { id: 'editor.publishState' }) : errorText(err, 'meeting-editor') };
    } finally {
      this.saving = false;
    }
  }

  override render() {
    const loadError = this.#data.error;
    if (this.#data.loading) return html`<div class="state" role="status"><span class="spinner"></span> ${msg('Đang tải…', { id: 'app.loading' })}</div>`;
    if (loadError)
      return html`<div class="page">
        ${loadError.status === 404 || loadError.status === 403
          ? html`<h1>${msg('Không tìm thấy cuộc họp', { id: 'meetings.notFound' })}</h1>
              <p class="muted">${msg('Bạn không có quyền chuẩn bị cuộc họp này.', { id: 'editor.forbidden' })}</p>`
          : html`<p class="error" role="alert">${msg('Không tải được dữ liệu.', { id: 'editor.loadFailed' })}</p>
              <button @click=${() => void this.#load()}>${msg('Thử lại', { id: 'app.retry' })}</button>`}
      </div>`;
    if (this.#isNew && this.committees.length === 0)
      return html`<div class="page"><h1>${msg('Tạo cuộc họp', { id: 'meetings.create' })}</h1>
        <p class="notice">${msg('Bạn chưa là thư ký của ban chỉ đạo nào nên không thể tạo cuộc họp.', { id: 'editor.noCommittee' })}</p></div>`;
    const m = this.meeting;
    const inRows = new Set(this.rows.map((r) => r.userId));
    return html`<div class="page">
      <a class="back" href=${m ? `/meetings/${m.id}` : '/meetings'}>← ${m ? msg('Xem cuộc họp', { id: 'editor.view' }) : msg('Cuộc họp', { id: 'meetings.title' })}</a>
      <div class="row">
        <h1 style="margin:0">${m ? msg('Chuẩn bị cuộc họp', { id: 'meetings.edit' }) : msg('Tạo cuộc họp', { id: 'meetings.create' })}</h1>
        ${m ? html`<span class="badge ${m.status}" data-testid="meeting-status">${statusLabel(m.status)}</span>` : nothing}
      </div>
      ${this.message ? html`<p class=${this.message.kind} role=${this.message.kind === 'ok' ? 'status' : 'alert'} data-testid="editor-message">${this.message.text}</p>` : nothing}

      <section class="card">
        <form class="meeting" @submit=${this.#save} novalidate>
          <label class="field wide"
            >${msg('Ban chỉ đạo', { id: 'editor.committee' })}
            <select name="committeeId" ?disabled=${!!m} @change=${(e: Event) => this.#pickCommittee(Number((e.target as HTMLSelectElement).value))}>
              ${this.committees.map((c) => html`<option value=${c.id} ?selected=${c.id === this.committeeId}>${c.name}</option>`)}
            </select>
          </label>
          <label class="field wide"
            >${msg('Tên cuộc họp', { id: 'editor.title' })}
            <input name="title" required maxlength=${LIMITS.title} .value=${this.mTitle} @input=${(e: Event) => (this.mTitle = (e.target as HTMLInputElement).value)} />
          </label>
          <label class="field"
            >${msg('Bắt đầu', { id: 'editor.startsAt' })}
            <input name="startsAt" type="datetime-local" required .value=${this.startsAt} @input=${(e: Event) => (this.startsAt = (e.target as HTMLInputElement).value)} />
            ${this.#when(this.startsAt)}
          </label>
          <label class="field"
            >${msg('Kết thúc', { id: 'editor.endsAt' })}
            <input name="endsAt" type="datetime-local" required .value=${this.endsAt} @input=${(e: Event) => (this.endsAt = (e.target as HTMLInputElement).value)} />
            ${this.#when(this.endsAt)}
          </label>
          <label class="field"
            >${msg('Phòng họp', { id: 'editor.room' })}
            <select name="roomId" @change=${(e: Event) => {
              const v = (e.target as HTMLSelectElement).value;
              this.roomId = v ? Number(v) : null;
            }}>
              <option value="" ?selected=${this.roomId == null}>${msg('— Không dùng phòng họp —', { id: 'editor.noRoom' })}</option>
              ${this.rooms.map((r) => html`<option value=${r.id} ?selected=${r.id === this.roomId}>${r.name}${r.location ? ` — ${r.location}` : ''}</option>`)}
            </select>
          </label>
          <label class="field"
            >${msg('Hình thức', { id: 'editor.mode' })}
            <select name="mode" @change=${(e: Event) => (this.mode = (e.target as HTMLSelectElement).value as MeetingMode)}>
              ${MEETING_MODES.map((x) => html`<option value=${x} ?selected=${x === this.mode}>${modeLabel(x)}</option>`)}
            </select>
          </label>
          <label class="field"
            >${msg('Điều kiện hợp lệ (túc số)', { id: 'editor.quorum' })}
            <select name="quorum" @change=${(e: Event) => {
              const k = (e.target as HTMLSelectElement).value;
              this.quorum = k === 'count' ? { kind: 'count', count: Math.max(1, Math.ceil(this.rows.filter((r) => r.canVote).length / 2)) } : ({ kind: k } as QuorumRule);
            }}>
              <option value="majority" ?selected=${this.quorum.kind === 'majority'}>${msg('Quá bán', { id: 'editor.quorum.majority' })}</option>
              <option value="two_thirds" ?selected=${this.quorum.kind === 'two_thirds'}>${msg('Hai phần ba', { id: 'editor.quorum.twoThirds' })}</option>
              <option value="count" ?selected=${this.quorum.kind === 'count'}>${msg('Số người tối thiểu', { id: 'editor.quorum.count' })}</option>
            </select>
          </label>
          ${this.quorum.kind === 'count'
            ? html`<label class="field"
                >${msg('Số thành viên có quyền biểu quyết tối thiểu', { id: 'editor.quorumCount' })}
                <input type="number" min="1" max=${LIMITS.participantsPerMeeting} .value=${String(this.quorum.count)} @input=${(e: Event) =>
                  (this.quorum = { kind: 'count', count: Math.max(1, Number((e.target as HTMLInputElement).value) || 1) })} />
              </label>`
            : html`<span></span>`}
          <label class="field wide"
            >${msg('Mô tả', { id: 'agenda.field.description' })}
            <textarea name="description" maxlength=${LIMITS.description} .value=${this.description} @input=${(e: Event) => (this.description = (e.target as HTMLTextAreaElement).value)}></textarea>
          </label>

          <details class="wide people-box" ?open=${!m}>
            <summary>
              <span>${msg(str`Thành phần tham dự (${this.rows.length})`, { id: 'editor.participants' })}</span>
              <span class="muted">${msg(str`${this.rows.filter((r) => r.canVote && r.role !== 'guest').length} người có quyền biểu quyết`, { id: 'editor.votersCount' })}</span>
            </summary>
            ${this.rows.length
              ? html`<table class="people" data-testid="participant-rows">
                  <thead>
                    <tr>
                      <th>${msg('Họ tên', { id: 'editor.person' })}</th>
                      <th>${msg('Vai trò', { id: 'editor.role' })}</th>
                      <th class="vote-cell">${msg('Biểu quyết', { id: 'editor.canVote' })}</th>
                      <th><span class="visually-hidden">${msg('Bỏ', { id: 'editor.removePerson' })}</span></th>
                    </tr>
                  </thead>
                  <tbody>
                    ${this.rows.map(
                      (r) => html`<tr data-user-id=${r.userId}>
                        <td>${r.fullName}<small>${r.unit ?? ''}</small></td>
                        <td>
                          <select aria-label=${msg('Vai trò', { id: 'editor.role' })} @change=${(e: Event) => this.#setRole(r, (e.target as HTMLSelectElement).value as MeetingRole)}>
                            ${MEETING_ROLES.map((x) => html`<option value=${x} ?selected=${x === r.role}>${roleLabel(x)}</option>`)}
                          </select>
                        </td>
                        <td class="vote-cell">
                          <input type="checkbox" aria-label=${msg('Có quyền biểu quyết', { id: 'meetings.canVote' })} .checked=${r.canVote && r.role !== 'guest'} ?disabled=${r.role === 'guest'} @change=${(e: Event) =>
                            this.#setVote(r, (e.target as HTMLInputElement).checked)} />
                        </td>
                        <td><button type="button" class="danger icon" aria-label=${msg('Bỏ', { id: 'editor.removePerson' })} @click=${() => this.#remove(r)}>✕</button></td>
                      </tr>`,
                    )}
                  </tbody>
                </table>`
              : html`<p class="muted">${msg('Chưa có người tham dự.', { id: 'meetings.noParticipants' })}</p>`}
            <div class="add-person">
              <select aria-label=${msg('Thêm người tham dự', { id: 'editor.addPerson' })} .value=${this.addUserId} @change=${(e: Event) => (this.addUserId = (e.target as HTMLSelectElement).value)}>
                <option value="">${msg('— Chọn người để thêm —', { id: 'editor.pickPerson' })}</option>
                ${this.users.filter((u) => !inRows.has(u.id)).map((u) => html`<option value=${u.id}>${u.fullName}${u.unit ? ` — ${u.unit}` : ''}</option>`)}
              </select>
              <button type="button" ?disabled=${!this.addUserId} @click=${() => this.#addPerson()}>+ ${msg('Thêm', { id: 'agenda.addConfirm' })}</button>
            </div>
          </details>

          <div class="actions wide">
            <button class="primary" type="submit" data-testid="save-meeting" ?disabled=${this.saving}>
              ${this.saving ? html`<span class="spinner"></span>` : nothing}${m ? msg('Lưu thay đổi', { id: 'editor.save' }) : msg('Tạo cuộc họp', { id: 'meetings.create' })}
            </button>
            ${m ? nothing : html`<span class="muted">${msg('Sau khi tạo, bạn xây dựng chương trình họp và công bố.', { id: 'editor.afterCreate' })}</span>`}
          </div>
        </form>
      </section>

      ${m
        ? html`<section class="card" aria-labelledby="agenda-h">
              <h2 id="agenda-h">${msg('Chương trình họp', { id: 'agenda.title' })}</h2>
              <ec-agenda-builder
                .meetingId=${m.id}
                .agenda=${this.agenda}
                .presenters=${m.participants.map((p) => ({ userId: p.userId, fullName: p.fullName }))}
                @ec-agenda-changed=${(e: CustomEvent<Agenda>) => (this.agenda = e.detail)}
              ></ec-agenda-builder>
            </section>
            <section class="card">
              <h2>${msg('Công bố', { id: 'editor.publishTitle' })}</h2>
              ${m.status === 'draft'
                ? html`<p>${msg('Khi công bố, mọi người trong thành phần tham dự được mời và nhận thông báo.', { id: 'editor.publishHint' })}</p>
                    <button class="primary" data-testid="publish" ?disabled=${this.saving} @click=${() => this.#openPublish()}>${msg('Công bố cuộc họp', { id: 'editor.publish' })}</button>`
                : html`<p>${msg('Cuộc họp đã được công bố. Các thay đổi sau đó sẽ được thông báo lại cho người tham dự.', { id: 'editor.alreadyPublished' })}</p>
                    <a class="btn" href="/meetings/${m.id}">${msg('Xem cuộc họp', { id: 'editor.view' })}</a>`}
            </section>
            <dialog id="publish" aria-labelledby="publish-h">
              <h2 id="publish-h">${msg('Công bố cuộc họp?', { id: 'editor.publishConfirmTitle' })}</h2>
              <p>
                ${msg(str`${this.rows.length} người sẽ nhận thư mời và thông báo. Chương trình họp có ${this.agenda?.items.length ?? 0} mục.`, { id: 'editor.publishConfirm' })}
              </p>
              <div class="actions">
                <button class="primary" data-testid="confirm-publish" @click=${() => void this.#publish()}>${msg('Công bố', { id: 'editor.publishTitle' })}</button>
                <button @click=${() => this.renderRoot.querySelector<HTMLDialogElement>('dialog#publish')?.close()}>${msg('Hủy', { id: 'app.cancel' })}</button>
              </div>
            </dialog>`
        : nothing}
    </div>`;
  }
}
