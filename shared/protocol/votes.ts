import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { command } from './realtime.js';
import { Id, line } from './common.js';

/** Limits of votes, shared by the forms and the server. */
export const VOTE_LIMITS = { options: 50, optionLabel: 300, minSeconds: 10, maxSeconds: 24 * 3600, extendMaxSeconds: 3600, maxProxies: 20 } as const;

export const VoteKind = z.enum(['motion', 'single', 'multiple', 'election']);
export const MajorityRule = z.enum(['simple', 'absolute_present', 'absolute_members', 'two_thirds', 'unanimity']);
export const AbstentionMode = z.enum(['excluded', 'included']);
export const TieBreak = z.enum(['fails', 'casting_vote']);
export const VoteQuorum = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('none') }),
  z.strictObject({ kind: z.literal('majority') }),
  z.strictObject({ kind: z.literal('two_thirds') }),
  z.strictObject({ kind: z.literal('count'), count: z.number().int().positive().max(LIMITS.participantsPerMeeting) }),
]);

/**
 * `draft`: prepared, not open; `open`: ballots accepted (until `closesAt` when set); `closed`: counted,
 * result known to the chair and the room; `announced`: the chair announced it (final, with the casting
 * vote if there was a tie).
 */
export const VoteState = z.enum(['draft', 'open', 'closed', 'announced', 'annulled']);
export type VoteState = z.infer<typeof VoteState>;

/**
 * A receipt for a secret ballot: 16–32 random bytes, base64url, generated and kept by the voter's
 * device. The server stores only SHA-256(voteId:receipt) with the choice, never who sent it.
 */
export const Receipt = z.string().regex(/^[A-Za-z0-9_-]{22,43}$/, 'must be 16–32 random bytes, base64url');

export const CreateVoteBody = z
  .strictObject({
    agendaItemId: Id.nullable().default(null),
    title: line(LIMITS.title),
    kind: VoteKind,
    secret: z.boolean().default(false),
    /** Option labels (single, multiple) or candidates (election); motions have for/against built in. */
    options: z.array(line(VOTE_LIMITS.optionLabel)).max(VOTE_LIMITS.options).default([]),
    /** Multiple choice: most options per ballot (defaults to all). */
    maxChoices: z.number().int().positive().max(VOTE_LIMITS.options).optional(),
    /** Election: seats to fill = most candidates per ballot. */
    seats: z.number().int().positive().max(VOTE_LIMITS.options).optional(),
    /** Omitted: the committee's rule (vote-settings `majority`, by default more than half of all members). */
    majority: MajorityRule.optional(),
    abstentions: AbstentionMode.default('excluded'),
    tieBreak: TieBreak.default('fails'),
    quorum: VoteQuorum.default({ kind: 'none' }),
    /** Closes by itself after this many seconds once open; null: the chair closes it. */
    durationSeconds: z.number().int().min(VOTE_LIMITS.minSeconds).max(VOTE_LIMITS.maxSeconds).nullable().default(null),
    /**
     * Consent (bloc) vote, motions only: the agenda items of the meeting proposed for adoption together
     * (2 or more). Until the vote opens any member may pull one out for separate debate (`vote:bloc_pull`).
     */
    bloc: z.array(Id).min(2).max(VOTE_LIMITS.options).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.kind === 'motion' && v.options.length) ctx.addIssue({ code: 'custom', path: ['options'], message: 'a motion has for/against built in' });
    if (v.kind !== 'motion' && v.options.length < 2) ctx.addIssue({ code: 'custom', path: ['options'], message: 'at least 2 options' });
    if (new Set(v.options.map((o) => o.toLowerCase())).size !== v.options.length) ctx.addIssue({ code: 'custom', path: ['options'], message: 'options must differ' });
    if (v.kind === 'election' && (v.seats ?? 0) < 1) ctx.addIssue({ code: 'custom', path: ['seats'], message: 'an election needs seats' });
    if (v.kind === 'election' && (v.seats ?? 0) >= v.options.length) ctx.addIssue({ code: 'custom', path: ['seats'], message: 'fewer seats than candidates' });
    if (v.kind === 'multiple' && (v.maxChoices ?? 1) > v.options.length) ctx.addIssue({ code: 'custom', path: ['maxChoices'], message: 'at most the number of options' });
    if (v.kind !== 'election' && v.seats !== undefined) ctx.addIssue({ code: 'custom', path: ['seats'], message: 'only elections have seats' });
    if (v.kind !== 'multiple' && v.maxChoices !== undefined) ctx.addIssue({ code: 'custom', path: ['maxChoices'], message: 'only multiple choice sets maxChoices' });
    if (v.bloc && v.kind !== 'motion') ctx.addIssue({ code: 'custom', path: ['bloc'], message: 'only a motion adopts items together' });
    if (v.bloc && new Set(v.bloc).size !== v.bloc.length) ctx.addIssue({ code: 'custom', path: ['bloc'], message: 'an item is listed twice' });
  });
