import { and, eq } from 'drizzle-orm';
import type { Floor, SpeakerKind } from '../../shared/protocol/live.js';
import { LIVE_LIMITS } from '../../shared/protocol/live.js';
import { audit } from '../audit/audit.repo.js';
import type { AuthUser } from '../auth/sessions.js';
import { attendance, speakerRequests } from '../db/tables.js';
import { AppError, badRequest, forbidden, invalidState, notFound } from '../http/errors.js';
import type { MeetingAccess } from '../meetings/meetings.access.js';
import { endRunningTurn, queueOf } from './live.repo.js';
import { type LiveDb, PRESENT, currentItemId, loadSpeakersState } from './live.state.js';

/*
 * The speakers' list and the floor: asking for it, withdrawing, the chair's grant, next, end and
 * reorder. Each runs inside the caller's transaction (`store.tx`) and throws AppError.
 */

/** Renumbers the waiting list of an item: points of order first, keeping the given order otherwise. */
async function renumberQueue(l: LiveDb, ids: number[]) {
  for (const [i, id] of ids.entries()) await l.store.q.update(speakerRequests).set({ position: i }).where(eq(speakerRequests.id, id));
}

/**
 * Asks for the floor on the current item. The caller must be a participant who is checked in and the
 * meeting live. A second request while one is waiting returns the existing one. Points of order go
 * before every other waiting request.
 */
export async function requestFloor(l: LiveDb, a: MeetingAccess, user: AuthUser, kind: SpeakerKind, now = Date.now()): Promise<number> {
  if (a.meeting.status !== 'live') throw invalidState('The meeting is not in session');
  if (!a.role) throw forbidden('Only participants may ask for the floor');
  const [att] = await l.store.q.select({ status: attendance.status }).from(attendance).where(and(eq(attendance.meetingId, a.meeting.id), eq(attendance.userId, user.id))).limit(1);
  if (!att || !PRESENT.has(att.status)) throw new AppError('not_checked_in', 'Check in before asking for the floor', 409);
  const itemId = await currentItemId(l.store, a.meeting.id);
  const queue = await queueOf(l.store, a.meeting.id, itemId);
  const mine = queue.find((r) => r.userId === user.id);
  if (mine) return mine.id;
  const [row] = await l.store.q
    .insert(speakerRequests)
    .values({ meetingId: a.meeting.id, agendaItemId: itemId, userId: user.id, kind, status: 'waiting', position: queue.length, requestedAt: now })
    .returning({ id: speakerRequests.id });
  const ids = queue.map((r) => ({ id: r.id, kind: r.kind }));
  const firstOther = ids.findIndex((r) => r.kind !== 'point_of_order');
  if (kind === 'point_of_order' && firstOther >= 0) ids.splice(firstOther, 0, { id: row.id, kind });
  else ids.push({ id: row.id, kind });
  await renumberQueue(
    l,
    ids.map((r) => r.id),
  );
  await audit(l.store.q, { actorId: user.id, action: 'speaker.request', targetType: 'meeting', targetId: a.meeting.id, details: { requestId: row.id, kind } });
  return row.id;
}

async function requestRow(l: LiveDb, meetingId: number, requestId: number) {
  const [r] = await l.store.q.select().from(speakerRequests).where(and(eq(speakerRequests.id, requestId), eq(speakerRequests.meetingId, meetingId))).limit(1);
  if (!r) throw notFound('Request for the floor');
  return r;
}

/** Withdraws a waiting request: its author, or the chair. */
export async function withdrawRequest(l: LiveDb, a: MeetingAccess, user: AuthUser, requestId: number): Promise<void> {
  const r = await requestRow(l, a.meeting.id, requestId);
  if (r.userId !== user.id && !a.canChair) throw forbidden('Only the speaker or the chair may withdraw this request');
  if (r.status !== 'waiting') return; // already granted, withdrawn or removed: nothing to do
  await l.store.q.update(speakerRequests).set({ status: 'withdrawn' }).where(eq(speakerRequests.id, requestId));
  await audit(l.store.q, { actorId: user.id, action: 'speaker.withdraw', targetType: 'meeting', targetId: a.meeting.id, details: { requestId } });
}

