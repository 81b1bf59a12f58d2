import { and, eq } from 'drizzle-orm';
import type { MeetingRole } from '../../shared/protocol/committees.js';
import type { AuthUser } from '../auth/sessions.js';
import type { Db } from '../db/client.js';
import { committeeMembers, meetingParticipants, meetings } from '../db/schema/index.js';
import { forbidden, notFound } from '../http/errors.js';

export type MeetingRow = typeof meetings.$inferSelect;

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

/** True when the user is a secretary of the committee by default role. */
export function isCommitteeSecretary(db: Db, userId: number, committeeId: number): boolean {
  return !!db
    .select({ u: committeeMembers.userId })
    .from(committeeMembers)
    .where(and(eq(committeeMembers.committeeId, committeeId), eq(committeeMembers.userId, userId), eq(committeeMembers.defaultRole, 'secretary')))
    .get();
}

/**
 * The single rule for "may this user see this meeting": admins and the committee's secretaries
 * always; participants once it is published. Everyone else gets 404 — not 403 — so that a
 * member cannot even learn that a meeting they are not invited to exists.
 * @throws AppError not_found
 */
export function meetingAccess(db: Db, user: AuthUser, meetingId: number): MeetingAccess {
  const meeting = db.select().from(meetings).where(eq(meetings.id, meetingId)).get();
  if (!meeting) throw notFound('Meeting');
  const p = db
    .select()
    .from(meetingParticipants)
    .where(and(eq(meetingParticipants.meetingId, meetingId), eq(meetingParticipants.userId, user.id)))
    .get();
  const canManage = user.systemRole === 'admin' || isCommitteeSecretary(db, user.id, meeting.committeeId) || p?.role === 'secretary';
  if (!canManage && (!p || meeting.status === 'draft')) throw notFound('Meeting');
  return {
    meeting,
    role: p?.role ?? null,
    canVote: !!p?.canVote && p.role !== 'guest',
    canManage,
    canChair: canManage || p?.role === 'chair',
  };
}

/** Like `meetingAccess`, and the caller must be able to manage the meeting. */
export function requireManage(db: Db, user: AuthUser, meetingId: number): MeetingAccess {
  const a = meetingAccess(db, user, meetingId);
  if (!a.canManage) throw forbidden('Only the meeting secretary may do this');
  return a;
}

/** Like `meetingAccess`, and the caller must be able to chair the meeting. */
export function requireChair(db: Db, user: AuthUser, meetingId: number): MeetingAccess {
  const a = meetingAccess(db, user, meetingId);
  if (!a.canChair) throw forbidden('Only the chair may do this');
  return a;
}
