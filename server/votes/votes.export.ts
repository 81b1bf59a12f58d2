import { rollSentence } from '../../shared/rules/roll.js';
import type { VoteView } from '../../shared/protocol/votes.js';
import type { Store } from '../db/store.js';
import { userNames } from './votes.repo.js';
import { eq } from 'drizzle-orm';
import { meetings, voteEligibility } from '../db/tables.js';
import type { AppContext } from '../context.js';
import { pdfPool } from '../documents/pdf.pool.js';

const KIND_VI: Record<string, string> = { motion: 'Biểu quyết', single: 'Chọn một', multiple: 'Chọn nhiều', election: 'Bầu cử' };
const OUTCOME_VI: Record<string, string> = { adopted: 'Thông qua', rejected: 'Không thông qua', no_quorum: 'Không hợp lệ (không đủ số lượng)', tie: 'Hòa (chờ chủ tọa quyết định)' };

/** One CSV field, quoted when needed; a leading = + - @ is neutralised (spreadsheet formula injection). */
function field(v: unknown): string {
  let s = v == null ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The record of a vote as CSV (UTF-8 with BOM so spreadsheets show Vietnamese): configuration,
 * timestamps, counts, result, who was eligible and, for named votes, each voter's choice.
 * Secret votes list who was eligible and nothing that links a voter to a choice.
 */
export async function voteCsv(store: Store, v: VoteView): Promise<string> {
  const rows: unknown[][] = [];
  rows.push(['field', 'value']);
  rows.push(['vote_id', v.id], ['meeting_id', v.meetingId], ['title', v.title], ['kind', `${v.kind} (${KIND_VI[v.kind]})`], ['secret', v.secret]);
  rows.push(['majority', v.majority], ['abstentions', v.abstentions], ['tie_break', v.tieBreak], ['quorum', JSON.stringify(v.quorum)]);
  rows.push(['state', v.state], ['opened_at', v.openedAt], ['closes_at', v.closesAt], ['closed_at', v.closedAt], ['announced_at', v.announcedAt]);
  if (v.quorumOverrideReason) rows.push(['quorum_override_reason', v.quorumOverrideReason]);
  if (v.annulledAt) rows.push(['annulled_at', v.annulledAt], ['annul_reason', v.annulReason]);
  if (v.rerunOf != null) rows.push(['rerun_of', v.rerunOf]);
  if (v.rerunBy != null) rows.push(['rerun_by', v.rerunBy]);
  if (v.bloc) for (const b of v.bloc) rows.push(['bloc_item', `${b.agendaItemId}: ${b.title}${b.pulledBy != null ? ` (pulled by ${b.pulledByName ?? b.pulledBy})` : ''}`]);
  const r = v.result;
  if (r) {
    rows.push(['outcome', `${r.outcome} (${OUTCOME_VI[r.outcome]})`], ['rule', r.rule.vi], ['required', r.required], ['voted', r.voted], ['abstentions_count', r.abstentions]);
    rows.push(['eligible', r.eligible], ['members', r.members], ['participation', rollSentence({ voted: r.voted + r.abstentions, eligible: r.eligible, members: r.members }, 'vi')], ['explanation_vi', r.explanation.vi], ['explanation_en', r.explanation.en]);
  }
  rows.push([]);
  rows.push(['option', 'label', 'votes']);
  v.options.forEach((o) => rows.push([o.index, o.label, r ? r.counts[o.index] : '']));
  if (r) rows.push(['', 'abstain', r.abstentions]);
  const eligible = (await store.q.select({ u: voteEligibility.userId }).from(voteEligibility).where(eq(voteEligibility.voteId, v.id))).map((x) => x.u);
  const names = await userNames(store, eligible);
  rows.push([]);
  rows.push(['eligible_user_id', 'full_name']);
  for (const u of eligible) rows.push([u, names.get(u)]);
  if (v.roll) {
    rows.push([]);
    rows.push(['voter_id', 'full_name', 'choices', 'cast_by', 'cast_by_name']);
    for (const b of v.roll) rows.push([b.userId, b.fullName, b.choices.length ? b.choices.map((c) => v.options[c]?.label).join(' | ') : 'abstain', b.castBy, b.castByName ?? '']);
  }
  return '\ufeff' + rows.map((row) => row.map(field).join(',')).join('\r\n') + '\r\n';
}

/**
 * The record PDF of a vote as served by `GET /api/votes/:id/export.pdf` and put in meeting archives:
 * `renderVotePdf` (votes.pdf.ts) with the meeting's title and the eligible members' names (sorted in
 * Vietnamese order), rendered in the PDF pool's workers.
 */
export async function votePdf(ctx: Pick<AppContext, 'store' | 'config' | 'log'>, v: VoteView): Promise<Buffer> {
  const { store } = ctx;
  const [m] = await store.q.select({ title: meetings.title }).from(meetings).where(eq(meetings.id, v.meetingId)).limit(1);
  const eligible = (await store.q.select({ u: voteEligibility.userId }).from(voteEligibility).where(eq(voteEligibility.voteId, v.id))).map((x) => x.u);
  const names = await userNames(store, eligible);
  const eligibleNames = eligible.map((u) => names.get(u) ?? '').sort((a, b) => a.localeCompare(b, 'vi'));
  return pdfPool(ctx.config).render('vote', { vote: v, meetingTitle: m?.title ?? '', eligibleNames }, ctx.log);
}