/** Removes a waiting request from the list. Chair only. */
export async function removeRequest(l: LiveDb, a: MeetingAccess, user: AuthUser, requestId: number): Promise<void> {
  if (!a.canChair) throw forbidden('Only the chair may remove a speaker');
  const r = await requestRow(l, a.meeting.id, requestId);
  if (r.status !== 'waiting') throw invalidState('Only a waiting request can be removed');
  await l.store.q.update(speakerRequests).set({ status: 'removed' }).where(eq(speakerRequests.id, requestId));
  await audit(l.store.q, { actorId: user.id, action: 'speaker.remove', targetType: 'meeting', targetId: a.meeting.id, details: { requestId } });
}

/** Ends the running turn, if any, recording the time spoken. Returns whether one was running. */
export function endFloor(l: LiveDb, meetingId: number, now = Date.now()): Promise<boolean> {
  return endRunningTurn(l.store, meetingId, now);
}

/** Gives the floor to a waiting request (ending any running turn). Chair only. */
export async function grantFloor(l: LiveDb, a: MeetingAccess, user: AuthUser, p: { requestId: number; seconds?: number }, now = Date.now()): Promise<Floor> {
  if (!a.canChair) throw forbidden('Only the chair may give the floor');
  if (a.meeting.status !== 'live') throw invalidState('The meeting is not in session');
  const r = await requestRow(l, a.meeting.id, p.requestId);
  if (r.status !== 'waiting') throw invalidState('This request is no longer waiting');
  await endFloor(l, a.meeting.id, now);
  const allotted = p.seconds ?? LIVE_LIMITS.defaultSeconds[r.kind];
  await l.store.q.update(speakerRequests).set({ status: 'speaking', startedAt: now, allottedSeconds: allotted }).where(eq(speakerRequests.id, r.id));
  await audit(l.store.q, { actorId: user.id, action: 'speaker.grant', targetType: 'meeting', targetId: a.meeting.id, details: { requestId: r.id, userId: r.userId, seconds: allotted } });
  return (await loadSpeakersState(l.store, a.meeting.id)).floor!;
}

/** Ends the running turn and gives the floor to the first waiting request of the current item (null if none). Chair only. */
export async function nextSpeaker(l: LiveDb, a: MeetingAccess, user: AuthUser, p: { seconds?: number }, now = Date.now()): Promise<Floor | null> {
  if (!a.canChair) throw forbidden('Only the chair may give the floor');
  if (a.meeting.status !== 'live') throw invalidState('The meeting is not in session');
  const [first] = await queueOf(l.store, a.meeting.id, await currentItemId(l.store, a.meeting.id));
  if (!first) {
    await endFloor(l, a.meeting.id, now);
    return null;
  }
  return grantFloor(l, a, user, { requestId: first.id, seconds: p.seconds }, now);
}

/** Ends the running turn. Chair only. */
export async function endTurn(l: LiveDb, a: MeetingAccess, user: AuthUser, now = Date.now()): Promise<void> {
  if (!a.canChair) throw forbidden('Only the chair may end the floor');
  if (await endFloor(l, a.meeting.id, now)) await audit(l.store.q, { actorId: user.id, action: 'speaker.end', targetType: 'meeting', targetId: a.meeting.id });
}

/** Sets the order of the current item's waiting list; `requestIds` must be exactly that list. Chair only. */
export async function reorderQueue(l: LiveDb, a: MeetingAccess, user: AuthUser, requestIds: number[]): Promise<void> {
  if (!a.canChair) throw forbidden('Only the chair may reorder the speakers');
  const queue = await queueOf(l.store, a.meeting.id, await currentItemId(l.store, a.meeting.id));
  const waiting = new Set(queue.map((r) => r.id));
  if (requestIds.length !== waiting.size || new Set(requestIds).size !== requestIds.length || !requestIds.every((id) => waiting.has(id))) {
    throw badRequest('requestIds must list every waiting request of the current item exactly once');
  }
  await renumberQueue(l, requestIds);
  await audit(l.store.q, { actorId: user.id, action: 'speaker.reorder', targetType: 'meeting', targetId: a.meeting.id });
}
