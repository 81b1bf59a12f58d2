import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { Locale } from '../../shared/protocol/auth.js';
import type { CreateVoteBody, VoteView } from '../../shared/protocol/votes.js';
import { localeContext } from '../services/context.js';
import { errorText } from '../services/errors.js';
import { formatTime } from '../services/format.js';
import { CommandError } from '../services/socket.js';
import './ec-vote-panel.js';
import './ec-vote-result.js';
import { VotesSessionElement, kindLabel, majorityLabel, optionLabel, voteCountdown, voteStyles, rollText } from './votes-shared.js';

/**
 * The chair's vote console: prepare a vote (kind, secret or named, options, majority, abstentions,
 * tie rule, quorum, duration), open it, follow the coalesced progress (and, for named votes, who has
 * not voted yet), extend, close, announce — with the casting vote when the result is tied. Lists the
 * meeting's vote delegations (who → whom, since when), kept current by `vote:delegated`.
 */
@localized()
@customElement('ec-vote-console')
export class EcVoteConsole extends VotesSessionElement {
  static override styles = [
    voteStyles,
    css`
      :host {
        display: block;
      }
      form {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(min(14rem, 100%), 1fr));
        gap: 0.6rem 1rem;
        align-items: end;
      }
      label {
        display: grid;
        gap: 0.25rem;
        font-weight: 600;
        min-width: 0;
      }
      /* Long option texts ("More than half of the votes cast") must not push the form wider than the screen. */
      form select,
      form input:not([type='checkbox']),
      form textarea {
        width: 100%;
        min-width: 0;
        box-sizing: border-box;
      }
      label.reason {
        flex: 1 1 18rem;
      }
      label.check {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        min-height: 44px;
      }
      input,
      select,
      textarea {
        font: inherit;
        min-height: 44px;
        padding: 0.3rem 0.5rem;
        border: 1px solid var(--ec-border, #b8c2d0);
        border-radius: 6px;
      }
      input[type='checkbox'] {
        width: 24px;
        height: 24px;
        min-height: 24px;
      }
      .wide {
        grid-column: 1 / -1;
      }
      .vote {
        border-top: 1px solid var(--ec-border, #d0d7e2);
        padding: 0.75rem 0;
      }
      .row {
        display: flex;
        gap: 0.5rem;
        flex-wrap: wrap;
        align-items: center;
        margin: 0.4rem 0;
      }
      .state {
        font-weight: 700;
      }
      .own h3 {
        font-size: 1rem;
        margin: 0.5rem 0 0.35rem;
      }
      ul.bloc {
        margin: 0.25rem 0;
      }
      fieldset.bloc-pick {
        border: 1px solid var(--ec-border, #d0d7e2);
        border-radius: 8px;
      }
      button.danger {
        color: var(--ec-danger, #a8201a);
      }
      ul.not-voted {
        columns: 2;
        margin: 0.25rem 0;
      }
      .delegations {
        border-top: 1px solid var(--ec-border, #d0d7e2);
        padding: 0.75rem 0;
      }
      .delegations h3 {
        font-size: 1rem;
        margin: 0 0 0.35rem;
      }
      .delegations ul {
        list-style: none;
        padding: 0;
        margin: 0;
        display: grid;
        gap: 0.3rem;
      }
      .delegations li {
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem 0.6rem;
        align-items: baseline;
      }
    `,
  ];

  @property({ type: Number }) agendaItemId: number | null = null;
  /** The meeting's live quorum (from the chair console's attendance): a vote opens without it only with a reason. */
  @property({ attribute: false }) quorum: { met: boolean; present: number; required: number } | null = null;
  private readonly reasons = new Map<number, string>();
  @consume({ context: localeContext, subscribe: true }) private locale: Locale = 'vi';
  @state() private kind: CreateVoteBody['kind'] = 'motion';
  @state() private busy = false;
  @state() private error: string | null = null;
  @state() private casting = new Map<number, number[]>();
  /** The vote whose annulment is being confirmed, and its reason. */
  @state() private annulling: number | null = null;
  @state() private annulReason = '';
  /** The meeting's agenda items (from the chair console): a motion may adopt several of them together (bloc). */
  @property({ attribute: false }) agendaItems: { id: number; number: string; title: string }[] = [];

