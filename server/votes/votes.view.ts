import { eq, inArray } from 'drizzle-orm';
import type { VoteView } from '../../shared/protocol/votes.js';
import type { Db } from '../db/client.js';
import { agendaItems, votes } from '../db/schema/index.js';
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
export function voteView(db: Db, eligibility: VoteEligibility, row: VoteRow, ov?: OpenVote): VoteView {
  const closed = row.state === 'closed' || row.state === 'announced';
  let voted = 0;
  let eligible = 0;
  let members = row.result?.members ?? 0;
  if (row.state === 'open') {
    const o = ov ?? eligibility.runtime(row);
    voted = o.voters.size;
    eligible = eligibility.eligibleCount(o);
    members = o.members.size;
  } else if (closed) {
    voted = row.result ? row.result.voted + row.result.abstentions : participationCount(db.$client, row.id);
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
    rerunBy: row.state === 'annulled' ? (db.select({ id: votes.id }).from(votes).where(eq(votes.rerunOf, row.id)).get()?.id ?? null) : null,
    bloc: row.bloc ? blocView(db, row.bloc) : null,
    roll: closed && !row.secret ? namedRoll(db, row.id) : null,
  };
}

function blocView(db: Db, bloc: NonNullable<VoteRow['bloc']>): NonNullable<VoteView['bloc']> {
  const titles = new Map(db.select({ id: agendaItems.id, t: agendaItems.title }).from(agendaItems).where(inArray(agendaItems.id, bloc.map((b) => b.agendaItemId))).all().map((r) => [r.id, r.t]));
  const names = userNames(db, bloc.flatMap((b) => (b.pulledBy != null ? [b.pulledBy] : [])));
  return bloc.map((b) => ({ agendaItemId: b.agendaItemId, title: titles.get(b.agendaItemId) ?? '', pulledBy: b.pulledBy, pulledByName: b.pulledBy != null ? (names.get(b.pulledBy) ?? null) : null }));
}
