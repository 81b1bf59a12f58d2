import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { VoteView } from '../../shared/protocol/votes.js';
import { abstainLabel, explanation, kindLabel, optionLabel, outcomeLabel, ruleText, voteStyles, rollText } from './votes-shared.js';

/**
 * The result of a closed vote: outcome, each count (with a bar), abstentions, the rule applied and the
 * server's one-sentence explanation. `large` for the room display. Same data on every screen.
 */
@localized()
@customElement('ec-vote-result')
export class EcVoteResult extends LitElement {
  static override styles = [
    voteStyles,
    css`
      :host {
        display: block;
      }
      .outcome {
        display: inline-block;
        padding: 0.3rem 0.8rem;
        border-radius: 999px;
        font-weight: 700;
        margin: 0.25rem 0 0.5rem;
      }
      .adopted {
        background: #dff3e4;
        color: #14532d;
      }
      .rejected,
      .no_quorum {
        background: #fde2e1;
        color: #7f1d1d;
      }
      .tie {
        background: #fff4d6;
        color: #7a5200;
      }
      table {
        width: 100%;
        border-collapse: collapse;
        margin: 0.5rem 0;
      }
      td {
        padding: 0.35rem 0.25rem;
        vertical-align: middle;
      }
      td.n {
        text-align: right;
        font-weight: 700;
        width: 4rem;
        font-variant-numeric: tabular-nums;
      }
      td.b {
        width: 40%;
      }
      .winner td:first-child {
        font-weight: 700;
      }
      table.roll {
        margin-top: 0.75rem;
      }
      table.roll caption {
        text-align: left;
        font-weight: 700;
        padding-bottom: 0.25rem;
      }
      table.roll th {
        text-align: left;
        border-bottom: 1px solid var(--ec-border, #d0d7e2);
        padding: 0.3rem 0.25rem;
      }
      table.roll td {
        border-bottom: 1px solid var(--ec-border, #e3e8ef);
      }
      table.roll small {
        display: block;
        color: var(--ec-muted, #5b6573);
      }
      .explain {
        font-size: 1.05rem;
        margin: 0.5rem 0 0;
      }
      :host([large]) h2 {
        font-size: 2rem;
      }
      :host([large]) td,
      :host([large]) .explain {
        font-size: 1.5rem;
      }
      :host([large]) .outcome {
        font-size: 1.8rem;
      }
    `,
  ];

  @property({ attribute: false }) vote: VoteView | null = null;
  @property({ type: Boolean, reflect: true }) large = false;

  override render() {
    const v = this.vote;
    const r = v?.result;
    if (!v || !r) return nothing;
    const max = Math.max(1, ...r.counts, r.abstentions);
    const row = (label: string, n: number, winner: boolean, testid: string) =>
      html`<tr class=${winner ? 'winner' : ''} data-testid=${testid}>
        <td>${label}</td>
        <td class="b"><div class="bar"><span style="width:${(100 * n) / max}%"></span></div></td>
        <td class="n">${n}</td>
      </tr>`;
    return html`<section class="card" data-testid="vote-result" data-outcome=${r.outcome}>
      <h2>${v.title}</h2>
      <div class="meta">${kindLabel(v.kind)} · ${v.secret ? msg('Bỏ phiếu kín', { id: 'votes.secret' }) : msg('Biểu quyết công khai', { id: 'votes.named' })}</div>
      <div class="outcome ${r.outcome}" data-testid="vote-outcome">${outcomeLabel(r.outcome)}</div>
      <table>
        ${v.options.map((o) => row(optionLabel(v, o.index), r.counts[o.index] ?? 0, r.winners.includes(o.index), `count-${o.index}`))}
        ${row(abstainLabel(), r.abstentions, false, 'count-abstain')}
      </table>
      <div class="meta">
        <span data-testid="result-roll">${rollText({ voted: r.voted + r.abstentions, eligible: r.eligible, members: r.members })}</span> · ${msg(str`Quy tắc: ${ruleText(r)}`, { id: 'votes.resultRule' })}
      </div>
      <p class="explain" data-testid="vote-explanation">${explanation(r)}</p>
      ${v.roll?.length ? this.renderRoll(v) : nothing}
      ${v.quorumOverrideReason
        ? html`<p class="meta" data-testid="vote-quorum-override">${msg(str`Mở khi chưa đủ túc số, lý do: ${v.quorumOverrideReason}`, { id: 'votes.quorumOverride' })}</p>`
        : nothing}
    </section>`;
  }

  /** A named (roll-call) vote: who voted what, one row per member, and who cast a proxied ballot. */
  private renderRoll(v: VoteView) {
    return html`<table class="roll" data-testid="vote-roll">
      <caption>
        ${msg('Danh sách biểu quyết công khai', { id: 'votes.roll.caption' })}
      </caption>
      <thead>
        <tr>
          <th scope="col">${msg('Thành viên', { id: 'votes.roll.member' })}</th>
          <th scope="col">${msg('Lựa chọn', { id: 'votes.choices' })}</th>
        </tr>
      </thead>
      <tbody>
        ${v.roll!.map(
          (b) => html`<tr data-testid="roll-row" data-user-id=${b.userId}>
            <td>${b.fullName}${b.castByName ? html`<small>${msg(str`qua ủy quyền: ${b.castByName}`, { id: 'votes.roll.byProxy' })}</small>` : nothing}</td>
            <td>${b.choices.length ? b.choices.map((c) => optionLabel(v, c)).join(', ') : abstainLabel()}</td>
          </tr>`,
        )}
      </tbody>
    </table>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-vote-result': EcVoteResult;
  }
}
