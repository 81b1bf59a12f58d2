import { and, eq } from 'drizzle-orm';
import { audit } from '../audit/audit.repo.js';
import type { AuthUser } from '../auth/sessions.js';
import type { Db } from '../db/client.js';
import { attendance, meetingParticipants, users } from '../db/schema/index.js';
import { forbidden, invalidState, notFound } from '../http/errors.js';
import type { MeetingAccess } from '../meetings/meetings.access.js';
import { assertProxy } from '../votes/votes.rules.js';
import { nowIso } from './live.state.js';

/*
 * Attendance commands: checking in (in the room or remote), absences with their reason, proxies and
 * substitutes. Each takes the `Db` of the caller's transaction and throws AppError.
 */

function requireNotClosed(a: MeetingAccess) {
  if (a.meeting.status === 'closed') throw invalidState('The meeting is closed');
  if (a.meeting.status === 'draft') throw invalidState('The meeting is not published');
}

function participant(db: Db, meetingId: number, userId: number) {
  return db
    .select()
    .from(meetingParticipants)
    .where(and(eq(meetingParticipants.meetingId, meetingId), eq(meetingParticipants.userId, userId)))
    .get();
}

/** The target of an attendance command: the caller, or (secretary only) someone else on the list. */
function attendanceTarget(db: Db, a: MeetingAccess, user: AuthUser, userId: number | undefined): number {
  const target = userId ?? user.id;
  if (target !== user.id && !a.canManage) throw forbidden('Only the secretary may record attendance for someone else');
  if (!participant(db, a.meeting.id, target)) throw notFound('Participant');
  return target;
}

function upsertAttendance(
  db: Db,
  meetingId: number,
  userId: number,
  values: { status: 'in_room' | 'remote' | 'absent' | 'proxy'; reason: string | null; proxyHolderId: number | null; proxyKind?: 'vote' | 'substitute'; recordedBy: number },
) {
  const row = { proxyKind: null, ...values, updatedAt: nowIso() };
  db.insert(attendance)
    .values({ meetingId, userId, ...row })
    .onConflictDoUpdate({ target: [attendance.meetingId, attendance.userId], set: row })
    .run();
}

/** Checks a participant in (in the room or remote); someone else only by the secretary. */
export function checkIn(db: Db, a: MeetingAccess, user: AuthUser, p: { userId?: number; mode: 'in_room' | 'remote' }): void {
  requireNotClosed(a);
  const target = attendanceTarget(db, a, user, p.userId);
  upsertAttendance(db, a.meeting.id, target, { status: p.mode, reason: null, proxyHolderId: null, recordedBy: user.id });
  audit(db, { actorId: user.id, action: 'attendance.check_in', targetType: 'meeting', targetId: a.meeting.id, details: { userId: target, mode: p.mode } });
}

/** Records an absence with its reason (the participant themself or the secretary). */
export function markAbsent(db: Db, a: MeetingAccess, user: AuthUser, p: { userId?: number; reason: string }): void {
  requireNotClosed(a);
  const target = attendanceTarget(db, a, user, p.userId);
  upsertAttendance(db, a.meeting.id, target, { status: 'absent', reason: p.reason, proxyHolderId: null, recordedBy: user.id });
  audit(db, { actorId: user.id, action: 'attendance.absent', targetType: 'meeting', targetId: a.meeting.id, details: { userId: target } });
}

/**
 * Records (or, with `holderId` null, removes) a proxy for the member `userId`: a vote proxy or an
 * attendance substitute (`kind`), as a paper authorization with its reason (the secretary) or from the
 * member's own account. The rules are shared/rules/proxies.ts, the same as vote:delegate's (holder with a
 * voting right for a vote proxy, never the room station or the recorder, giver absent, the committee's
 * limit, no chains). Chair and secretaries see it in the attendance list; it is audited.
 * @throws forbidden, not_found, invalid_state, and every ProxyRefusal code
 */
export function setProxy(db: Db, a: MeetingAccess, user: AuthUser, p: { userId: number; holderId: number | null; kind?: 'vote' | 'substitute'; reason?: string }): void {
  requireNotClosed(a);
  if (!a.canManage && p.userId !== user.id) throw forbidden('Only the secretary may record a proxy for someone else');
  if (!participant(db, a.meeting.id, p.userId)) throw notFound('Participant');
  const kind = p.kind ?? 'vote';
  if (p.holderId == null) {
    db.delete(attendance)
      .where(and(eq(attendance.meetingId, a.meeting.id), eq(attendance.userId, p.userId), eq(attendance.status, 'proxy')))
      .run();
  } else {
    const holder = db.select({ id: users.id }).from(users).where(and(eq(users.id, p.holderId), eq(users.active, true))).get();
    if (!holder) throw notFound('Proxy holder');
    assertProxy(db, { meetingId: a.meeting.id, committeeId: a.meeting.committeeId, kind, giverId: p.userId, holderId: p.holderId, recordedBy: user.id, reason: p.reason ?? null });
    upsertAttendance(db, a.meeting.id, p.userId, { status: 'proxy', reason: p.reason ?? null, proxyHolderId: p.holderId, proxyKind: kind, recordedBy: user.id });
  }
  audit(db, { actorId: user.id, action: 'attendance.proxy', targetType: 'meeting', targetId: a.meeting.id, details: { userId: p.userId, holderId: p.holderId, kind, reason: p.reason ?? null } });
}
