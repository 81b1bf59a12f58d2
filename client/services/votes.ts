import type { Delegation, MyVote, VoteView } from '../../shared/protocol/votes.js';
import type { Api } from './api.js';
import type { RealtimeClient } from './socket.js';

/** Progress of an open vote as last pushed (coalesced by the server). */
export interface VoteProgress {
  voted: number;
  eligible: number;
  members: number;
  notVoted?: { userId: number; fullName: string }[];
}

/**
 * The votes of one meeting on this tablet: loaded over REST, kept current by the meeting room's
 * `vote:changed` / `vote:progress` / `vote:closed` pushes, reloaded after every reconnect (a push
 * missed while offline is then covered). Components read `votes`, `progress`, `mine`, `delegations`
 * and listen to `change`; they send commands through `command()` of the shared RealtimeClient.
 */
export class VotesSession extends EventTarget {
  votes: VoteView[] = [];
  progress = new Map<number, VoteProgress>();
  mine = new Map<number, MyVote>();
  /** Vote delegations of the meeting the caller may see (chair: all; others: those they give or hold). */
  delegations: Delegation[] = [];
  /** The committee lets a member who delegated still vote in person. */
  delegatorMayVote = false;
  loaded = false;
  error: string | null = null;
  #offs: (() => void)[] = [];

  constructor(
    readonly api: Api,
    readonly client: RealtimeClient,
    readonly meetingId: number,
  ) {
    super();
    const upsert = (v: VoteView) => {
      if (v.meetingId !== meetingId) return;
      const i = this.votes.findIndex((x) => x.id === v.id);
      if (i >= 0) this.votes[i] = v;
      else this.votes.push(v);
      this.votes = [...this.votes];
      if (v.state === 'open') void this.refreshMine(v.id);
      this.#changed();
    };
    this.#offs.push(
      client.on('vote:changed', (p) => upsert(p.data.vote)),
      client.on('vote:closed', (p) => upsert(p.data.vote)),
      client.on('vote:progress', (p) => {
        if (p.meetingId !== null && p.meetingId !== meetingId) return;
        if (!this.votes.some((v) => v.id === p.data.voteId)) return;
        const prev = this.progress.get(p.data.voteId);
        // The chair's private push carries `notVoted`; keep it until the next one.
        this.progress.set(p.data.voteId, { ...p.data, notVoted: p.data.notVoted ?? prev?.notVoted });
        this.#changed();
      }),
      // A private push to the chair and the people concerned: re-read the list (a revoke carries no
      // delegation) and the proxies of open votes.
      client.on('vote:delegated', (p) => {
        if (p.data.meetingId !== meetingId) return;
        void this.reloadDelegations().then(() => Promise.all(this.votes.filter((v) => v.state === 'open').map((v) => this.refreshMine(v.id))));
      }),
    );
    const onState = () => {
      if (client.state === 'online') void this.reload();
      this.#changed();
    };
    client.addEventListener('state', onState);
    this.#offs.push(() => client.removeEventListener('state', onState));
    void this.reload();
  }

  /** The vote currently open (the newest), else the newest closed one. */
  get current(): VoteView | undefined {
    const open = this.votes.filter((v) => v.state === 'open');
    if (open.length) return open[open.length - 1];
    return [...this.votes].reverse().find((v) => v.state === 'closed' || v.state === 'announced');
  }

  async reload(): Promise<void> {
    try {
      const r = await this.api.get<{ votes: VoteView[] }>(`/api/meetings/${this.meetingId}/votes`);
      this.votes = r.votes;
      this.loaded = true;
      this.error = null;
      for (const v of r.votes) if (v.state === 'open') await this.refreshMine(v.id);
      await this.reloadDelegations();
    } catch (e) {
      this.error = (e as { code?: string }).code ?? 'network';
    }
    this.#changed();
  }

  async reloadDelegations(): Promise<void> {
    try {
      const r = await this.api.get<{ delegations: Delegation[]; delegatorMayVote: boolean }>(`/api/meetings/${this.meetingId}/delegations`);
      this.delegations = r.delegations;
      this.delegatorMayVote = r.delegatorMayVote;
      this.#changed();
    } catch {
      /* offline: the next reload fills it in */
    }
  }

  /** Delegates the caller's vote in this meeting to `toUserId` (null: takes it back). Rejects with CommandError. */
  async delegate(toUserId: number | null): Promise<void> {
    await this.client.command('vote:delegate', { meetingId: this.meetingId, toUserId });
    await this.reloadDelegations();
    await Promise.all(this.votes.filter((v) => v.state === 'open').map((v) => this.refreshMine(v.id)));
  }

  async refreshMine(voteId: number): Promise<void> {
    try {
      this.mine.set(voteId, await this.client.command('vote:mine', { voteId }));
      this.#changed();
    } catch {
      /* offline: the next reload fills it in */
    }
  }

  close(): void {
    for (const off of this.#offs) off();
  }

  #changed(): void {
    this.dispatchEvent(new Event('change'));
  }
}

/** A fresh secret-ballot receipt: 16 random bytes, base64url (kept on this device only). */
export function newReceipt(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return btoa(String.fromCharCode(...b))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

const RECEIPTS = 'ec-vote-receipts';

/** The receipt this device used for a secret vote (stored before sending, so a retry reuses it). */
export function storedReceipt(voteId: number | string): { receipt: string; commandId: string; choices: number[] } | null {
  try {
    return (JSON.parse(localStorage.getItem(RECEIPTS) ?? '{}') as Record<string, { receipt: string; commandId: string; choices: number[] }>)[voteId] ?? null;
  } catch {
    return null;
  }
}

export function storeReceipt(voteId: number | string, r: { receipt: string; commandId: string; choices: number[] }): void {
  try {
    const all = JSON.parse(localStorage.getItem(RECEIPTS) ?? '{}') as Record<string, unknown>;
    all[voteId] = r;
    localStorage.setItem(RECEIPTS, JSON.stringify(all));
  } catch {
    /* private mode: the receipt is still shown on screen */
  }
}

/** SHA-256(voteId:receipt) in hex: the key under which the server published the ballot. */
export async function receiptKey(voteId: number, receipt: string): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${voteId}:${receipt}`));
  return [...new Uint8Array(d)].map((x) => x.toString(16).padStart(2, '0')).join('');
}