export type CreateVoteBody = z.infer<typeof CreateVoteBody>;

export const VoteOption = z.object({ index: z.number(), label: z.string() });

export const TallyResultView = z.object({
  outcome: z.enum(['adopted', 'rejected', 'no_quorum', 'tie']),
  winners: z.array(z.number()),
  tied: z.array(z.number()),
  castingVoteApplied: z.boolean(),
  counts: z.array(z.number()),
  voted: z.number(),
  abstentions: z.number(),
  cast: z.number(),
  required: z.number(),
  quorumRequired: z.number(),
  quorumMet: z.boolean(),
  present: z.number(),
  members: z.number(),
  eligible: z.number(),
  rule: z.object({ vi: z.string(), en: z.string() }),
  explanation: z.object({ vi: z.string(), en: z.string() }),
});
export type TallyResultView = z.infer<typeof TallyResultView>;

/** A vote as everyone in the meeting sees it (no ballot of anyone else; counts only after close). */
export const VoteView = z.object({
  id: z.number(),
  meetingId: z.number(),
  agendaItemId: z.number().nullable(),
  title: z.string(),
  kind: VoteKind,
  secret: z.boolean(),
  options: z.array(VoteOption),
  maxChoices: z.number(),
  seats: z.number(),
  majority: MajorityRule,
  abstentions: AbstentionMode,
  tieBreak: TieBreak,
  quorum: VoteQuorum,
  durationSeconds: z.number().nullable(),
  state: VoteState,
  openedAt: z.string().nullable(),
  closesAt: z.string().nullable(),
  closedAt: z.string().nullable(),
  announcedAt: z.string().nullable(),
  /** Ballots received so far (after close: counted) / voters eligible now (after close: at close) / all voting members — shared/rules/roll.ts. */
  voted: z.number(),
  eligible: z.number(),
  members: z.number(),
  result: TallyResultView.nullable(),
  /**
   * The chair opened the vote although the meeting had no quorum: the recorded reason (null: quorum was
   * met, or not opened yet). Shown with the result, in the minutes and the exports.
   */
  quorumOverrideReason: z.string().nullable(),
  /** Annulled by the chair (state `annulled`): when and why. */
  annulledAt: z.string().nullable(),
  annulReason: z.string().nullable(),
  /** This vote re-runs the annulled vote `rerunOf`; `rerunBy`: the vote that re-runs this annulled one. */
  rerunOf: z.number().nullable(),
  rerunBy: z.number().nullable(),
  /**
   * Consent (bloc) vote: the items proposed for adoption together; `pulledBy` (and its name): the member
   * who took the item out for separate debate before the vote opened. Null for other votes.
   */
  bloc: z.array(z.object({ agendaItemId: z.number(), title: z.string(), pulledBy: z.number().nullable(), pulledByName: z.string().nullable() })).nullable(),
  /** Named votes, after close: each voter's choice. */
  roll: z.array(z.object({ userId: z.number(), fullName: z.string(), choices: z.array(z.number()), castBy: z.number(), castByName: z.string().nullable() })).nullable(),
});
export type VoteView = z.infer<typeof VoteView>;

