import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { LIMITS } from '../../shared/limits.js';
import type { Committee, CreateCommitteeBody, MeetingRole, UpdateCommitteeBody } from '../../shared/protocol/committees.js';
import type { User } from '../../shared/protocol/users.js';
import { type VoteSettings, VOTE_LIMITS } from '../../shared/protocol/votes.js';
import { majorityLabel } from '../components/votes-shared.js';
import type { Api } from '../services/api.js';
import { apiContext } from '../services/context.js';
import { errorText } from '../services/errors.js';
import { Loader } from '../services/loader.js';
import { MEETING_ROLES, roleLabel } from '../services/labels.js';
import type { Committees, UserList } from '../services/types.js';
import { sharedStyles } from '../styles/shared.js';
import { type AdminMessage, AdminChanges, adminStyles, renderAdminList, renderAdminMessage } from './admin-shared.js';

interface MemberRow {
  userId: number;
  fullName: string;
  unit: string | null;
  defaultRole: MeetingRole;
  votingRight: boolean;
}

/** The rules a new committee starts with (the server's defaults; the Vietnamese usual majority first). */
const DEFAULT_VOTE_SETTINGS: VoteSettings = { majority: 'absolute_members', maxProxies: 1, delegatorMayVote: false, substitutesMayVote: false, substitutesCountPresent: true };
const MAJORITIES = ['absolute_members', 'simple', 'absolute_present', 'two_thirds', 'unanimity'] as const;

/**
 * Admin: committees with their members, default roles and voting right, and their voting rules (the
 * majority chosen explicitly, more than half of all members offered first; proxies) — saved with
 * `PUT /api/committees/:id/vote-settings`.
 */
@localized()
@customElement('ec-admin-committees-view')
export class EcAdminCommitteesView extends LitElement {
  static override styles = [
    sharedStyles,
    adminStyles,
    css`
      ul.committees {
        list-style: none;
        margin: 0;
        padding: 0;
        display: grid;
        gap: 0.75rem;
      }
      ul.committees li {
        display: flex;
        gap: 1rem;
        align-items: center;
        flex-wrap: wrap;
      }
      ul.committees .name {
        flex: 1 1 300px;
      }
      ul.committees .name b {
        display: block;
        font-size: 1.08rem;
        color: var(--ec-primary-strong);
      }
      .add {
        display: flex;
        gap: 0.5rem;
      }
      .add select {
        flex: 1;
      }
      .vote {
        text-align: center;
      }
      fieldset.rules {
        border: 1px solid var(--ec-border);
        border-radius: 8px;
        padding: 0.75rem;
        margin: 0;
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(min(16rem, 100%), 1fr));
        gap: 0.5rem 1rem;
        align-items: end;
      }
      fieldset.rules legend {
        font-weight: 600;
      }
      label.check {
        display: flex;
        gap: 0.6rem;
        align-items: center;
        min-height: 44px;
      }
      label.check input {
        width: 24px;
        height: 24px;
      }
    `,
  ];

