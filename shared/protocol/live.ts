import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { Agenda } from './agenda.js';
import { Id, line } from './common.js';
import { MeetingRole } from './committees.js';
import { MeetingStatus, QuorumRule } from './meetings.js';
import { command } from './realtime.js';

/** Live-meeting limits shared by both ends. */
export const LIVE_LIMITS = {
  /** Longest speaking time the chair may allot, seconds. */
  maxSpeakingSeconds: 60 * 60,
  /** Default allotted time per kind of request, seconds. */
  defaultSeconds: { speech: 180, question: 120, point_of_order: 60 },
  maxPage: 100_000,
  /** Bounds of the presenter's zoom, relative to fit-to-width (1 = the page's width fills the viewer). */
  minZoom: 0.25,
  maxZoom: 8,
} as const;

export const AttendanceStatus = z.enum(['in_room', 'remote', 'absent', 'proxy']);
export type AttendanceStatus = z.infer<typeof AttendanceStatus>;
export const SpeakerKind = z.enum(['speech', 'question', 'point_of_order']);
export type SpeakerKind = z.infer<typeof SpeakerKind>;

const meetingId = { meetingId: Id };

// ---------------------------------------------------------------------------------------------
// State (snapshot and pushes)

/** One participant's attendance; `status` null = not recorded yet. `online` = a socket in the room now. */
export const AttendanceEntry = z.object({
  userId: z.number(),
  fullName: z.string(),
  title: z.string().nullable(),
  role: MeetingRole,
  canVote: z.boolean(),
  status: AttendanceStatus.nullable(),
  reason: z.string().nullable(),
  proxyHolderId: z.number().nullable(),
  /** With status `proxy`: a vote proxy or an attendance substitute. */
  proxyKind: z.enum(['vote', 'substitute']).nullable(),
  online: z.boolean(),
});
export type AttendanceEntry = z.infer<typeof AttendanceEntry>;

export const QuorumState = z.object({
  present: z.number(),
  eligible: z.number(),
  required: z.number(),
  met: z.boolean(),
  /** "18/25 present, quorum 13: met" */
  sentence: z.string(),
});
export type QuorumState = z.infer<typeof QuorumState>;

export const AttendanceState = z.object({ attendance: z.array(AttendanceEntry), quorum: QuorumState });
export type AttendanceState = z.infer<typeof AttendanceState>;

export const SpeakerEntry = z.object({
  id: z.number(),
  userId: z.number(),
  fullName: z.string(),
  kind: SpeakerKind,
  agendaItemId: z.number().nullable(),
  requestedAt: z.number(),
});
export type SpeakerEntry = z.infer<typeof SpeakerEntry>;

/** Who has the floor: the timer is `startedAt` (server ms) + `allottedSeconds`; clients correct with their clock offset. */
export const Floor = SpeakerEntry.extend({ startedAt: z.number(), allottedSeconds: z.number() });
export type Floor = z.infer<typeof Floor>;

/** The speakers' list of the current item (waiting, in order) and the floor. */
export const SpeakersState = z.object({ agendaItemId: z.number().nullable(), queue: z.array(SpeakerEntry), floor: Floor.nullable() });
export type SpeakersState = z.infer<typeof SpeakersState>;

/**
 * What the presenter shows: document, page and zoom. `zoom` is relative to fit-to-width (1 = the page's
 * width fills the viewer, 2 = twice that), so a phone and a tablet following the same presenter show
 * the same part of the page whatever their screen width.
 */
export const PresenterState = z
  .object({ presenterId: z.number(), presenterName: z.string(), documentId: z.number(), page: z.number(), zoom: z.number() })
  .nullable();
export type PresenterState = z.infer<typeof PresenterState>;

export const MeetingLiveState = z.object({
  id: z.number(),
  title: z.string(),
  status: MeetingStatus,
  quorumRule: QuorumRule,
  openedAt: z.string().nullable(),
  openOverrideReason: z.string().nullable(),
  closedAt: z.string().nullable(),
});
export type MeetingLiveState = z.infer<typeof MeetingLiveState>;

/** The `live` part of the `meeting:join` snapshot: everything a live view needs. */
export const LiveSnapshot = z.object({
  meeting: MeetingLiveState,
  agenda: Agenda,
  attendance: AttendanceState,
  speakers: SpeakersState,
  presenter: PresenterState,
});
export type LiveSnapshot = z.infer<typeof LiveSnapshot>;

// ---------------------------------------------------------------------------------------------
// Commands