/** The caller's own relation to a vote (never sent to anyone else). */
export const MyVote = z.object({
  voteId: z.number(),
  /** The caller may cast for themselves now. */
  canVote: z.boolean(),
  /** Why not, when they may not: `not_eligible`, `absent`, `vote_delegated`, `already_voted`. */
  reason: z.string().nullable(),
  hasVoted: z.boolean(),
  /** Named votes: the caller's current choice. */
  choices: z.array(z.number()).nullable(),
  /** Members whose vote the caller holds by proxy and may cast. */
  /** Named votes: `choices` is that member's ballot as cast by the caller (never the caller's own). */
  proxyFor: z.array(z.object({ userId: z.number(), fullName: z.string(), hasVoted: z.boolean(), choices: z.array(z.number()).nullable() })),
});
export type MyVote = z.infer<typeof MyVote>;

export const VoteIdPayload = z.strictObject({ voteId: Id });
/** Opening a vote: without the meeting's quorum only with the chair's reason (recorded, audited, in the minutes). */
export const OpenVotePayload = z.strictObject({ voteId: Id, overrideReason: line(LIMITS.reason).optional() });
export const CreateVotePayload = z.strictObject({ meetingId: Id, vote: CreateVoteBody });
/** Annulling a vote: the chair's reason is required (recorded, audited, in the minutes). */
export const AnnulVotePayload = z.strictObject({ voteId: Id, reason: line(LIMITS.reason) });
export const BlocPullPayload = z.strictObject({ voteId: Id, agendaItemId: Id });
export const ExtendVotePayload = z.strictObject({ voteId: Id, seconds: z.number().int().min(VOTE_LIMITS.minSeconds).max(VOTE_LIMITS.extendMaxSeconds) });
export const CastVotePayload = z.strictObject({
  voteId: Id,
  /** Option indexes; empty = abstain. A motion: [0] for, [1] against, [] abstain. */
  choices: z.array(z.number().int().min(0).max(VOTE_LIMITS.options)).max(VOTE_LIMITS.options),
  /** Secret votes: required, generated by the device (see Receipt). Refused on named votes. */
  receipt: Receipt.optional(),
  /** Cast the vote of the member who delegated it to the caller. */
  onBehalfOf: Id.optional(),
});
export const AnnounceVotePayload = z.strictObject({ voteId: Id, castingVote: z.array(z.number().int().min(0)).max(VOTE_LIMITS.options).optional() });
export const DelegatePayload = z.strictObject({ meetingId: Id, toUserId: Id.nullable() });

export const CastAck = z.object({ voteId: z.number(), counted: z.literal(true), voterId: z.number() });
export const VoteAck = z.object({ vote: VoteView });

export const Delegation = z.object({ meetingId: z.number(), fromUserId: z.number(), fromName: z.string(), toUserId: z.number(), toName: z.string(), createdAt: z.string() });
export type Delegation = z.infer<typeof Delegation>;

