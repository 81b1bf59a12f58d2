import { and, eq } from 'drizzle-orm';
import type { Floor, SpeakerKind } from '../../shared/protocol/live.js';
import { LIVE_LIMITS } from '../../shared/protocol/live.js';
import { audit } from '../audit/audit.repo.js';
import type { AuthUser } from '../auth/sessions.js';
import type { Db } from '../db/client.js';
import { attendance, speakerRequests } from '../db/schema/index.js';
import { AppError, badRequest, forbidden, invalidState, notFound } from '../http/errors.js';
import type { MeetingAccess } from '../meetings/meetings.access.js';
import { endRunningTurn } from './live.repo.js';
import { PRESENT, currentItemId, queueOf, speakersState } from './live.state.js';

/*
 * The speakers' list and the floor: asking for it, withdrawing, the chair's grant, next, end and
 * reorder. Each takes the `Db` of the caller's transaction and throws AppError.
 */

/** Renumbers the waiting list of an item: points of order first, keeping the given order otherwise. */
function renumberQueue(db: Db, ids: number[]) {
  ids.forEach((id, i) => db.update(speakerRequests).set({ position: i }).where(eq(speakerRequests.id, id)).run());
}

/**
 * Asks for the floor on the current item. The caller must be a participant who is checked in and the
 * meeting live. A second request while one is waiting returns the existing one. Points of order go
 * before every other waiting request.
 */
export function requestFloor(db: Db, a: MeetingAccess, user: AuthUser, kind: SpeakerKind, now = Date.now()): number {
  if (a.meeting.status !== 'live') throw invalidState('The meeting is not in session');
  if (!a.role) throw forbidden('Only participants may ask for the floor');
  const att = db.select({ status: attendance.status }).from(attendance).where(and(eq(attendance.meetingId, a.meeting.id), eq(attendance.userId, user.id))).get();
  if (!att || !PRESENT.has(att.status)) throw new AppError('not_checked_in', 'Check in before asking for the floor', 409);
  const itemId = currentItemId(db, a.meeting.id);
  const queue = queueOf(db, a.meeting.id, itemId);
  const mine = queue.find((r) => r.userId === user.id);
  if (mine) return mine.id;
  const row = db
    .insert(speakerRequests)
    .values({ meetingId: a.meeting.id, agendaItemId: itemId, userId: user.id, kind, status: 'waiting', position: queue.length, requestedAt: now })
    .returning({ id: speakerRequests.id })
    .get();
  const ids = queue.map((r) => ({ id: r.id, kind: r.kind }));
  const firstOther = ids.findIndex((r) => r.kind !== 'point_of_order');
  if (kind === 'point_of_order' && firstOther >= 0) ids.splice(firstOther, 0, { id: row.id, kind });
  else ids.push({ id: row.id, kind });
  renumberQueue(
    db,
    ids.map((r) => r.id),
  );
  audit(db, { actorId: user.id, action: 'speaker.request', targetType: 'meeting', targetId: a.meeting.id, details: { requestId: row.id, kind } });
  return row.id;
}

function requestRow(db: Db, meetingId: number, requestId: number) {
  const r = db.select().from(speakerRequests).where(and(eq(speakerRequests.id, requestId), eq(speakerRequests.meetingId, meetingId))).get();
  if (!r) throw notFound('Request for the floor');
  return r;
}

/** Withdraws a waiting request: its author, or the chair. */
export function withdrawRequest(db: Db, a: MeetingAccess, user: AuthUser, requestId: number): void {
  const r = requestRow(db, a.meeting.id, requestId);
  if (r.userId !== user.id && !a.canChair) throw forbidden('Only the speaker or the chair may withdraw this request');
  if (r.status !== 'waiting') return; // already granted, withdrawn or removed: nothing to do
  db.update(speakerRequests).set({ status: 'withdrawn' }).where(eq(speakerRequests.id, requestId)).run();
  audit(db, { actorId: user.id, action: 'speaker.withdraw', targetType: 'meeting', targetId: a.meeting.id, details: { requestId } });
}

