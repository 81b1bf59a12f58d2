import { and, eq } from 'drizzle-orm';
import type { MeetingRole } from '../../shared/protocol/committees.js';
import type { AuthUser } from '../auth/sessions.js';
import type { Store } from '../db/store.js';
import { committeeMembers, meetingParticipants, meetings } from '../db/tables.js';
import { forbidden, notFound } from '../http/errors.js';

export type MeetingRow = typeof meetings.$inferSelect;
type ParticipantRow = typeof meetingParticipants.$inferSelect;

/** What the caller may do in one meeting. */
export interface MeetingAccess {
  meeting: MeetingRow;
  /** The caller's participant role, or null (admin / committee secretary not on the list). */
  role: MeetingRole | null;
  canVote: boolean;
  /** May edit the meeting, its agenda, documents and participants: admin, committee or meeting secretary. */
  canManage: boolean;
  /** Runs the live meeting: the chair, or whoever may manage it. */
  canChair: boolean;
}

const secretaryWhere = (userId: number, committeeId: number) =>
  and(eq(committeeMembers.committeeId, committeeId), eq(committeeMembers.userId, userId), eq(committeeMembers.defaultRole, 'secretary'));
const participantWhere = (userId: number, meetingId: number) => and(eq(meetingParticipants.meetingId, meetingId), eq(meetingParticipants.userId, userId));

/** True when the user is a secretary of the committee by default role. */
export async function isCommitteeSecretary(store: Store, userId: number, committeeId: number): Promise<boolean> {
  const rows = await store.q.select({ u: committeeMembers.userId }).from(committeeMembers).where(secretaryWhere(userId, committeeId)).limit(1);
  return rows.length > 0;
}

/** The rule, from what was read: the meeting, the caller's participant row, whether they are a committee secretary. */
function decide(user: AuthUser, meeting: MeetingRow, p: ParticipantRow | undefined, committeeSecretary: boolean): MeetingAccess {
  const canManage = user.systemRole === 'admin' || committeeSecretary || p?.role === 'secretary';
  if (!canManage && (!p || meeting.status === 'draft')) throw notFound('Meeting');
  return {
    meeting,
    role: p?.role ?? null,
    canVote: !!p?.canVote && p.role !== 'guest',
    canManage,
    canChair: canManage || p?.role === 'chair',
  };
}

/**
 * The single rule for "may this user see this meeting": admins and the committee's secretaries
 * always; participants once it is published. Everyone else gets 404 — not 403 — so that a
 * member cannot even learn that a meeting they are not invited to exists.
 * @throws AppError not_found
 */
export async function meetingAccess(store: Store, user: AuthUser, meetingId: number): Promise<MeetingAccess> {
  const [meeting] = await store.q.select().from(meetings).where(eq(meetings.id, meetingId)).limit(1);
  if (!meeting) throw notFound('Meeting');
  const [p] = await store.q.select().from(meetingParticipants).where(participantWhere(user.id, meetingId)).limit(1);
  // Asked only when the cheaper facts do not decide.
  const secretary = user.systemRole !== 'admin' && p?.role !== 'secretary' && (await isCommitteeSecretary(store, user.id, meeting.committeeId));
  return decide(user, meeting, p, secretary);
}

/** Like `meetingAccess`, and the caller must be able to manage the meeting. */
export async function requireManage(store: Store, user: AuthUser, meetingId: number): Promise<MeetingAccess> {
  const a = await meetingAccess(store, user, meetingId);
  if (!a.canManage) throw forbidden('Only the meeting secretary may do this');
  return a;
}

/** Like `meetingAccess`, and the caller must be able to chair the meeting. */
export async function requireChair(store: Store, user: AuthUser, meetingId: number): Promise<MeetingAccess> {
  const a = await meetingAccess(store, user, meetingId);
  if (!a.canChair) throw forbidden('Only the chair may do this');
  return a;
}
