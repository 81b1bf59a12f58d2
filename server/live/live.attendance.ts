import { and, eq } from 'drizzle-orm';
import { audit } from '../audit/audit.repo.js';
import type { AuthUser } from '../auth/sessions.js';
import { attendance, meetingParticipants, users } from '../db/tables.js';
import { forbidden, invalidState, notFound } from '../http/errors.js';
import type { MeetingAccess } from '../meetings/meetings.access.js';
import { assertProxy } from '../votes/votes.rules.js';
import { type LiveDb, nowIso } from './live.state.js';

/*
 * Attendance commands: checking in (in the room or remote), absences with their reason, proxies and
 * substitutes. Each runs inside the caller's transaction (`store.tx`) and throws AppError.
 */

function requireNotClosed(a: MeetingAccess) {
  if (a.meeting.status === 'closed') throw invalidState('The meeting is closed');
  if (a.meeting.status === 'draft') throw invalidState('The meeting is not published');
}

async function participant(l: LiveDb, meetingId: number, userId: number) {
  const [row] = await l.store.q
    .select()
    .from(meetingParticipants)
    .where(and(eq(meetingParticipants.meetingId, meetingId), eq(meetingParticipants.userId, userId)))
    .limit(1);
  return row;
}

/** The target of an attendance command: the caller, or (secretary only) someone else on the list. */
async function attendanceTarget(l: LiveDb, a: MeetingAccess, user: AuthUser, userId: number | undefined): Promise<number> {
  const target = userId ?? user.id;
  if (target !== user.id && !a.canManage) throw forbidden('Only the secretary may record attendance for someone else');
  if (!(await participant(l, a.meeting.id, target))) throw notFound('Participant');
  return target;
}

async function upsertAttendance(
  l: LiveDb,
  meetingId: number,
  userId: number,
  values: { status: 'in_room' | 'remote' | 'absent' | 'proxy'; reason: string | null; proxyHolderId: number | null; proxyKind?: 'vote' | 'substitute'; recordedBy: number },
) {
  const row = { proxyKind: null, ...values, updatedAt: nowIso() };
  await l.store.q
    .insert(attendance)
    .values({ meetingId, userId, ...row })
    .onConflictDoUpdate({ target: [attendance.meetingId, attendance.userId], set: row });
}

/** Checks a participant in (in the room or remote); someone else only by the secretary. */
export async function checkIn(l: LiveDb, a: MeetingAccess, user: AuthUser, p: { userId?: number; mode: 'in_room' | 'remote' }): Promise<void> {
  requireNotClosed(a);
  const target = await attendanceTarget(l, a, user, p.userId);
  await upsertAttendance(l, a.meeting.id, target, { status: p.mode, reason: null, proxyHolderId: null, recordedBy: user.id });
  await audit(l.store.q, { actorId: user.id, action: 'attendance.check_in', targetType: 'meeting', targetId: a.meeting.id, details: { userId: target, mode: p.mode } });
}

/** Records an absence with its reason (the participant themself or the secretary). */
export async function markAbsent(l: LiveDb, a: MeetingAccess, user: AuthUser, p: { userId?: number; reason: string }): Promise<void> {
  requireNotClosed(a);
  const target = await attendanceTarget(l, a, user, p.userId);
  await upsertAttendance(l, a.meeting.id, target, { status: 'absent', reason: p.reason, proxyHolderId: null, recordedBy: user.id });
  await audit(l.store.q, { actorId: user.id, action: 'attendance.absent', targetType: 'meeting', targetId: a.meeting.id, details: { userId: target } });
}

/**
 * Records (or, with `holderId` null, removes) a proxy for the member `userId`: a vote proxy or an
 * attendance substitute (`kind`), as a paper authorization with its reason (the secretary) or from the
 * member's own account. The rules are shared/rules/proxies.ts, the same as vote:delegate's (holder with a
 * voting right for a vote proxy, never the room station or the recorder, giver absent, the committee's
 * limit, no chains). Chair and secretaries see it in the attendance list; it is audited.
 * @throws forbidden, not_found, invalid_state, and every ProxyRefusal code
 */
export async function setProxy(l: LiveDb, a: MeetingAccess, user: AuthUser, p: { userId: number; holderId: number | null; kind?: 'vote' | 'substitute'; reason?: string }): Promise<void> {
  requireNotClosed(a);
  if (!a.canManage && p.userId !== user.id) throw forbidden('Only the secretary may record a proxy for someone else');
  if (!(await participant(l, a.meeting.id, p.userId))) throw notFound('Participant');
  const kind = p.kind ?? 'vote';
  if (p.holderId == null) {
    await l.store.q.delete(attendance).where(and(eq(attendance.meetingId, a.meeting.id), eq(attendance.userId, p.userId), eq(attendance.status, 'proxy')));
  } else {
    const [holder] = await l.store.q.select({ id: users.id }).from(users).where(and(eq(users.id, p.holderId), eq(users.active, true))).limit(1);
    if (!holder) throw notFound('Proxy holder');
    await assertProxy(l.store, { meetingId: a.meeting.id, committeeId: a.meeting.committeeId, kind, giverId: p.userId, holderId: p.holderId, recordedBy: user.id, reason: p.reason ?? null });
    await upsertAttendance(l, a.meeting.id, p.userId, { status: 'proxy', reason: p.reason ?? null, proxyHolderId: p.holderId, proxyKind: kind, recordedBy: user.id });
  }
  await audit(l.store.q, { actorId: user.id, action: 'attendance.proxy', targetType: 'meeting', targetId: a.meeting.id, details: { userId: p.userId, holderId: p.holderId, kind, reason: p.reason ?? null } });
}