export const CheckInPayload = z.strictObject({
  ...meetingId,
  /** Someone else (secretary only); omitted = the caller. */
  userId: Id.optional(),
  mode: z.enum(['in_room', 'remote']),
});
export const MarkAbsentPayload = z.strictObject({ ...meetingId, userId: Id.optional(), reason: line(LIMITS.reason) });
export const SetProxyPayload = z.strictObject({
  ...meetingId,
  /** The member who delegates. */
  userId: Id,
  /** The person who attends on their behalf; null removes the proxy. */
  holderId: Id.nullable(),
  /**
   * `vote` (default): a vote proxy (ủy quyền biểu quyết) to a member with a voting right. `substitute`:
   * an attendance substitute (cử người dự thay). See docs/VOTING.md, "Proxies".
   */
  kind: z.enum(['vote', 'substitute']).default('vote'),
  /** The paper authorization's reason; required unless the member records it themself. */
  reason: line(LIMITS.reason).optional(),
});
export const OpenMeetingPayload = z.strictObject({ ...meetingId, overrideReason: line(LIMITS.reason).optional() });
export const MeetingOnlyPayload = z.strictObject(meetingId);
export const GotoItemPayload = z.strictObject({ ...meetingId, itemId: Id });
export const MarkItemPayload = z.strictObject({ ...meetingId, itemId: Id, status: z.enum(['done', 'deferred', 'pending']) });
export const AddUrgentItemPayload = z.strictObject({
  ...meetingId,
  title: line(LIMITS.title),
  durationMinutes: z.number().int().positive().max(LIMITS.durationMinutes).optional(),
  /** Make it the current item right away. */
  makeCurrent: z.boolean().default(false),
});
export const RequestFloorPayload = z.strictObject({ ...meetingId, kind: SpeakerKind });
export const RequestIdPayload = z.strictObject({ ...meetingId, requestId: Id });
export const GrantFloorPayload = z.strictObject({
  ...meetingId,
  requestId: Id,
  /** Allotted time; default by kind (LIVE_LIMITS.defaultSeconds). */
  seconds: z.number().int().min(10).max(LIVE_LIMITS.maxSpeakingSeconds).optional(),
});
export const NextSpeakerPayload = z.strictObject({ ...meetingId, seconds: GrantFloorPayload.shape.seconds });
export const ReorderSpeakersPayload = z.strictObject({ ...meetingId, requestIds: z.array(Id).max(500) });
export const PresenterShowPayload = z.strictObject({
  ...meetingId,
  documentId: Id,
  page: z.number().int().min(1).max(LIVE_LIMITS.maxPage),
  /** Relative to fit-to-width; omitted = 1 (fit width). */
  zoom: z.number().min(LIVE_LIMITS.minZoom).max(LIVE_LIMITS.maxZoom).optional(),
});

const none = z.null();

export const LIVE_COMMANDS = {
  'attendance:check_in': command({ payload: CheckInPayload, ack: AttendanceState, authoritative: true, idempotent: true }),
  'attendance:mark_absent': command({ payload: MarkAbsentPayload, ack: AttendanceState, authoritative: true, idempotent: true }),
  'attendance:set_proxy': command({ payload: SetProxyPayload, ack: AttendanceState, authoritative: true, idempotent: true }),
  'meeting:open': command({ payload: OpenMeetingPayload, ack: MeetingLiveState, authoritative: true }),
  'meeting:pause': command({ payload: MeetingOnlyPayload, ack: MeetingLiveState, authoritative: true }),
  'meeting:resume': command({ payload: MeetingOnlyPayload, ack: MeetingLiveState, authoritative: true }),
  'meeting:close': command({ payload: MeetingOnlyPayload, ack: MeetingLiveState, authoritative: true }),
  'agenda:goto': command({ payload: GotoItemPayload, ack: z.object({ currentItemId: z.number().nullable() }), authoritative: true }),
  'agenda:next': command({ payload: MeetingOnlyPayload, ack: z.object({ currentItemId: z.number().nullable() }), authoritative: true }),
  'agenda:previous': command({ payload: MeetingOnlyPayload, ack: z.object({ currentItemId: z.number().nullable() }), authoritative: true }),
  'agenda:mark': command({ payload: MarkItemPayload, ack: none, authoritative: true }),
  'agenda:add_urgent': command({ payload: AddUrgentItemPayload, ack: z.object({ itemId: z.number() }), authoritative: true }),
  'speaker:request': command({ payload: RequestFloorPayload, ack: z.object({ requestId: z.number() }), authoritative: true, idempotent: true }),
  'speaker:withdraw': command({ payload: RequestIdPayload, ack: none, authoritative: true, idempotent: true }),
  'speaker:grant': command({ payload: GrantFloorPayload, ack: Floor, authoritative: true }),
  'speaker:next': command({ payload: NextSpeakerPayload, ack: Floor.nullable(), authoritative: true }),
  'speaker:end': command({ payload: MeetingOnlyPayload, ack: none, authoritative: true }),
  'speaker:remove': command({ payload: RequestIdPayload, ack: none, authoritative: true }),
  'speaker:reorder': command({ payload: ReorderSpeakersPayload, ack: none, authoritative: true }),
  'presenter:show': command({ payload: PresenterShowPayload, ack: none, idempotent: true }),
  'presenter:stop': command({ payload: MeetingOnlyPayload, ack: none, idempotent: true }),
};

export const LIVE_PUSHES = {
  /** Meeting status / opening changed (open, pause, resume, close, or a REST edit). */
  'meeting:changed': MeetingLiveState,
  /** The agenda changed (current item, status, order, new or edited items — from the chair or REST). */
  'agenda:changed': Agenda,
  /** Attendance or quorum changed (check-in, absence, proxy). Presence comes as `presence:changed`. */
  'attendance:changed': AttendanceState,
  /** The speakers' list or the floor changed. */
  'speakers:changed': SpeakersState,
  /** The presenter shows another document/page (null: stopped presenting). */
  'presenter:moved': PresenterState,
};