  override render() {
    const s = this.session;
    if (!s) return nothing;
    return html`<section class="card" data-testid="vote-console">
      <h2>${msg('Biểu quyết', { id: 'votes.console.title' })}</h2>
      ${this.error ? html`<p class="error" role="alert">${errorText(this.error, 'vote')}</p>` : nothing}
      ${s.current?.state === 'open'
        ? html`<div class="own" data-testid="chair-ballot">
            <h3>${msg('Phiếu của chủ tọa', { id: 'votes.console.ownBallot' })}</h3>
            <ec-vote-panel .session=${s}></ec-vote-panel>
          </div>`
        : nothing}
      ${[...s.votes].reverse().map((v) => this.renderVote(v))}
      ${this.renderDelegations()}
      <details ?open=${!s.votes.length}>
        <summary class="row"><strong>${msg('Chuẩn bị biểu quyết mới', { id: 'votes.console.new' })}</strong></summary>
        ${this.renderForm()}
      </details>
    </section>`;
  }

  private renderVote(v: VoteView) {
    const s = this.session!;
    const p = s.progress.get(v.id) ?? { voted: v.voted, eligible: v.eligible, members: v.members };
    const stateText = { draft: msg('Chưa mở', { id: 'votes.state.draft' }), open: msg('Đang biểu quyết', { id: 'votes.state.open' }), closed: msg('Đã kết thúc', { id: 'votes.state.closed' }), announced: msg('Đã công bố', { id: 'votes.state.announced' }), annulled: msg('Đã hủy kết quả', { id: 'votes.state.annulled' }) }[v.state];
    return html`<div class="vote" data-testid="console-vote" data-vote-id=${v.id} data-state=${v.state}>
      <div class="row">
        <strong>${v.title}</strong>
        <span class="meta">${kindLabel(v.kind)} · ${v.secret ? msg('Bỏ phiếu kín', { id: 'votes.secret' }) : msg('Biểu quyết công khai', { id: 'votes.named' })} · ${majorityLabel(v.majority)}</span>
        <span class="state">${stateText}</span>
      </div>
      ${v.state === 'draft' ? this.renderOpen(v) : nothing}
      ${v.state === 'open'
        ? html`<p class="progress"><span data-testid="console-progress">${rollText(p)}</span> ${voteCountdown(v, () => s.client.now())}</p>
            <div class="bar"><span style="width:${p.eligible ? (100 * p.voted) / p.eligible : 0}%"></span></div>
            ${p.notVoted?.length
              ? html`<p class="meta">${msg('Chưa biểu quyết:', { id: 'votes.notVoted' })}</p>
                  <ul class="not-voted">${p.notVoted.map((x) => html`<li>${x.fullName}</li>`)}</ul>`
              : nothing}
            <div class="row">
              <button data-testid="vote-extend" ?disabled=${this.busy} @click=${() => this.run('vote:extend', { voteId: v.id, seconds: 60 })}>${msg('Thêm 1 phút', { id: 'votes.extend' })}</button>
              <button data-testid="vote-extend-5" ?disabled=${this.busy} @click=${() => this.run('vote:extend', { voteId: v.id, seconds: 300 })}>${msg('Thêm 5 phút', { id: 'votes.extend5' })}</button>
              <button class="primary" data-testid="vote-close" ?disabled=${this.busy} @click=${() => this.run('vote:close', { voteId: v.id })}>${msg('Kết thúc biểu quyết', { id: 'votes.close' })}</button>
            </div>`
        : nothing}
      ${v.rerunOf != null ? html`<p class="meta">${msg('Biểu quyết lại (thay cho lần đã hủy)', { id: 'votes.rerunOf' })}</p>` : nothing}
      ${v.bloc ? this.renderBloc(v) : nothing}
      ${v.state === 'closed' || v.state === 'announced' ? html`<ec-vote-result .vote=${v}></ec-vote-result>` : nothing}
      ${v.state === 'closed' ? this.renderAnnounce(v) : nothing}
      ${v.state === 'open' || v.state === 'closed' || v.state === 'announced' ? this.renderAnnul(v) : nothing}
      ${v.state === 'annulled'
        ? html`<p class="error" data-testid="vote-annulled">${msg(str`Đã hủy kết quả. Lý do: ${v.annulReason ?? ''}`, { id: 'votes.annulled' })}</p>
            ${v.rerunBy == null
              ? html`<div class="row">
                  <button class="primary" data-testid="vote-rerun" ?disabled=${this.busy} @click=${() => this.run('vote:rerun', { voteId: v.id })}>
                    ${msg('Biểu quyết lại', { id: 'votes.rerun' })}
                  </button>
                </div>`
              : nothing}`
        : nothing}
    </div>`;
  }

