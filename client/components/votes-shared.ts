import { type RollCounts, rollSentence } from '../../shared/rules/roll.js';
import { msg } from '@lit/localize';
import { getLocale } from '../i18n/locale.js';
import { consume } from '@lit/context';
import { LitElement, css, html, nothing } from 'lit';
import './ec-live-timer.js';
import { property } from 'lit/decorators.js';
import type { Api } from '../services/api.js';
import { apiContext } from '../services/context.js';
import { sharedRealtime } from '../services/socket.js';
import { VotesSession } from '../services/votes.js';
import type { TallyResultView, VoteView } from '../../shared/protocol/votes.js';

/** Labels shared by the vote components (member panel, chair console, result, room display). */

export function optionLabel(v: Pick<VoteView, 'kind' | 'options'>, index: number): string {
  if (v.kind === 'motion') return index === 0 ? msg('Tán thành', { id: 'votes.for' }) : msg('Không tán thành', { id: 'votes.against' });
  return v.options[index]?.label ?? '';
}

export const abstainLabel = () => msg('Không biểu quyết', { id: 'votes.abstain' });

export function kindLabel(k: VoteView['kind']): string {
  switch (k) {
    case 'motion':
      return msg('Biểu quyết thông qua', { id: 'votes.kind.motion' });
    case 'single':
      return msg('Chọn một phương án', { id: 'votes.kind.single' });
    case 'multiple':
      return msg('Chọn nhiều phương án', { id: 'votes.kind.multiple' });
    case 'election':
      return msg('Bầu cử', { id: 'votes.kind.election' });
  }
}

export function majorityLabel(m: VoteView['majority']): string {
  switch (m) {
    case 'simple':
      return msg('Quá nửa số phiếu biểu quyết', { id: 'votes.maj.simple' });
    case 'absolute_present':
      return msg('Quá nửa số thành viên có mặt', { id: 'votes.maj.present' });
    case 'absolute_members':
      return msg('Quá nửa tổng số thành viên', { id: 'votes.maj.members' });
    case 'two_thirds':
      return msg('Hai phần ba số phiếu biểu quyết', { id: 'votes.maj.twoThirds' });
    case 'unanimity':
      return msg('Nhất trí toàn bộ', { id: 'votes.maj.unanimity' });
  }
}

export function outcomeLabel(o: TallyResultView['outcome']): string {
  switch (o) {
    case 'adopted':
      return msg('Thông qua', { id: 'votes.out.adopted' });
    case 'rejected':
      return msg('Không thông qua', { id: 'votes.out.rejected' });
    case 'no_quorum':
      return msg('Không hợp lệ', { id: 'votes.out.noQuorum' });
    case 'tie':
      return msg('Hòa — chờ chủ tọa quyết định', { id: 'votes.out.tie' });
  }
}

/** The server's one-sentence explanation in the interface language. */
/** The one participation sentence of a vote (shared/rules/roll.ts), the same on every screen and document. */
export const rollText = (c: RollCounts) => rollSentence(c, getLocale() === 'en' ? 'en' : 'vi');
export const explanation = (r: TallyResultView) => (getLocale() === 'en' ? r.explanation.en : r.explanation.vi);
export const ruleText = (r: TallyResultView) => (getLocale() === 'en' ? r.rule.en : r.rule.vi);

/**
 * The countdown of a timed vote, the same second on every screen: computed from the server's `closesAt`
 * and the socket's server clock (`client.now()`), drawn by the speakers' `<ec-live-timer>`. Nothing for
 * a vote the chair closes by hand.
 */
export function voteCountdown(v: Pick<VoteView, 'state' | 'closesAt'>, now: () => number) {
  if (v.state !== 'open' || !v.closesAt) return nothing;
  return html`<span class="countdown" data-testid="vote-countdown" data-closes-at=${v.closesAt}
    >${msg('Còn lại', { id: 'votes.countdown' })} <ec-live-timer .startedAt=${Date.parse(v.closesAt)} .allottedSeconds=${0} .now=${now}></ec-live-timer
  ></span>`;
}

export const voteStyles = css`
  .card {
    /* Explicit text colour: the room display sets light text on a dark page. */
    color: var(--ec-text, #14213d);
    background: var(--ec-surface, #fff);
    border: 1px solid var(--ec-border, #d0d7e2);
    border-radius: var(--ec-radius, 10px);
    padding: 1rem;
  }
  h2 {
    font-size: 1.15rem;
    margin: 0 0 0.5rem;
    color: var(--ec-primary-strong, #123a6b);
  }
  .meta {
    color: var(--ec-muted, #5b6573);
    font-size: 0.95rem;
  }
  button {
    min-height: 44px;
    min-width: 44px;
    font: inherit;
    border-radius: 8px;
    border: 1px solid var(--ec-border, #b8c2d0);
    background: var(--ec-surface, #fff);
    padding: 0.5rem 1rem;
    cursor: pointer;
  }
  button.primary {
    background: var(--ec-primary, #1f5fa8);
    border-color: var(--ec-primary, #1f5fa8);
    color: #fff;
    font-weight: 600;
  }
  button:disabled {
    opacity: 0.55;
    cursor: default;
  }
  .error {
    color: var(--ec-danger, #a8201a);
    font-weight: 600;
    margin: 0.5rem 0;
  }
  .ok {
    color: var(--ec-success, #1d6b35);
    font-weight: 600;
  }
  .progress {
    font-size: 1.05rem;
    font-weight: 600;
  }
  .countdown {
    font-size: 1.1rem;
    font-weight: 600;
    margin-left: 0.75rem;
    white-space: nowrap;
  }
  .bar {
    height: 10px;
    background: var(--ec-border, #e3e8ef);
    border-radius: 5px;
    overflow: hidden;
  }
  .bar > span {
    display: block;
    height: 100%;
    background: var(--ec-primary, #1f5fa8);
  }
`;

/**
 * Base of the vote components that follow a meeting's votes (member panel, chair console): either
 * the host view passes a shared `session`, or the element gets `meeting-id` and keeps its own
 * session, closed when it leaves the page and rebuilt when it comes back. Re-renders on changes.
 */
export class VotesSessionElement extends LitElement {
  @property({ attribute: false }) session: VotesSession | null = null;
  @property({ type: Number, attribute: 'meeting-id' }) meetingId: number | null = null;
  @consume({ context: apiContext }) protected api!: Api;
  #own = false;
  #off: (() => void) | null = null;

  override willUpdate(changed: Map<string, unknown>) {
    if (changed.has('meetingId') && this.meetingId && (!this.session || this.#own)) {
      if (this.#own) this.session?.close();
      this.session = new VotesSession(this.api, sharedRealtime(), this.meetingId);
      this.#own = true;
    }
  }

  override updated(changed: Map<string, unknown>) {
    if (changed.has('session')) {
      this.#off?.();
      const s = this.session;
      if (s) {
        const fn = () => this.requestUpdate();
        s.addEventListener('change', fn);
        // Online/offline of the connection: a ballot waiting for the network says so.
        s.client.addEventListener('state', fn);
        this.#off = () => {
          s.removeEventListener('change', fn);
          s.client.removeEventListener('state', fn);
        };
      }
    }
  }

  override connectedCallback() {
    super.connectedCallback();
    // Re-attached after a disconnect: rebuild the own session that disconnectedCallback closed.
    if (this.#own && !this.session && this.meetingId) this.requestUpdate('meetingId', null);
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.#off?.();
    this.#off = null;
    if (this.#own) {
      this.session?.close();
      this.session = null;
    }
  }
}