  @property({ attribute: false }) params: Record<string, string> = {};
  @consume({ context: apiContext }) private api!: Api;
  #data = new Loader(this, async () => {
    const [c, u] = await Promise.all([this.api.get<Committees>('/api/committees'), this.api.get<UserList>('/api/users')]);
    return { committees: c.committees, users: u.users.filter((x) => x.active) };
  });
  #changes = new AdminChanges(this, () => this.#data.load({ keepValue: true }));
  @state() private editing: Committee | 'new' | null = null;
  @state() private members: MemberRow[] = [];
  @state() private addUserId = '';
  /** The voting rules of the committee being edited (the defaults for a new one). */
  #settings = new Loader(this, () => {
    const c = this.editing;
    return c && c !== 'new' ? this.api.get<VoteSettings>(`/api/committees/${c.id}/vote-settings`) : Promise.resolve({ ...DEFAULT_VOTE_SETTINGS });
  });

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#data.load({ keepValue: true });
  }

  /** The active users, to pick members from (none until the page has loaded). */
  get #users(): User[] {
    return this.#data.value?.users ?? [];
  }

  #edit(c: Committee | 'new') {
    this.editing = c;
    this.members = c === 'new' ? [] : c.members.map((m) => ({ ...m }));
    this.#changes.say(null);
    void this.#settings.load();
  }

  #setRole(row: MemberRow, role: MeetingRole) {
    this.members = this.members.map((m) => (m === row ? { ...m, defaultRole: role, votingRight: role === 'chair' || role === 'member' } : m));
  }

  #add() {
    const u = this.#users.find((x) => String(x.id) === this.addUserId);
    if (!u || this.members.some((m) => m.userId === u.id)) return;
    this.members = [...this.members, { userId: u.id, fullName: u.fullName, unit: u.unit, defaultRole: 'member', votingRight: true }];
    this.addUserId = '';
  }

  #save(e: SubmitEvent) {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const members = this.members.map((m) => ({ userId: m.userId, defaultRole: m.defaultRole, votingRight: m.defaultRole === 'guest' ? false : m.votingRight }));
    const name = String(f.get('name') ?? '').trim();
    const description = String(f.get('description') ?? '');
    const editing = this.editing;
    const withSettings = !!this.#settings.value;
    void this.#changes.run(
      async () => {
        let saved: Committee | null = null;
        if (editing === 'new') saved = await this.api.post<Committee>('/api/committees', { name, description, members } satisfies CreateCommitteeBody);
        else if (editing) saved = await this.api.patch<Committee>(`/api/committees/${editing.id}`, { name, description, active: f.get('active') === 'on', members } satisfies UpdateCommitteeBody);
        if (saved && withSettings) {
          const settings: VoteSettings = {
            majority: f.get('majority') as VoteSettings['majority'],
            maxProxies: Number(f.get('maxProxies')),
            delegatorMayVote: f.get('delegatorMayVote') === 'on',
            substitutesMayVote: f.get('substitutesMayVote') === 'on',
            substitutesCountPresent: f.get('substitutesCountPresent') === 'on',
          };
          await this.api.put<VoteSettings>(`/api/committees/${saved.id}/vote-settings`, settings);
        }
      },
      { ok: () => msg('Đã lưu.', { id: 'editor.saved' }), done: () => (this.editing = null) },
    );
  }

  override render() {
    return html`<div class="page">
      <div class="row head">
        <h1>${msg('Ban chỉ đạo', { id: 'app.nav.committees' })}</h1>
        <span class="spacer"></span>
        <button class="primary" data-testid="new-committee" @click=${() => this.#edit('new')}>+ ${msg('Thêm ban chỉ đạo', { id: 'admin.committees.new' })}</button>
      </div>
      ${renderAdminMessage(this.#changes.message ?? this.#settingsError())}
      ${this.editing ? this.#form(this.editing === 'new' ? null : this.editing) : nothing} ${this.#list()}
    </div>`;
  }

  #form(c: Committee | null) {
    const inList = new Set(this.members.map((m) => m.userId));
    return html`<form class="card editor" data-testid="committee-form" @submit=${this.#save}>
      <h2>${c ? msg(str`Sửa: ${c.name}`, { id: 'admin.committees.edit' }) : msg('Thêm ban chỉ đạo', { id: 'admin.committees.new' })}</h2>
      <label class="field">${msg('Tên', { id: 'admin.committees.name' })}<input name="name" required maxlength=${LIMITS.name} .value=${c?.name ?? ''} /></label>
      <label class="field">${msg('Mô tả', { id: 'agenda.field.description' })}<textarea name="description" maxlength=${LIMITS.description} .value=${c?.description ?? ''}></textarea></label>
      ${c ? html`<label class="row" style="gap:0.6rem"><input type="checkbox" name="active" ?checked=${c.active} /> ${msg('Đang hoạt động', { id: 'admin.committees.active' })}</label>` : nothing}
      <fieldset style="border:0;padding:0;margin:0">
        <legend style="font-weight:600;margin-bottom:0.4rem">${msg(str`Thành viên và vai trò mặc định (${this.members.length})`, { id: 'admin.committees.members' })}</legend>
        ${this.members.length
          ? html`<table>
              <thead>
                <tr>
                  <th>${msg('Họ tên', { id: 'editor.person' })}</th>
                  <th>${msg('Vai trò mặc định', { id: 'admin.committees.defaultRole' })}</th>
                  <th class="vote">${msg('Biểu quyết', { id: 'editor.canVote' })}</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${this.members.map(
                  (m) => html`<tr>
                    <td data-label=${msg('Họ tên', { id: 'editor.person' })}><span>${m.fullName}<small>${m.unit ?? ''}</small></span></td>
                    <td data-label=${msg('Vai trò mặc định', { id: 'admin.committees.defaultRole' })}>
                      <select
                        aria-label=${`${msg('Vai trò mặc định', { id: 'admin.committees.defaultRole' })}: ${m.fullName}`}
                        @change=${(e: Event) => this.#setRole(m, (e.target as HTMLSelectElement).value as MeetingRole)}
                      >
                        ${MEETING_ROLES.map((r) => html`<option value=${r} ?selected=${r === m.defaultRole}>${roleLabel(r)}</option>`)}
                      </select>
                    </td>
                    <td class="vote" data-label=${msg('Biểu quyết', { id: 'editor.canVote' })}>
                      <input type="checkbox" aria-label=${msg('Có quyền biểu quyết', { id: 'meetings.canVote' })} .checked=${m.votingRight && m.defaultRole !== 'guest'} ?disabled=${m.defaultRole === 'guest'} @change=${(e: Event) =>
                        (this.members = this.members.map((x) => (x === m ? { ...x, votingRight: (e.target as HTMLInputElement).checked } : x)))} />
                    </td>
                    <td class="actions"><button type="button" class="danger icon" aria-label=${msg('Bỏ', { id: 'editor.removePerson' })} @click=${() => (this.members = this.members.filter((x) => x !== m))}>✕</button></td>
                  </tr>`,
                )}
              </tbody>
            </table>`
          : html`<p class="muted">${msg('Chưa có thành viên.', { id: 'admin.committees.noMembers' })}</p>`}
        <div class="add" style="margin-top:0.75rem">
          <select aria-label=${msg('Thêm thành viên', { id: 'admin.committees.addMember' })} .value=${this.addUserId} @change=${(e: Event) => (this.addUserId = (e.target as HTMLSelectElement).value)}>
            <option value="">${msg('— Chọn người để thêm —', { id: 'editor.pickPerson' })}</option>
            ${this.#users.filter((u) => !inList.has(u.id)).map((u) => html`<option value=${u.id}>${u.fullName}${u.unit ? ` — ${u.unit}` : ''}</option>`)}
          </select>
          <button type="button" ?disabled=${!this.addUserId} @click=${() => this.#add()}>+ ${msg('Thêm', { id: 'agenda.addConfirm' })}</button>
        </div>
      </fieldset>
      ${this.#voteSettings()}
      <div class="row">
        <button class="primary" type="submit" ?disabled=${this.#changes.busy || !this.#settings.value}>${msg('Lưu', { id: 'app.save' })}</button>
        <button type="button" @click=${() => (this.editing = null)}>${msg('Hủy', { id: 'app.cancel' })}</button>
      </div>
    </form>`;
  }

  /** The committee's voting rules: the majority of its votes (shown before every vote opens) and the proxy rules. */
  #voteSettings() {
    const v = this.#settings.value;
    if (!v) return html`<div class="state" role="status"><span class="spinner"></span> ${msg('Đang tải…', { id: 'app.loading' })}</div>`;
    return html`<fieldset class="rules" data-testid="committee-vote-settings">
      <legend>${msg('Quy tắc biểu quyết', { id: 'admin.committees.voteRules' })}</legend>
      <label class="field"
        >${msg('Tỷ lệ thông qua mặc định', { id: 'admin.committees.majority' })}
        <select name="majority" data-testid="committee-majority">
          ${MAJORITIES.map((x) => html`<option value=${x} ?selected=${x === v.majority}>${majorityLabel(x)}</option>`)}
        </select></label
      >
      <label class="field"
        >${msg('Số ủy quyền tối đa một người nhận', { id: 'admin.committees.maxProxies' })}
        <input name="maxProxies" type="number" min="1" max=${VOTE_LIMITS.maxProxies} required .value=${String(v.maxProxies)}
      /></label>
      <label class="check"><input type="checkbox" name="delegatorMayVote" .checked=${v.delegatorMayVote} /> ${msg('Người đã ủy quyền vẫn được tự biểu quyết', { id: 'admin.committees.delegatorMayVote' })}</label>
      <label class="check"><input type="checkbox" name="substitutesMayVote" .checked=${v.substitutesMayVote} /> ${msg('Người dự thay được biểu quyết thay', { id: 'admin.committees.substitutesMayVote' })}</label>
      <label class="check"
        ><input type="checkbox" name="substitutesCountPresent" .checked=${v.substitutesCountPresent} /> ${msg('Người dự thay được tính là có mặt', { id: 'admin.committees.substitutesCountPresent' })}</label
      >
    </fieldset>`;
  }

  /** Why the rules of the committee last opened did not load (its form then waits without them). */
  #settingsError(): AdminMessage | null {
    const err = this.#settings.error;
    return err ? { kind: 'error', text: () => errorText(err, 'admin') } : null;
  }

  #list() {
    return renderAdminList(this.#data, { items: (d) => d.committees, empty: () => msg('Chưa có ban chỉ đạo nào.', { id: 'admin.committees.empty' }), list: (committees) => this.#cards(committees) });
  }

  #cards(committees: Committee[]) {
    return html`<ul class="committees" data-testid="committees">
      ${committees.map((c) => {
        const chair = c.members.find((m) => m.defaultRole === 'chair');
        return html`<li class="card">
          <span class="name"
            ><b>${c.name}</b>
            <span class="muted"
              >${msg(str`${c.members.length} thành viên`, { id: 'admin.committees.count' })}${chair ? html` · ${roleLabel('chair')}: ${chair.fullName}` : nothing}</span
            ></span
          >
          ${c.active ? nothing : html`<span class="badge draft">${msg('Ngừng hoạt động', { id: 'admin.committees.inactive' })}</span>`}
          <button @click=${() => this.#edit(c)}>${msg('Sửa', { id: 'agenda.edit' })}</button>
        </li>`;
      })}
    </ul>`;
  }
}
