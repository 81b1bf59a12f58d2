import { consume } from '@lit/context';
import { localized, msg } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { LIMITS } from '../../shared/limits.js';
import type { Room } from '../../shared/protocol/committees.js';
import type { Api } from '../services/api.js';
import { apiContext } from '../services/context.js';
import { Loader } from '../services/loader.js';
import type { Rooms } from '../services/types.js';
import { AdminChanges, adminStyles, renderAdminList, renderAdminMessage } from './admin-shared.js';
import { sharedStyles } from '../styles/shared.js';

/** Admin: meeting rooms (create, edit, deactivate). */
@localized()
@customElement('ec-admin-rooms-view')
export class EcAdminRoomsView extends LitElement {
  static override styles = [sharedStyles, adminStyles, css``];

  @property({ attribute: false }) params: Record<string, string> = {};
  @consume({ context: apiContext }) private api!: Api;
  #rooms = new Loader(this, async () => (await this.api.get<Rooms>('/api/rooms')).rooms);
  #changes = new AdminChanges(this, () => this.#rooms.load({ keepValue: true }));
  /** Room being edited, 'new', or null. */
  @state() private editing: Room | 'new' | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#rooms.load({ keepValue: true });
  }

  #save(e: SubmitEvent) {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const cap = String(f.get('capacity') ?? '').trim();
    const body = { name: String(f.get('name') ?? '').trim(), location: String(f.get('location') ?? ''), capacity: cap ? Number(cap) : null };
    const editing = this.editing;
    void this.#changes.run(
      async () => {
        if (editing === 'new') await this.api.post<Room>('/api/rooms', body);
        else if (editing) await this.api.patch<Room>(`/api/rooms/${editing.id}`, body);
      },
      { ok: () => msg('Đã lưu.', { id: 'editor.saved' }), done: () => (this.editing = null) },
    );
  }

  #toggle(r: Room) {
    void this.#changes.run(() => this.api.patch<Room>(`/api/rooms/${r.id}`, { active: !r.active }));
  }

  override render() {
    return html`<div class="page">
      <div class="row head">
        <h1>${msg('Phòng họp', { id: 'app.nav.rooms' })}</h1>
        <span class="spacer"></span>
        <button class="primary" data-testid="new-room" @click=${() => (this.editing = 'new')}>+ ${msg('Thêm phòng họp', { id: 'admin.rooms.new' })}</button>
      </div>
      ${renderAdminMessage(this.#changes.message)}
      ${this.editing ? this.#form(this.editing === 'new' ? null : this.editing) : nothing}
      ${this.#list()}
    </div>`;
  }

  #form(r: Room | null) {
    return html`<form class="card editor" @submit=${this.#save}>
      <h2>${r ? msg('Sửa phòng họp', { id: 'admin.rooms.edit' }) : msg('Thêm phòng họp', { id: 'admin.rooms.new' })}</h2>
      <div class="grid">
        <label class="field">${msg('Tên phòng', { id: 'admin.rooms.name' })}<input name="name" required maxlength=${LIMITS.name} .value=${r?.name ?? ''} /></label>
        <label class="field">${msg('Vị trí', { id: 'admin.rooms.location' })}<input name="location" maxlength=${LIMITS.title} .value=${r?.location ?? ''} /></label>
        <label class="field">${msg('Sức chứa (chỗ ngồi)', { id: 'admin.rooms.capacity' })}<input name="capacity" type="number" min="1" max="10000" inputmode="numeric" .value=${r?.capacity ? String(r.capacity) : ''} /></label>
      </div>
      <div class="row">
        <button class="primary" type="submit" ?disabled=${this.#changes.busy}>${msg('Lưu', { id: 'app.save' })}</button>
        <button type="button" @click=${() => (this.editing = null)}>${msg('Hủy', { id: 'app.cancel' })}</button>
      </div>
    </form>`;
  }

  #list() {
    return renderAdminList(this.#rooms, { items: (rooms) => rooms, empty: () => msg('Chưa có phòng họp nào.', { id: 'admin.rooms.empty' }), list: (rooms) => this.#table(rooms) });
  }

  #table(rooms: Room[]) {
    return html`<div class="card table-card">
      <table data-testid="rooms">
        <thead>
          <tr>
            <th>${msg('Tên phòng', { id: 'admin.rooms.name' })}</th>
            <th>${msg('Vị trí', { id: 'admin.rooms.location' })}</th>
            <th>${msg('Sức chứa', { id: 'admin.rooms.capacityShort' })}</th>
            <th>${msg('Trạng thái', { id: 'admin.status' })}</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          ${rooms.map(
            (r) => html`<tr class=${r.active ? '' : 'inactive'}>
              <td data-label=${msg('Tên phòng', { id: 'admin.rooms.name' })}><b>${r.name}</b></td>
              <td data-label=${msg('Vị trí', { id: 'admin.rooms.location' })}>${r.location || '—'}</td>
              <td data-label=${msg('Sức chứa', { id: 'admin.rooms.capacityShort' })}>${r.capacity ?? '—'}</td>
              <td data-label=${msg('Trạng thái', { id: 'admin.status' })}>${r.active ? html`<span class="badge closed">${msg('Đang dùng', { id: 'admin.active' })}</span>` : html`<span class="badge draft">${msg('Ngừng dùng', { id: 'admin.inactive' })}</span>`}</td>
              <td class="actions">
                <button @click=${() => (this.editing = r)} ?disabled=${this.#changes.busy}>${msg('Sửa', { id: 'agenda.edit' })}</button>
                <button class=${r.active ? 'danger' : ''} @click=${() => void this.#toggle(r)} ?disabled=${this.#changes.busy}>
                  ${r.active ? msg('Ngừng dùng', { id: 'admin.deactivate' }) : msg('Dùng lại', { id: 'admin.reactivate' })}
                </button>
              </td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>`;
  }
}
