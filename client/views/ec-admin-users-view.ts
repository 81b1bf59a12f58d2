import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { LitElement, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { LIMITS } from '../../shared/limits.js';
import type { Me } from '../../shared/protocol/auth.js';
import type { CreateUserBody, UpdateUserBody, User } from '../../shared/protocol/users.js';
import type { Api } from '../services/api.js';
import { apiContext, meContext } from '../services/context.js';
import { Loader } from '../services/loader.js';
import type { UserList } from '../services/types.js';
import '../components/ec-user-devices.js';
import { sharedStyles } from '../styles/shared.js';
import { AdminChanges, adminStyles, renderAdminList, renderAdminMessage } from './admin-shared.js';

type Mode = { kind: 'new' } | { kind: 'edit'; user: User } | { kind: 'password'; user: User };

/** Admin: users (create, edit, deactivate/reactivate, reset password). */
@localized()
@customElement('ec-admin-users-view')
export class EcAdminUsersView extends LitElement {
  static override styles = [sharedStyles, adminStyles];

  @property({ attribute: false }) params: Record<string, string> = {};
  @consume({ context: apiContext }) private api!: Api;
  @consume({ context: meContext, subscribe: true }) private me: Me | null = null;
  #users = new Loader(this, async () => (await this.api.get<UserList>('/api/users')).users);
  #changes = new AdminChanges(this, () => this.#users.load({ keepValue: true }));
  @state() private mode: Mode | null = null;
  @state() private filter = '';
  /** Whose devices are listed (revoke = remote wipe), if anyone's. */
  @state() private devicesOf: User | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#users.load({ keepValue: true });
  }

  #run(fn: () => Promise<unknown>, ok: () => string) {
    void this.#changes.run(fn, { ok, done: () => (this.mode = null) });
  }

  #submit(e: SubmitEvent) {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const s = (k: string) => String(f.get(k) ?? '').trim();
    const mode = this.mode!;
    if (mode.kind === 'password') {
      this.#run(() => this.api.patch<User>(`/api/users/${mode.user.id}`, { password: String(f.get('password') ?? '') } satisfies UpdateUserBody), () => msg('Đã đặt lại mật khẩu.', { id: 'admin.users.passwordReset' }));
      return;
    }
    const fields = {
      fullName: s('fullName'),
      title: s('title') || null,
      unit: s('unit') || null,
      systemRole: s('systemRole') === 'admin' ? ('admin' as const) : ('user' as const),
      // Empty removes the address: that user then gets reminders in the app only.
      email: s('email') || null,
    };
    if (mode.kind === 'new') {
      const body: CreateUserBody = { ...fields, username: s('username'), password: String(f.get('password') ?? ''), locale: s('locale') === 'en' ? 'en' : 'vi' };
      this.#run(() => this.api.post<User>('/api/users', body), () => msg('Đã tạo người dùng.', { id: 'admin.users.created' }));
    } else {
      this.#run(() => this.api.patch<User>(`/api/users/${mode.user.id}`, fields satisfies UpdateUserBody), () => msg('Đã lưu.', { id: 'editor.saved' }));
    }
  }

  #toggle(u: User) {
    this.#run(
      () => this.api.patch<User>(`/api/users/${u.id}`, { active: !u.active }),
      () => (u.active ? msg(str`Đã khóa tài khoản ${u.username}.`, { id: 'admin.users.deactivated' }) : msg(str`Đã mở khóa tài khoản ${u.username}.`, { id: 'admin.users.reactivated' })),
    );
  }

  override render() {
    return html`<div class="page">
      <div class="row head">
        <h1>${msg('Người dùng', { id: 'app.nav.users' })}</h1>
        <span class="spacer"></span>
        <button class="primary" data-testid="new-user" @click=${() => (this.mode = { kind: 'new' })}>+ ${msg('Thêm người dùng', { id: 'admin.users.new' })}</button>
      </div>
      ${renderAdminMessage(this.#changes.message)}
      ${this.mode ? this.#form(this.mode) : nothing}
      ${this.devicesOf ? html`<ec-user-devices .user=${this.devicesOf} @ec-close=${() => (this.devicesOf = null)}></ec-user-devices>` : nothing}
      <label class="field" style="margin-bottom:0.75rem"
        ><span class="visually-hidden">${msg('Tìm theo tên, tên đăng nhập hoặc đơn vị', { id: 'admin.users.search' })}</span>
        <input type="search" placeholder=${msg('Tìm theo tên, tên đăng nhập hoặc đơn vị', { id: 'admin.users.search' })} .value=${this.filter} @input=${(e: Event) => (this.filter = (e.target as HTMLInputElement).value)}
      /></label>
      ${this.#list()}
    </div>`;
  }

  #form(mode: Mode) {
    const u = mode.kind === 'new' ? null : mode.user;
    return html`<form class="card editor" data-testid="user-form" @submit=${this.#submit}>
      <h2>
        ${mode.kind === 'new'
          ? msg('Thêm người dùng', { id: 'admin.users.new' })
          : mode.kind === 'edit'
            ? msg(str`Sửa: ${u!.fullName}`, { id: 'admin.users.edit' })
            : msg(str`Đặt lại mật khẩu: ${u!.fullName}`, { id: 'admin.users.resetTitle' })}
      </h2>
      <div class="grid">
        ${mode.kind === 'password'
          ? html`<label class="field">${msg('Mật khẩu mới (ít nhất 8 ký tự)', { id: 'admin.users.newPassword' })}<input name="password" type="password" autocomplete="new-password" required minlength=${LIMITS.password.min} maxlength=${LIMITS.password.max} /></label>`
          : html`
              ${mode.kind === 'new'
                ? html`<label class="field">${msg('Tên đăng nhập', { id: 'login.username' })}<input name="username" required autocapitalize="none" spellcheck="false" maxlength=${LIMITS.username} /></label>`
                : nothing}
              <label class="field">${msg('Họ tên', { id: 'editor.person' })}<input name="fullName" required maxlength=${LIMITS.name} .value=${u?.fullName ?? ''} /></label>
              <label class="field">${msg('Chức vụ', { id: 'admin.users.title' })}<input name="title" maxlength=${LIMITS.title} .value=${u?.title ?? ''} /></label>
              <label class="field">${msg('Đơn vị', { id: 'admin.users.unit' })}<input name="unit" maxlength=${LIMITS.unit} placeholder="Sở Nội vụ" .value=${u?.unit ?? ''} /></label>
              <label class="field"
                >${msg('Thư điện tử (nhận nhắc việc)', { id: 'admin.users.email' })}<input
                  name="email"
                  type="email"
                  autocomplete="off"
                  autocapitalize="none"
                  spellcheck="false"
                  maxlength="254"
                  placeholder="ten@donvi.gov.vn"
                  .value=${u?.email ?? ''}
              /></label>
              <label class="field"
                >${msg('Quyền hệ thống', { id: 'admin.users.systemRole' })}
                <select name="systemRole" ?disabled=${u?.id === this.me?.id}>
                  <option value="user" ?selected=${u?.systemRole !== 'admin'}>${msg('Người dùng', { id: 'admin.users.roleUser' })}</option>
                  <option value="admin" ?selected=${u?.systemRole === 'admin'}>${msg('Quản trị viên', { id: 'admin.users.roleAdmin' })}</option>
                </select></label
              >
              ${mode.kind === 'new'
                ? html`<label class="field">${msg('Mật khẩu ban đầu (ít nhất 8 ký tự)', { id: 'admin.users.password' })}<input name="password" type="password" autocomplete="new-password" required minlength=${LIMITS.password.min} /></label>
                    <label class="field"
                      >${msg('Ngôn ngữ', { id: 'app.language' })}<select name="locale">
                        <option value="vi">Tiếng Việt</option>
                        <option value="en">English</option>
                      </select></label
                    >`
                : nothing}
            `}
      </div>
      <div class="row">
        <button class="primary" type="submit" ?disabled=${this.#changes.busy}>${msg('Lưu', { id: 'app.save' })}</button>
        <button type="button" @click=${() => (this.mode = null)}>${msg('Hủy', { id: 'app.cancel' })}</button>
      </div>
    </form>`;
  }

  #list() {
    const q = this.filter.trim().toLocaleLowerCase('vi');
    return renderAdminList(this.#users, {
      items: (users) => (q ? users.filter((u) => [u.fullName, u.username, u.unit ?? '', u.title ?? '', u.email ?? ''].some((x) => x.toLocaleLowerCase('vi').includes(q))) : users),
      empty: () => msg('Không có người dùng phù hợp.', { id: 'admin.users.empty' }),
      list: (shown) => this.#table(shown),
    });
  }

  #table(shown: User[]) {
    return html`<div class="card table-card">
      <table data-testid="users">
        <thead>
          <tr>
            <th>${msg('Họ tên', { id: 'editor.person' })}</th>
            <th>${msg('Tên đăng nhập', { id: 'login.username' })}</th>
            <th>${msg('Đơn vị', { id: 'admin.users.unit' })}</th>
            <th>${msg('Trạng thái', { id: 'admin.status' })}</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          ${shown.map(
            (u) => html`<tr class=${u.active ? '' : 'inactive'} data-username=${u.username}>
              <td data-label=${msg('Họ tên', { id: 'editor.person' })}><span><b>${u.fullName}</b><small>${u.title ?? ''}</small></span></td>
              <td data-label=${msg('Tên đăng nhập', { id: 'login.username' })}>
                <span>${u.username}${u.systemRole === 'admin' ? html` <span class="badge">${msg('Quản trị', { id: 'admin.users.adminBadge' })}</span>` : nothing}<small>${u.email ?? ''}</small></span>
              </td>
              <td data-label=${msg('Đơn vị', { id: 'admin.users.unit' })}>${u.unit ?? '—'}</td>
              <td data-label=${msg('Trạng thái', { id: 'admin.status' })}>${u.active ? html`<span class="badge closed">${msg('Hoạt động', { id: 'admin.users.active' })}</span>` : html`<span class="badge draft">${msg('Đã khóa', { id: 'admin.users.inactive' })}</span>`}</td>
              <td class="actions">
                <button @click=${() => (this.mode = { kind: 'edit', user: u })} ?disabled=${this.#changes.busy}>${msg('Sửa', { id: 'agenda.edit' })}</button>
                <button @click=${() => (this.mode = { kind: 'password', user: u })} ?disabled=${this.#changes.busy}>${msg('Đặt lại mật khẩu', { id: 'admin.users.reset' })}</button>
                <button data-testid="user-devices-open" @click=${() => (this.devicesOf = u)} ?disabled=${this.#changes.busy}>${msg('Thiết bị', { id: 'admin.devices.open' })}</button>
                ${u.id === this.me?.id
                  ? nothing
                  : html`<button class=${u.active ? 'danger' : ''} @click=${() => this.#toggle(u)} ?disabled=${this.#changes.busy}>${u.active ? msg('Khóa', { id: 'admin.users.deactivate' }) : msg('Mở khóa', { id: 'admin.users.reactivate' })}</button>`}
              </td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>`;
  }
}