  /** A consent (bloc) vote: the items adopted together, and those a member pulled out (and who). */
  private renderBloc(v: VoteView) {
    return html`<ul class="bloc" data-testid="console-bloc">
      ${v.bloc!.map(
        (b) => html`<li data-testid="bloc-item" data-item-id=${b.agendaItemId} data-pulled=${b.pulledBy != null ? 'true' : 'false'}>
          ${b.pulledBy != null
            ? html`<s>${b.title}</s> <span class="meta">${msg(str`tách ra thảo luận riêng — ${b.pulledByName ?? ''}`, { id: 'votes.bloc.pulledBy' })}</span>`
            : b.title}
        </li>`,
      )}
    </ul>`;
  }

  /** Annulling a vote: the reason first, then the confirmation; the re-run is offered afterwards. */
  private renderAnnul(v: VoteView) {
    if (this.annulling !== v.id)
      return html`<div class="row">
        <button class="danger" data-testid="vote-annul" ?disabled=${this.busy} @click=${() => (this.annulling = v.id)}>${msg('Hủy kết quả…', { id: 'votes.annul' })}</button>
      </div>`;
    const reason = this.annulReason.trim();
    return html`<div class="row">
      <label class="reason"
        >${msg('Lý do hủy kết quả biểu quyết', { id: 'votes.annulReason' })}
        <input data-testid="vote-annul-reason" maxlength="1000" .value=${this.annulReason} @input=${(e: Event) => (this.annulReason = (e.target as HTMLInputElement).value)}
      /></label>
      <button
        class="danger"
        data-testid="vote-annul-confirm"
        ?disabled=${this.busy || !reason}
        @click=${async () => {
          if (await this.run('vote:annul', { voteId: v.id, reason })) {
            this.annulling = null;
            this.annulReason = '';
          }
        }}
      >
        ${msg('Xác nhận hủy', { id: 'votes.annulConfirm' })}
      </button>
      <button ?disabled=${this.busy} @click=${() => (this.annulling = null)}>${msg('Không hủy', { id: 'votes.annulCancel' })}</button>
    </div>`;
  }

  /**
   * Opening a prepared vote. Without the meeting's quorum the chair must give a reason first (the server
   * refuses `no_quorum` otherwise); it is recorded with the vote and printed in the minutes.
   */
  private renderOpen(v: VoteView) {
    const q = this.quorum;
    const noQuorum = !!q && !q.met;
    const reason = (this.reasons.get(v.id) ?? '').trim();
    return html`<div class="row">
      ${noQuorum
        ? html`<label class="reason"
            >${msg(str`Chưa đủ túc số (${q.present}/${q.required} cần có mặt). Lý do vẫn mở biểu quyết:`, { id: 'votes.openNoQuorum' })}
            <input
              data-testid="vote-override-reason"
              maxlength="1000"
              .value=${this.reasons.get(v.id) ?? ''}
              @input=${(e: Event) => {
                this.reasons.set(v.id, (e.target as HTMLInputElement).value);
                this.requestUpdate();
              }}
          /></label>`
        : nothing}
      <button
        class="primary"
        data-testid="vote-open"
        ?disabled=${this.busy || (noQuorum && !reason)}
        @click=${() => this.run('vote:open', { voteId: v.id, ...(noQuorum && reason ? { overrideReason: reason } : {}) })}
      >
        ${msg('Mở biểu quyết', { id: 'votes.open' })}
      </button>
    </div>`;
  }

