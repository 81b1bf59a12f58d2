import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { Locale } from '../../shared/protocol/auth.js';
import type { AttendanceEntry } from '../../shared/protocol/live.js';
import { localeContext } from '../services/context.js';
import { errorText } from '../services/errors.js';
import { formatTime } from '../services/format.js';
import { CommandError } from '../services/socket.js';
import { VotesSessionElement, voteStyles } from './votes-shared.js';

/**
 * A member's proxy for one meeting (ủy quyền biểu quyết): delegate my vote to another participant who
 * may vote (pick, then confirm), see to whom I delegated and take it back; and see whose votes I hold
 * ("you also vote for …"), whether delegated here or recorded by the secretary in the attendance.
 * The server decides (vote:delegate); this only shows the session's delegations.
 */
@localized()
@customElement('ec-vote-delegation')
export class EcVoteDelegation extends VotesSessionElement {
  static override styles = [
    voteStyles,
    css`
      :host {
        display: block;
      }
      .row {
        display: flex;
        gap: 0.5rem;
        flex-wrap: wrap;
        align-items: center;
        margin-top: 0.5rem;
      }
      label {
        display: grid;
        grid-template-columns: minmax(0, 1fr);
        gap: 0.25rem;
        font-weight: 600;
      }
      select {
        font: inherit;
        min-height: 44px;
        width: 100%;
        min-width: 0;
        padding: 0.3rem 0.5rem;
        border: 1px solid var(--ec-border, #b8c2d0);
        border-radius: 6px;
      }
      .confirm {
        border: 2px solid var(--ec-primary, #1f5fa8);
        border-radius: 10px;
        padding: 0.75rem 1rem;
        margin-top: 0.5rem;
      }
      p {
        margin: 0.35rem 0;
      }
      .warn {
        color: var(--ec-warning, #8a5a00);
      }
    `,
  ];

  /** The meeting's participants (the live snapshot's attendance list). */
  @property({ attribute: false }) participants: AttendanceEntry[] = [];
  /** The signed-in user. */
  @property({ type: Number }) userId: number | null = null;
  /** The caller has a vote in this meeting (a voting participant, not a guest). */
  @property({ type: Boolean }) canVote = false;
  /** The meeting is closed: nothing can change any more. */
  @property({ type: Boolean }) closed = false;
  @consume({ context: localeContext, subscribe: true }) private locale: Locale = 'vi';

  @state() private picking = false;
  @state() private target: number | null = null;
  @state() private busy = false;
  @state() private error: string | null = null;