export const VOTE_COMMANDS = {
  /** Chair/secretary: prepare a vote (state `draft`). */
  'vote:create': command({ payload: CreateVotePayload, ack: VoteAck, authoritative: true, idempotent: true }),
  /** Chair: open a draft vote; ballots are accepted from now on. Without quorum only with `overrideReason` (else `no_quorum`). */
  'vote:open': command({ payload: OpenVotePayload, ack: VoteAck, authoritative: true, idempotent: true }),
  /** Chair: push the automatic close back by `seconds` (or set one). */
  'vote:extend': command({ payload: ExtendVotePayload, ack: VoteAck, authoritative: true, idempotent: true }),
  /** Chair: close now and count. */
  'vote:close': command({ payload: VoteIdPayload, ack: VoteAck, authoritative: true, idempotent: true }),
  /** Chair: announce the result (with the casting vote when tied). */
  'vote:announce': command({ payload: AnnounceVotePayload, ack: VoteAck, authoritative: true, idempotent: true }),
  /**
   * Chair: annul an open, closed or announced vote with a reason (state `annulled`; an open secret vote's
   * sealed ballots are deleted unopened). Both the annulled vote and its re-run appear in the minutes.
   */
  'vote:annul': command({ payload: AnnulVotePayload, ack: VoteAck, authoritative: true, idempotent: true }),
  /** Chair: prepare the re-run of an annulled vote: a new draft with the same settings, linked by `rerunOf`. */
  'vote:rerun': command({ payload: VoteIdPayload, ack: VoteAck, authoritative: true, idempotent: true }),
  /** Member (or chair): pull an item out of a consent (bloc) vote for separate debate, until the vote opens. */
  'vote:bloc_pull': command({ payload: BlocPullPayload, ack: VoteAck, authoritative: true, idempotent: true }),
  /** Member: cast (named votes: or change) a ballot. Acked only after the ballot is committed. */
  'vote:cast': command({ payload: CastVotePayload, ack: CastAck, authoritative: true, idempotent: true }),
  /** Member: the caller's own state in a vote. */
  'vote:mine': command({ payload: VoteIdPayload, ack: MyVote }),
  /** Member: delegate the caller's vote in this meeting to another participant (null: take it back). */
  'vote:delegate': command({ payload: DelegatePayload, ack: z.object({ delegation: Delegation.nullable() }), authoritative: true, idempotent: true }),
};

export const VOTE_PUSHES = {
  /** A vote was created, opened, extended or announced: its full public view. */
  'vote:changed': z.object({ vote: VoteView }),
  /** Coalesced progress (a few per second at most): ballots received / eligible now. */
  'vote:progress': z.object({ voteId: z.number(), voted: z.number(), eligible: z.number(), members: z.number(), notVoted: z.array(z.object({ userId: z.number(), fullName: z.string() })).optional() }),
  /** The vote closed; the result is counted. */
  'vote:closed': z.object({ vote: VoteView }),
  /**
   * A delegation in the meeting changed: to the chair/secretaries, the delegator, the new proxy and the
   * proxy it replaced or that was revoked. `delegation` null: `fromUserId` took their vote back.
   */
  'vote:delegated': z.object({ meetingId: z.number(), delegation: Delegation.nullable(), fromUserId: z.number() }),
};

export const VoteList = z.object({ votes: z.array(VoteView) });
export const ReceiptList = z.object({ voteId: z.number(), ballots: z.array(z.object({ key: z.string(), choices: z.array(z.number()) })) });
/** The delegations the caller may see, and whether the meeting's committee lets a delegator still vote in person. */
export const DelegationList = z.object({ delegations: z.array(Delegation), delegatorMayVote: z.boolean() });
/**
 * A committee's voting rules (PUT /api/committees/:id/vote-settings; the admin sets them up with the
 * committee). `majority` is the default majority of its votes — the Vietnamese usual rule, more than half
 * of all members (`absolute_members`), unless chosen otherwise. See docs/VOTING.md, "Proxies".
 */
export const VoteSettings = z.strictObject({
  delegatorMayVote: z.boolean(),
  /** Most proxies one person may hold (vote proxies and paper authorizations together). */
  maxProxies: z.number().int().min(1).max(VOTE_LIMITS.maxProxies),
  substitutesMayVote: z.boolean(),
  substitutesCountPresent: z.boolean(),
  majority: MajorityRule,
});
export type VoteSettings = z.infer<typeof VoteSettings>;
/** A change of some of a committee's voting rules; omitted fields keep their value. */
export const VoteSettingsBody = VoteSettings.partial();
