import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { Id, line, text } from './common.js';

/** A participant's role in a committee or a meeting. */
export const MeetingRole = z.enum(['chair', 'secretary', 'member', 'guest']);
export type MeetingRole = z.infer<typeof MeetingRole>;

export const CommitteeMember = z.object({
  userId: z.number(),
  fullName: z.string(),
  unit: z.string().nullable(),
  defaultRole: MeetingRole,
  votingRight: z.boolean(),
});
export type CommitteeMember = z.infer<typeof CommitteeMember>;

export const Committee = z.object({
  id: z.number(),
  name: z.string(),
  description: z.string(),
  active: z.boolean(),
  members: z.array(CommitteeMember),
});
export type Committee = z.infer<typeof Committee>;

export const CommitteeMemberInput = z.strictObject({
  userId: Id,
  defaultRole: MeetingRole,
  votingRight: z.boolean().optional(),
});

export const CreateCommitteeBody = z.strictObject({
  name: line(LIMITS.name),
  description: text().default(''),
  members: z.array(CommitteeMemberInput).max(LIMITS.participantsPerMeeting).default([]),
});
export type CreateCommitteeBody = z.infer<typeof CreateCommitteeBody>;

export const UpdateCommitteeBody = z.strictObject({
  name: line(LIMITS.name).optional(),
  description: text().optional(),
  active: z.boolean().optional(),
  members: z.array(CommitteeMemberInput).max(LIMITS.participantsPerMeeting).optional(),
});
export type UpdateCommitteeBody = z.infer<typeof UpdateCommitteeBody>;

export const CommitteeList = z.object({ committees: z.array(Committee) });

export const Room = z.object({
  id: z.number(),
  name: z.string(),
  location: z.string(),
  capacity: z.number().nullable(),
  active: z.boolean(),
});
export type Room = z.infer<typeof Room>;

export const CreateRoomBody = z.strictObject({
  name: line(LIMITS.name),
  location: text(LIMITS.title).default(''),
  capacity: z.number().int().positive().max(10_000).nullable().optional(),
});
export const UpdateRoomBody = z.strictObject({
  name: line(LIMITS.name).optional(),
  location: text(LIMITS.title).optional(),
  capacity: z.number().int().positive().max(10_000).nullable().optional(),
  active: z.boolean().optional(),
});
export const RoomList = z.object({ rooms: z.array(Room) });