  private renderDelegations() {
    const s = this.session!;
    if (!s.loaded) return nothing;
    const list = [...s.delegations].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    return html`<div class="delegations" data-testid="console-delegations">
      <h3>${msg(str`Ủy quyền biểu quyết (${list.length})`, { id: 'votes.console.delegations' })}</h3>
      ${list.length
        ? html`<ul>
            ${list.map(
              (d) => html`<li data-testid="console-delegation" data-from=${d.fromUserId} data-to=${d.toUserId}>
                <span><strong>${d.fromName}</strong> → <strong>${d.toName}</strong></span>
                <span class="meta">${msg(str`từ ${formatTime(d.createdAt, this.locale)}`, { id: 'votes.console.delegationSince' })}</span>
              </li>`,
            )}
          </ul>
          <p class="meta">
            ${s.delegatorMayVote
              ? msg('Người ủy quyền vẫn có thể tự biểu quyết (theo quy định của ban).', { id: 'votes.console.delegatorMayVote' })
              : msg('Người đã ủy quyền không tự biểu quyết.', { id: 'votes.console.delegatorMayNotVote' })}
          </p>`
        : html`<p class="meta">${msg('Chưa có ai ủy quyền biểu quyết.', { id: 'votes.console.noDelegations' })}</p>`}
    </div>`;
  }

  private renderAnnounce(v: VoteView) {
    const tied = v.result?.outcome === 'tie' ? v.result.tied : [];
    const seats = v.kind === 'election' ? v.seats - (v.result?.winners.length ?? 0) : 1;
    const pick = this.casting.get(v.id) ?? [];
    return html`<div class="row">
      ${tied.length
        ? html`<span>${msg('Quyết định của chủ tọa:', { id: 'votes.castingVote' })}</span>
            ${tied.map(
              (i) =>
                html`<button
                  aria-pressed=${pick.includes(i) ? 'true' : 'false'}
                  @click=${() => this.casting.set(v.id, pick.includes(i) ? pick.filter((x) => x !== i) : [...pick, i].slice(-seats)) && this.requestUpdate()}
                >
                  ${optionLabel(v, i)}
                </button>`,
            )}`
        : nothing}
      <button class="primary" data-testid="vote-announce" ?disabled=${this.busy || (tied.length > 0 && pick.length !== seats)} @click=${() => this.run('vote:announce', { voteId: v.id, ...(tied.length ? { castingVote: pick } : {}) })}>
        ${msg('Công bố kết quả', { id: 'votes.announce' })}
      </button>
      <a href="/api/votes/${v.id}/export.csv" download>${msg('Tải CSV', { id: 'votes.csv' })}</a>
      <a href="/api/votes/${v.id}/export.pdf" download data-testid="vote-pdf">${msg('Tải PDF', { id: 'votes.pdf' })}</a>
    </div>`;
  }

