import { eq, inArray } from 'drizzle-orm';
import type { VoteView } from '../../shared/protocol/votes.js';
import type { Store } from '../db/store.js';
import { agendaItems, votes } from '../db/tables.js';
import type { OpenVote, VoteEligibility } from './votes.eligibility.js';
import { type VoteRow, namedRoll, participationCount, userNames } from './votes.repo.js';

/**
 * A vote's question and rules as set when it was prepared (title, kind, secrecy, options, choices,
 * majority, abstentions, tie-break, quorum, duration): what a re-run copies and what the view shows,
 * with the options in the caller's form.
 */
export function voteConfig<O>(row: VoteRow, options: O) {
  return {
    title: row.title,
    kind: row.kind,
    secret: row.secret,
    options,
    maxChoices: row.maxChoices,
    seats: row.seats,
    majority: row.majority,
    abstentions: row.abstentions,
    tieBreak: row.tieBreak,
    quorum: row.quorum,
    durationSeconds: row.durationSeconds,
  };
}

/** Public view of a vote; `ov` adds live progress for an open vote (read through `eligibility` when absent). */
export async function voteView(store: Store, eligibility: VoteEligibility, row: VoteRow, ov?: OpenVote): Promise<VoteView> {
  const closed = row.state === 'closed' || row.state === 'announced';
  let voted = 0;
  let eligible = 0;
  let members = row.result?.members ?? 0;
  if (row.state === 'open') {
    const o = ov ?? (await eligibility.runtime(row));
    voted = o.voters.size;
    eligible = await eligibility.eligibleCount(o);
    members = o.members.size;
  } else if (closed) {
    voted = row.result ? row.result.voted + row.result.abstentions : await participationCount(store, row.id);
    eligible = row.result?.eligible ?? 0;
  }
  return {
    id: row.id,
    meetingId: row.meetingId,
    agendaItemId: row.agendaItemId,
    ...voteConfig(
      row,
      row.options.map((label, index) => ({ index, label })),
    ),
    state: row.state,
    openedAt: row.openedAt,
    closesAt: row.closesAt,
    closedAt: row.closedAt,
    announcedAt: row.announcedAt,
    voted,
    eligible,
    members,
    result: closed ? row.result : null,
    quorumOverrideReason: row.quorumOverrideReason,
    annulledAt: row.annulledAt,
    annulReason: row.annulReason,
    rerunOf: row.rerunOf,
    rerunBy: row.state === 'annulled' ? ((await store.q.select({ id: votes.id }).from(votes).where(eq(votes.rerunOf, row.id)).limit(1))[0]?.id ?? null) : null,
    bloc: row.bloc ? await blocView(store, row.bloc) : null,
    roll: closed && !row.secret ? await namedRoll(store, row.id) : null,
  };
}

async function blocView(store: Store, bloc: NonNullable<VoteRow['bloc']>): Promise<NonNullable<VoteView['bloc']>> {
  const items = await store.q.select({ id: agendaItems.id, t: agendaItems.title }).from(agendaItems).where(inArray(agendaItems.id, bloc.map((b) => b.agendaItemId)));
  const titles = new Map(items.map((r) => [r.id, r.t]));
  const names = await userNames(store, bloc.flatMap((b) => (b.pulledBy != null ? [b.pulledBy] : [])));
  return bloc.map((b) => ({ agendaItemId: b.agendaItemId, title: titles.get(b.agendaItemId) ?? '', pulledBy: b.pulledBy, pulledByName: b.pulledBy != null ? (names.get(b.pulledBy) ?? null) : null }));
}