  override render() {
    const s = this.session;
    if (!s || !s.loaded || this.userId == null) return nothing;
    const me = this.userId;
    const given = s.delegations.find((d) => d.fromUserId === me);
    const held = [
      ...s.delegations.filter((d) => d.toUserId === me).map((d) => d.fromName),
      // Proxies the secretary recorded in the attendance, when not already a delegation here.
      ...this.participants.filter((p) => p.status === 'proxy' && p.proxyHolderId === me && !s.delegations.some((d) => d.fromUserId === p.userId)).map((p) => p.fullName),
    ];
    if (!this.canVote && !held.length) return nothing;
    return html`<section class="card" data-testid="delegation" aria-labelledby="deleg-h">
      <h2 id="deleg-h">${msg('Ủy quyền biểu quyết', { id: 'votes.deleg.title' })}</h2>
      ${this.error ? html`<p class="error" role="alert">${errorText(this.error, 'delegation')}</p>` : nothing}
      ${held.length
        ? html`<p class="ok" data-testid="delegation-held">${msg(str`Bạn biểu quyết cả phần của: ${held.join(', ')}`, { id: 'votes.deleg.held' })}</p>
            <p class="meta">${msg('Khi biểu quyết, chọn tên người ủy quyền trong mục “Bỏ phiếu cho”.', { id: 'votes.deleg.heldHint' })}</p>`
        : nothing}
      ${given
        ? html`<p data-testid="delegated-to">
              ${msg(str`Bạn đã ủy quyền biểu quyết cho ${given.toName} lúc ${formatTime(given.createdAt, this.locale)}.`, { id: 'votes.deleg.given' })}
            </p>
            ${s.delegatorMayVote
              ? html`<p class="meta">${msg('Bạn vẫn có thể tự biểu quyết; khi đó người được ủy quyền không bỏ phiếu thay bạn nữa.', { id: 'votes.deleg.mayStillVote' })}</p>`
              : html`<p class="meta">${msg('Bạn không tự biểu quyết được cho đến khi thu hồi ủy quyền.', { id: 'votes.deleg.cannotVote' })}</p>`}
            ${this.closed
              ? nothing
              : html`<div class="row">
                  <button data-testid="delegation-revoke" ?disabled=${this.busy} @click=${() => this.send(null)}>${msg('Thu hồi ủy quyền', { id: 'votes.deleg.revoke' })}</button>
                </div>`}`
        : this.canVote && !this.closed
          ? s.delegations.some((d) => d.toUserId === me)
            ? html`<p class="meta">${msg('Bạn đang giữ phiếu ủy quyền của người khác nên không thể ủy quyền tiếp.', { id: 'votes.deleg.noChain' })}</p>`
            : this.picking
              ? this.renderPick()
              : html`<p class="meta">${msg('Nếu không thể biểu quyết, bạn có thể ủy quyền cho một đại biểu khác trong phiên họp này.', { id: 'votes.deleg.hint' })}</p>
                  <div class="row">
                    <button data-testid="delegate-start" @click=${() => ((this.picking = true), (this.error = null))}>${msg('Ủy quyền biểu quyết…', { id: 'votes.deleg.start' })}</button>
                  </div>`
          : nothing}
    </section>`;
  }

  private renderPick() {
    const s = this.session!;
    const choices = this.participants.filter((p) => p.userId !== this.userId && p.canVote && p.role !== 'guest').sort((a, b) => a.fullName.localeCompare(b.fullName, 'vi'));
    const picked = choices.find((p) => p.userId === this.target);
    return html`<div class="confirm" role="group" aria-label=${msg('Ủy quyền biểu quyết', { id: 'votes.deleg.title' })}>
      <label
        >${msg('Ủy quyền cho', { id: 'votes.deleg.to' })}
        <select data-testid="delegate-to" @change=${(e: Event) => (this.target = Number((e.target as HTMLSelectElement).value) || null)}>
          <option value="" ?selected=${this.target == null}>${msg('— Chọn đại biểu —', { id: 'votes.deleg.choose' })}</option>
          ${choices.map((p) => html`<option value=${p.userId} ?selected=${p.userId === this.target}>${p.fullName}${p.title ? ` — ${p.title}` : ''}</option>`)}
        </select>
      </label>
      ${picked
        ? html`<p data-testid="delegate-summary">${msg(str`${picked.fullName} sẽ biểu quyết thay bạn trong phiên họp này.`, { id: 'votes.deleg.summary' })}</p>
            ${s.delegatorMayVote ? nothing : html`<p class="warn">${msg('Sau khi ủy quyền, bạn sẽ không tự biểu quyết được cho đến khi thu hồi.', { id: 'votes.deleg.warn' })}</p>`}`
        : nothing}
      <div class="row">
        <button class="primary" data-testid="delegate-confirm" ?disabled=${this.busy || !picked} @click=${() => this.send(this.target)}>${msg('Xác nhận ủy quyền', { id: 'votes.deleg.confirm' })}</button>
        <button ?disabled=${this.busy} @click=${() => ((this.picking = false), (this.target = null))}>${msg('Hủy', { id: 'votes.deleg.cancel' })}</button>
      </div>
    </div>`;
  }

  private async send(toUserId: number | null) {
    this.busy = true;
    this.error = null;
    try {
      await this.session!.delegate(toUserId);
      this.picking = false;
      this.target = null;
    } catch (e) {
      this.error = e instanceof CommandError ? e.code : 'internal';
    } finally {
      this.busy = false;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-vote-delegation': EcVoteDelegation;
  }
}