  private renderForm() {
    const k = this.kind;
    return html`<form @submit=${(e: Event) => this.create(e)}>
      <label class="wide">${msg('Nội dung biểu quyết', { id: 'votes.form.title' })}<input name="title" required maxlength="300" /></label>
      <label
        >${msg('Hình thức', { id: 'votes.form.kind' })}
        <select name="kind" @change=${(e: Event) => (this.kind = (e.target as HTMLSelectElement).value as CreateVoteBody['kind'])}>
          ${(['motion', 'single', 'multiple', 'election'] as const).map((x) => html`<option value=${x} ?selected=${x === k}>${kindLabel(x)}</option>`)}
        </select></label
      >
      <label class="check"><input type="checkbox" name="secret" /> ${msg('Bỏ phiếu kín', { id: 'votes.secret' })}</label>
      ${k !== 'motion'
        ? html`<label class="wide"
            >${k === 'election' ? msg('Ứng viên (mỗi dòng một người)', { id: 'votes.form.candidates' }) : msg('Phương án (mỗi dòng một phương án)', { id: 'votes.form.options' })}
            <textarea name="options" rows="3" required></textarea
          ></label>`
        : nothing}
      ${k === 'election' ? html`<label>${msg('Số người cần bầu', { id: 'votes.form.seats' })}<input name="seats" type="number" min="1" value="1" required /></label>` : nothing}
      ${k === 'multiple' ? html`<label>${msg('Số lựa chọn tối đa', { id: 'votes.form.maxChoices' })}<input name="maxChoices" type="number" min="1" value="2" /></label>` : nothing}
      <label
        >${msg('Tỷ lệ thông qua', { id: 'votes.form.majority' })}
        <select name="majority">
          ${(['absolute_members', 'simple', 'absolute_present', 'two_thirds', 'unanimity'] as const).map((x) => html`<option value=${x}>${majorityLabel(x)}</option>`)}
        </select></label
      >
      <label
        >${msg('Phiếu không biểu quyết', { id: 'votes.form.abstentions' })}
        <select name="abstentions">
          <option value="excluded">${msg('Không tính vào số phiếu', { id: 'votes.form.abstExcluded' })}</option>
          <option value="included">${msg('Tính vào số phiếu', { id: 'votes.form.abstIncluded' })}</option>
        </select></label
      >
      <label
        >${msg('Khi hòa', { id: 'votes.form.tie' })}
        <select name="tieBreak">
          <option value="fails">${msg('Không thông qua', { id: 'votes.form.tieFails' })}</option>
          <option value="casting_vote">${msg('Chủ tọa quyết định', { id: 'votes.form.tieChair' })}</option>
        </select></label
      >
      <label
        >${msg('Số lượng tối thiểu', { id: 'votes.form.quorum' })}
        <select name="quorum">
          <option value="none">${msg('Không yêu cầu', { id: 'votes.form.quorumNone' })}</option>
          <option value="majority">${msg('Quá nửa thành viên', { id: 'votes.form.quorumMajority' })}</option>
          <option value="two_thirds">${msg('Hai phần ba thành viên', { id: 'votes.form.quorumTwoThirds' })}</option>
        </select></label
      >
      ${k === 'motion' && this.agendaItems.length >= 2
        ? html`<fieldset class="wide bloc-pick" data-testid="vote-bloc-pick">
            <legend>${msg('Biểu quyết gộp: chọn từ 2 nội dung để thông qua cùng lúc (để trống: biểu quyết thường)', { id: 'votes.form.bloc' })}</legend>
            ${this.agendaItems.map((i) => html`<label class="check"><input type="checkbox" name="bloc" value=${i.id} /> ${i.number}. ${i.title}</label>`)}
          </fieldset>`
        : nothing}
      <label>${msg('Thời gian (phút, để trống: chủ tọa kết thúc)', { id: 'votes.form.duration' })}<input name="duration" type="number" min="1" max="1440" /></label>
      <div class="row wide"><button class="primary" type="submit" data-testid="vote-create" ?disabled=${this.busy}>${msg('Tạo biểu quyết', { id: 'votes.form.create' })}</button></div>
    </form>`;
  }

  private async create(e: Event) {
    e.preventDefault();
    // Kept now: the event's target is cleared once its dispatch ends (the form is in a shadow root), so
    // after the await below `e.target` is null and the form kept the last vote's text (issue #16).
    const form = e.target as HTMLFormElement;
    const f = new FormData(form);
    const kind = this.kind;
    const options = kind === 'motion' ? [] : String(f.get('options') ?? '').split('\n').map((x) => x.trim()).filter(Boolean);
    const duration = Number(f.get('duration') || 0);
    const vote: Record<string, unknown> = {
      title: String(f.get('title') ?? '').trim(),
      kind,
      secret: f.get('secret') === 'on',
      options,
      majority: f.get('majority'),
      abstentions: f.get('abstentions'),
      tieBreak: f.get('tieBreak'),
      quorum: { kind: f.get('quorum') },
      durationSeconds: duration ? duration * 60 : null,
      agendaItemId: this.agendaItemId,
    };
    const bloc = kind === 'motion' ? f.getAll('bloc').map(Number) : [];
    if (bloc.length) {
      vote.bloc = bloc;
      vote.agendaItemId = null;
    }
    if (kind === 'election') vote.seats = Number(f.get('seats'));
    if (kind === 'multiple') vote.maxChoices = Number(f.get('maxChoices'));
    if (await this.run('vote:create', { meetingId: this.session!.meetingId, vote: vote as CreateVoteBody })) {
      form.reset();
      this.kind = 'motion';
    }
  }

  private async run(event: 'vote:create' | 'vote:open' | 'vote:extend' | 'vote:close' | 'vote:announce' | 'vote:annul' | 'vote:rerun', payload: never | Record<string, unknown>): Promise<boolean> {
    this.busy = true;
    this.error = null;
    try {
      await this.session!.client.command(event, payload as never);
      return true;
    } catch (e) {
      this.error = e instanceof CommandError ? e.code : 'internal';
      return false;
    } finally {
      this.busy = false;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-vote-console': EcVoteConsole;
  }
}