/** Removes a waiting request from the list. Chair only. */
export function removeRequest(db: Db, a: MeetingAccess, user: AuthUser, requestId: number): void {
  if (!a.canChair) throw forbidden('Only the chair may remove a speaker');
  const r = requestRow(db, a.meeting.id, requestId);
  if (r.status !== 'waiting') throw invalidState('Only a waiting request can be removed');
  db.update(speakerRequests).set({ status: 'removed' }).where(eq(speakerRequests.id, requestId)).run();
  audit(db, { actorId: user.id, action: 'speaker.remove', targetType: 'meeting', targetId: a.meeting.id, details: { requestId } });
}

/** Ends the running turn, if any, recording the time spoken. Returns whether one was running. */
export function endFloor(db: Db, meetingId: number, now = Date.now()): boolean {
  return endRunningTurn(db, meetingId, now);
}

/** Gives the floor to a waiting request (ending any running turn). Chair only. */
export function grantFloor(db: Db, a: MeetingAccess, user: AuthUser, p: { requestId: number; seconds?: number }, now = Date.now()): Floor {
  if (!a.canChair) throw forbidden('Only the chair may give the floor');
  if (a.meeting.status !== 'live') throw invalidState('The meeting is not in session');
  const r = requestRow(db, a.meeting.id, p.requestId);
  if (r.status !== 'waiting') throw invalidState('This request is no longer waiting');
  endFloor(db, a.meeting.id, now);
  const allotted = p.seconds ?? LIVE_LIMITS.defaultSeconds[r.kind];
  db.update(speakerRequests).set({ status: 'speaking', startedAt: now, allottedSeconds: allotted }).where(eq(speakerRequests.id, r.id)).run();
  audit(db, { actorId: user.id, action: 'speaker.grant', targetType: 'meeting', targetId: a.meeting.id, details: { requestId: r.id, userId: r.userId, seconds: allotted } });
  return speakersState(db, a.meeting.id).floor!;
}

/** Ends the running turn and gives the floor to the first waiting request of the current item (null if none). Chair only. */
export function nextSpeaker(db: Db, a: MeetingAccess, user: AuthUser, p: { seconds?: number }, now = Date.now()): Floor | null {
  if (!a.canChair) throw forbidden('Only the chair may give the floor');
  if (a.meeting.status !== 'live') throw invalidState('The meeting is not in session');
  const first = queueOf(db, a.meeting.id, currentItemId(db, a.meeting.id))[0];
  if (!first) {
    endFloor(db, a.meeting.id, now);
    return null;
  }
  return grantFloor(db, a, user, { requestId: first.id, seconds: p.seconds }, now);
}

/** Ends the running turn. Chair only. */
export function endTurn(db: Db, a: MeetingAccess, user: AuthUser, now = Date.now()): void {
  if (!a.canChair) throw forbidden('Only the chair may end the floor');
  if (endFloor(db, a.meeting.id, now)) audit(db, { actorId: user.id, action: 'speaker.end', targetType: 'meeting', targetId: a.meeting.id });
}

/** Sets the order of the current item's waiting list; `requestIds` must be exactly that list. Chair only. */
export function reorderQueue(db: Db, a: MeetingAccess, user: AuthUser, requestIds: number[]): void {
  if (!a.canChair) throw forbidden('Only the chair may reorder the speakers');
  const queue = queueOf(db, a.meeting.id, currentItemId(db, a.meeting.id));
  const waiting = new Set(queue.map((r) => r.id));
  if (requestIds.length !== waiting.size || new Set(requestIds).size !== requestIds.length || !requestIds.every((id) => waiting.has(id))) {
    throw badRequest('requestIds must list every waiting request of the current item exactly once');
  }
  renumberQueue(db, requestIds);
  audit(db, { actorId: user.id, action: 'speaker.reorder', targetType: 'meeting', targetId: a.meeting.id });
}
