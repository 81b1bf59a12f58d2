import { localized, msg, str } from '@lit/localize';
import { css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import type { VoteView } from '../../shared/protocol/votes.js';
import { errorText } from '../services/errors.js';
import { newReceipt, receiptKey, storeReceipt, storedReceipt } from '../services/votes.js';
import { CommandError, newCommandId } from '../services/socket.js';
import './ec-vote-result.js';
import { VotesSessionElement, abstainLabel, kindLabel, optionLabel, voteCountdown, voteStyles, rollText } from './votes-shared.js';

/**
 * A member's vote panel: the open vote with one large button per choice, a confirmation step, then
 * the acknowledgement — the receipt for a secret vote (kept on this device), or the current choice of
 * a named vote, which can be changed until the close. Votes held by proxy are cast from the same panel.
 * After the close: the result, and for a secret vote a check that this device's ballot was counted.
 */
@localized()
@customElement('ec-vote-panel')
export class EcVotePanel extends VotesSessionElement {
  static override styles = [
    voteStyles,
    css`
      :host {
        display: block;
      }
      .choices {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr));
        gap: 0.6rem;
        margin: 0.75rem 0;
      }
      .choice {
        min-height: 64px;
        font-size: 1.15rem;
        font-weight: 600;
      }
      .choice[aria-pressed='true'] {
        background: var(--ec-primary-soft, #e1ecfa);
        border: 2px solid var(--ec-primary, #1f5fa8);
      }
      .confirm {
        border: 2px solid var(--ec-primary, #1f5fa8);
        border-radius: 10px;
        padding: 0.75rem 1rem;
        margin: 0.75rem 0;
      }
      .row {
        display: flex;
        gap: 0.5rem;
        flex-wrap: wrap;
        align-items: center;
      }
      .receipt {
        font-family: ui-monospace, monospace;
        font-size: 1.05rem;
        letter-spacing: 0.05em;
        word-break: break-all;
        background: var(--ec-surface-2, #f3f6fa);
        padding: 0.4rem 0.6rem;
        border-radius: 6px;
      }
      ul.bloc {
        list-style: none;
        padding: 0;
        display: grid;
        gap: 0.4rem;
      }
      select {
        min-height: 44px;
        font: inherit;
      }
    `,
  ];

  @state() private selected: number[] = [];
  @state() private confirming = false;
  @state() private busy = false;
  @state() private error: string | null = null;
  /** The vote `error` is about (a refusal stays visible above that vote's result, not another's). */
  private errorVoteId: number | null = null;
  @state() private forUser: number | null = null;
  @state() private check: string | null = null;

  override render() {
    const s = this.session;
    if (!s) return nothing;
    if (!s.loaded) return html`<section class="card meta">${s.error ? errorText(s.error, 'vote') : msg('Đang tải biểu quyết…', { id: 'votes.loading' })}</section>`;
    return html`${s.votes.filter((x) => x.state === 'draft' && x.bloc).map((x) => this.renderBloc(x))}${this.renderCurrent()}`;
  }

  /**
   * A consent (bloc) vote the chair proposed: the items to adopt together; until it opens, any member
   * may pull one out for separate debate.
   */
  private renderBloc(v: VoteView) {
    return html`<section class="card" data-testid="bloc-proposal" data-vote-id=${v.id}>
      <h2>${v.title}</h2>
      <p class="meta">${msg('Đề xuất thông qua gộp các nội dung dưới đây. Thành viên có thể đề nghị tách một nội dung để thảo luận riêng trước khi biểu quyết.', { id: 'votes.bloc.hint' })}</p>
      <ul class="bloc">
        ${v.bloc!.map(
          (b) => html`<li class="row">
            ${b.pulledBy != null
              ? html`<span><s>${b.title}</s> <span class="meta">${msg(str`tách ra thảo luận riêng — ${b.pulledByName ?? ''}`, { id: 'votes.bloc.pulledBy' })}</span></span>`
              : html`<span>${b.title}</span>
                  <button data-testid="bloc-pull-${b.agendaItemId}" ?disabled=${this.busy} @click=${() => this.pull(v, b.agendaItemId)}>
                    ${msg('Tách ra thảo luận riêng', { id: 'votes.bloc.pull' })}
                  </button>`}
          </li>`,
        )}
      </ul>
    </section>`;
  }

  private async pull(v: VoteView, agendaItemId: number) {
    this.busy = true;
    this.error = null;
    try {
      await this.session!.client.command('vote:bloc_pull', { voteId: v.id, agendaItemId });
    } catch (e) {
      this.error = e instanceof CommandError ? e.code : 'internal';
      this.errorVoteId = v.id;
    } finally {
      this.busy = false;
    }
  }

  private renderCurrent() {
    const s = this.session!;
    const v = s.current;
    if (!v) return nothing;
    if (v.state !== 'open') {
      // A ballot refused after the vote ended (e.g. queued while the tablet was offline) says so above the result.
      return html`${this.error && this.errorVoteId === v.id ? html`<p class="error" role="alert" data-testid="vote-refused">${errorText(this.error, 'vote')}</p>` : nothing}
        <ec-vote-result .vote=${v}></ec-vote-result>${v.secret ? this.renderCheck(v) : nothing}`;
    }
    return this.renderOpen(v);
  }

  private renderOpen(v: VoteView) {
    const s = this.session!;
    const mine = s.mine.get(v.id);
    const p = s.progress.get(v.id) ?? { voted: v.voted, eligible: v.eligible, members: v.members };
    const proxies = mine?.proxyFor ?? [];
    const forUser = this.forUser;
    const forProxy = forUser != null ? proxies.find((x) => x.userId === forUser) : undefined;
    const hasVoted = forProxy ? forProxy.hasVoted : (mine?.hasVoted ?? false);
    const canVote = forProxy ? true : (mine?.canVote ?? false);
    const stored = v.secret ? storedReceipt(forUser != null ? `${v.id}:${forUser}` : v.id) : null;
    const multi = v.kind === 'multiple' || v.kind === 'election';
    return html`<section class="card" data-testid="vote-panel" data-vote-id=${v.id}>
      <h2>${v.title}</h2>
      <div class="meta">
        ${kindLabel(v.kind)} · ${v.secret ? msg('Bỏ phiếu kín', { id: 'votes.secret' }) : msg('Biểu quyết công khai', { id: 'votes.named' })}
        ${multi ? html` · ${msg(str`Chọn tối đa ${v.maxChoices}`, { id: 'votes.maxChoices' })}` : nothing}
      </div>
      <p class="progress" data-testid="vote-progress">${rollText(p)} ${voteCountdown(v, () => s.client.now())}</p>
      ${proxies.length
        ? html`<label class="row"
            >${msg('Bỏ phiếu cho', { id: 'votes.castFor' })}
            <select @change=${(e: Event) => this.pickFor((e.target as HTMLSelectElement).value)}>
              <option value="" ?selected=${forUser == null}>${msg('Bản thân tôi', { id: 'votes.myself' })}</option>
              ${proxies.map((x) => html`<option value=${x.userId} ?selected=${forUser === x.userId}>${msg(str`${x.fullName} (ủy quyền)`, { id: 'votes.proxyOf' })}</option>`)}
            </select></label
          >`
        : nothing}
      ${this.error ? html`<p class="error" role="alert">${errorText(this.error, 'vote')}</p>` : nothing}
      ${this.busy && s.client.state !== 'online'
        ? html`<p class="error" role="status" data-testid="vote-queued">
            ${msg('Máy tính bảng đang mất kết nối: phiếu chưa đến phòng họp, sẽ tự gửi (một lần) khi có kết nối trở lại.', { id: 'votes.queued' })}
          </p>`
        : nothing}
      ${hasVoted && v.secret
        ? html`<p class="ok" data-testid="vote-recorded">${msg('Phiếu đã được ghi nhận. Cảm ơn bạn.', { id: 'votes.recorded' })}</p>
            ${stored
              ? html`<p class="meta">${msg('Mã biên nhận (lưu trên thiết bị này, dùng để kiểm tra sau khi kết thúc):', { id: 'votes.receiptHint' })}</p>
                  <p class="receipt" data-testid="vote-receipt">${stored.receipt}</p>`
              : nothing}`
        : !canVote && mine?.reason
          ? html`<p class="meta" data-testid="vote-cannot">${errorText(mine.reason, 'vote')}</p>`
          : this.confirming
            ? this.renderConfirm(v)
            : html`${!v.secret && hasVoted && forProxy?.choices
                  ? html`<p class="ok" data-testid="vote-recorded">
                      ${msg(str`Phiếu của ${forProxy.fullName}: ${this.choiceText(v, forProxy.choices)}. Có thể đổi đến khi kết thúc.`, { id: 'votes.proxyRecorded' })}
                    </p>`
                  : !v.secret && hasVoted && !forProxy && mine?.choices
                    ? html`<p class="ok" data-testid="vote-recorded">
                        ${msg(str`Bạn đã chọn: ${this.choiceText(v, mine.choices)}. Có thể đổi đến khi kết thúc.`, { id: 'votes.namedRecorded' })}
                      </p>`
                    : nothing}
                <div class="choices" role="group" aria-label=${msg('Lựa chọn', { id: 'votes.choices' })}>
                  ${v.options.map(
                    (o) => html`<button
                      class="choice"
                      data-testid="vote-choice-${o.index}"
                      aria-pressed=${this.selected.includes(o.index) ? 'true' : 'false'}
                      ?disabled=${this.busy}
                      @click=${() => this.pick(v, o.index)}
                    >
                      ${optionLabel(v, o.index)}
                    </button>`,
                  )}
                  <button class="choice" data-testid="vote-choice-abstain" ?disabled=${this.busy} @click=${() => this.abstain()}>${abstainLabel()}</button>
                </div>
                ${multi
                  ? html`<button class="primary" ?disabled=${!this.selected.length} @click=${() => (this.confirming = true)}>
                      ${msg('Tiếp tục', { id: 'votes.next' })}
                    </button>`
                  : nothing}`}
    </section>`;
  }

  private renderConfirm(v: VoteView) {
    return html`<div class="confirm" role="dialog" aria-label=${msg('Xác nhận phiếu', { id: 'votes.confirmTitle' })}>
      <p>${msg(str`Bạn chọn: ${this.choiceText(v, this.selected)}`, { id: 'votes.youChose' })}</p>
      ${v.secret ? html`<p class="meta">${msg('Phiếu kín không thể thay đổi sau khi gửi.', { id: 'votes.secretFinal' })}</p>` : nothing}
      <div class="row">
        <button class="primary" data-testid="vote-confirm" ?disabled=${this.busy} @click=${() => this.cast(v)}>${msg('Xác nhận', { id: 'votes.confirm' })}</button>
        <button ?disabled=${this.busy} @click=${() => this.reset()}>${msg('Chọn lại', { id: 'votes.back' })}</button>
      </div>
    </div>`;
  }

  private renderCheck(v: VoteView) {
    const stored = storedReceipt(v.id);
    if (!stored) return nothing;
    return html`<section class="card">
      <div class="row">
        <button data-testid="vote-check" @click=${() => this.verify(v, stored.receipt)}>${msg('Kiểm tra phiếu của tôi', { id: 'votes.check' })}</button>
        ${this.check ? html`<span data-testid="vote-check-result">${this.check}</span>` : nothing}
      </div>
    </section>`;
  }

  private choiceText(v: VoteView, choices: number[]) {
    return choices.length ? choices.map((c) => optionLabel(v, c)).join(', ') : abstainLabel();
  }

  private pickFor(value: string) {
    this.forUser = value ? Number(value) : null;
    this.reset();
  }

  private pick(v: VoteView, i: number) {
    this.error = null;
    if (v.kind === 'multiple' || v.kind === 'election') {
      if (this.selected.includes(i)) this.selected = this.selected.filter((x) => x !== i);
      else if (this.selected.length < v.maxChoices) this.selected = [...this.selected, i];
      return;
    }
    this.selected = [i];
    this.confirming = true;
  }

  private abstain() {
    this.error = null;
    this.selected = [];
    this.confirming = true;
  }

  private reset() {
    this.selected = [];
    this.confirming = false;
    this.error = null;
  }

  private async cast(v: VoteView) {
    const s = this.session!;
    this.busy = true;
    this.error = null;
    const key = this.forUser != null ? `${v.id}:${this.forUser}` : v.id;
    let payload: { voteId: number; choices: number[]; commandId: string; receipt?: string; onBehalfOf?: number } = { voteId: v.id, choices: this.selected, commandId: newCommandId() };
    if (this.forUser != null) payload.onBehalfOf = this.forUser;
    if (v.secret) {
      // Stored before sending: if the answer is lost, the retry uses the same receipt and command id.
      const prev = storedReceipt(key);
      const r = prev ?? { receipt: newReceipt(), commandId: payload.commandId, choices: this.selected };
      if (!prev) storeReceipt(key, r);
      payload = { ...payload, receipt: r.receipt, commandId: r.commandId, choices: r.choices };
    }
    try {
      await s.client.command('vote:cast', payload);
      this.confirming = false;
      this.selected = [];
      await s.refreshMine(v.id);
    } catch (e) {
      this.error = e instanceof CommandError ? e.code : 'internal';
      this.errorVoteId = v.id;
      if (this.error === 'already_voted') await s.refreshMine(v.id);
    } finally {
      this.busy = false;
    }
  }

  private async verify(v: VoteView, receipt: string) {
    try {
      const r = await this.session!.api.get<{ ballots: { key: string; choices: number[] }[] }>(`/api/votes/${v.id}/receipts`);
      const k = await receiptKey(v.id, receipt);
      const found = r.ballots.find((b) => b.key === k);
      this.check = found
        ? msg(str`Phiếu của bạn đã được tính: ${this.choiceText(v, found.choices)}`, { id: 'votes.checkOk' })
        : msg('Không tìm thấy phiếu ứng với mã biên nhận này.', { id: 'votes.checkMissing' });
    } catch {
      this.check = msg('Chưa kiểm tra được, vui lòng thử lại.', { id: 'votes.checkFailed' });
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-vote-panel': EcVotePanel;
  }
}
