import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { Api } from '../services/api.js';
import { apiContext } from '../services/context.js';
import { sharedRealtime } from '../services/socket.js';
import { VotesSession } from '../services/votes.js';
import './ec-vote-result.js';
import { kindLabel, voteCountdown, voteStyles, rollText } from './votes-shared.js';

/**
 * The room display's vote area, readable across the room: while a vote is open, its title and the
 * live count ("17/22 have voted"); once closed, the result with every count, the rule and the
 * explanation. Shows nothing when the meeting has no vote yet.
 */
@localized()
@customElement('ec-vote-board')
export class EcVoteBoard extends LitElement {
  static override styles = [
    voteStyles,
    css`
      :host {
        display: block;
      }
      .open h2 {
        font-size: 2rem;
      }
      .big {
        font-size: 3rem;
        font-weight: 800;
        font-variant-numeric: tabular-nums;
        margin: 0.5rem 0;
      }
      .big .countdown {
        font-size: inherit;
      }
      .bar {
        height: 18px;
        border-radius: 9px;
      }
    `,
  ];

  @property({ type: Number, attribute: 'meeting-id' }) meetingId: number | null = null;
  @consume({ context: apiContext }) private api!: Api;
  @state() private session: VotesSession | null = null;
  #onChange = () => this.requestUpdate();

  override willUpdate(changed: Map<string, unknown>) {
    if (changed.has('meetingId') && this.meetingId) this.#open();
  }

  override connectedCallback() {
    super.connectedCallback();
    if (this.meetingId && !this.session) this.#open();
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.session?.removeEventListener('change', this.#onChange);
    this.session?.close();
    this.session = null;
  }

  #open() {
    this.session?.removeEventListener('change', this.#onChange);
    this.session?.close();
    this.session = new VotesSession(this.api, sharedRealtime(), this.meetingId!);
    this.session.addEventListener('change', this.#onChange);
  }

  override render() {
    const v = this.session?.current;
    if (!v) return nothing;
    if (v.state !== 'open') return html`<ec-vote-result large .vote=${v}></ec-vote-result>`;
    const p = this.session!.progress.get(v.id) ?? { voted: v.voted, eligible: v.eligible, members: v.members };
    return html`<section class="card open" data-testid="vote-board">
      <h2>${v.title}</h2>
      <div class="meta">${kindLabel(v.kind)} · ${v.secret ? msg('Bỏ phiếu kín', { id: 'votes.secret' }) : msg('Biểu quyết công khai', { id: 'votes.named' })}</div>
      <div class="big" data-testid="board-progress">${rollText(p)}</div>
      <div class="big">${voteCountdown(v, () => this.session!.client.now())}</div>
      <div class="bar"><span style="width:${p.eligible ? (100 * p.voted) / p.eligible : 0}%"></span></div>
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-vote-board': EcVoteBoard;
  }
}
