import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { Id, IsoDateTime, PathId, line, text } from './common.js';
import { MeetingRole } from './committees.js';

export const MeetingMode = z.enum(['in_person', 'hybrid', 'online']);
export type MeetingMode = z.infer<typeof MeetingMode>;

/**
 * Lifecycle: draft → published → live ⇄ paused → closed.
 * Only the live-meeting commands move a meeting past `published`.
 */
export const MeetingStatus = z.enum(['draft', 'published', 'live', 'paused', 'closed']);
export type MeetingStatus = z.infer<typeof MeetingStatus>;

/**
 * How many participants with voting right must be present.
 * `majority`: more than half; `two_thirds`: at least two thirds; `count`: at least `count`.
 */
export const QuorumRule = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('majority') }),
  z.strictObject({ kind: z.literal('two_thirds') }),
  z.strictObject({ kind: z.literal('count'), count: z.number().int().positive().max(LIMITS.participantsPerMeeting) }),
]);
export type QuorumRule = z.infer<typeof QuorumRule>;

export const ParticipantInput = z.strictObject({
  userId: Id,
  role: MeetingRole,
  /** Defaults by role: chair and member vote, secretary and guest do not. */
  canVote: z.boolean().optional(),
});
export type ParticipantInput = z.infer<typeof ParticipantInput>;

export const Participant = z.object({
  userId: z.number(),
  fullName: z.string(),
  title: z.string().nullable(),
  unit: z.string().nullable(),
  role: MeetingRole,
  canVote: z.boolean(),
  invitedAt: z.string().nullable(),
});
export type Participant = z.infer<typeof Participant>;

const meetingFields = {
  title: line(LIMITS.title),
  description: text().default(''),
  startsAt: IsoDateTime,
  endsAt: IsoDateTime,
  roomId: Id.nullable().optional(),
  mode: MeetingMode.default('in_person'),
  quorumRule: QuorumRule.default({ kind: 'majority' }),
};

export const CreateMeetingBody = z
  .strictObject({
    committeeId: Id,
    ...meetingFields,
    /** Omitted: every active committee member with their default role. */
    participants: z.array(ParticipantInput).max(LIMITS.participantsPerMeeting).optional(),
  })
  .refine((m) => Date.parse(m.endsAt) > Date.parse(m.startsAt), { message: 'endsAt must be after startsAt', path: ['endsAt'] });
export type CreateMeetingBody = z.infer<typeof CreateMeetingBody>;

export const UpdateMeetingBody = z.strictObject({
  /** The meeting's `version` the client edited; a stale one gets 409 version_conflict. */
  version: z.number().int().nonnegative(),
  title: meetingFields.title.optional(),
  description: text().optional(),
  startsAt: IsoDateTime.optional(),
  endsAt: IsoDateTime.optional(),
  roomId: Id.nullable().optional(),
  mode: MeetingMode.optional(),
  quorumRule: QuorumRule.optional(),
  participants: z.array(ParticipantInput).max(LIMITS.participantsPerMeeting).optional(),
});
export type UpdateMeetingBody = z.infer<typeof UpdateMeetingBody>;

export const MeetingSummary = z.object({
  id: z.number(),
  committeeId: z.number(),
  committeeName: z.string(),
  title: z.string(),
  startsAt: z.string(),
  endsAt: z.string(),
  roomId: z.number().nullable(),
  roomName: z.string().nullable(),
  mode: MeetingMode,
  status: MeetingStatus,
  /** The caller's role in this meeting, or null for an admin/committee secretary who is not a participant. */
  myRole: MeetingRole.nullable(),
  canManage: z.boolean(),
});
export type MeetingSummary = z.infer<typeof MeetingSummary>;

export const Meeting = MeetingSummary.extend({
  description: z.string(),
  quorumRule: QuorumRule,
  version: z.number(),
  publishedAt: z.string().nullable(),
  participants: z.array(Participant),
});
export type Meeting = z.infer<typeof Meeting>;

export const MeetingScope = z.enum(['upcoming', 'live', 'past', 'all']);
export const MeetingListQuery = z.strictObject({
  scope: MeetingScope.default('all'),
  committeeId: PathId.optional(),
});
export const MeetingList = z.object({ meetings: z.array(MeetingSummary) });
