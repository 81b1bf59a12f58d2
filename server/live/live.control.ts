import { and, eq } from 'drizzle-orm';
import { insertTopLevelItem, setCurrentItem, setItemStatus } from '../agenda/agenda.service.js';
import { audit } from '../audit/audit.repo.js';
import type { AuthUser } from '../auth/sessions.js';
import { agendaItems, liveState } from '../db/tables.js';
import { documentAccess } from '../documents/documents.access.js';
import { AppError, forbidden, invalidState, notFound } from '../http/errors.js';
import type { MeetingAccess } from '../meetings/meetings.access.js';
import { bumpAgendaVersion, setMeetingStatus } from '../meetings/meetings.service.js';
import { endFloor } from './live.floor.js';
import { agendaTree, floorNow } from './live.repo.js';
import { type AvFloorSettings, type LiveDb, currentItemId, loadAttendanceState, nowIso, presenterState } from './live.state.js';

/*
 * The chair's control of the session: opening (with the quorum), pausing, resuming, closing; the
 * current agenda item, item statuses and urgent items; what the presenter shows. Each runs inside the
 * caller's transaction (`store.tx`; the agenda, meetings and documents helpers still synchronous on its
 * `db`) and throws AppError.
 */

function requireRunning(a: MeetingAccess) {
  if (a.meeting.status !== 'live' && a.meeting.status !== 'paused') throw invalidState('The meeting is not in session');
}

async function ensureLiveRow(l: LiveDb, meetingId: number) {
  await l.store.q.insert(liveState).values({ meetingId }).onConflictDoNothing();
}

/**
 * Opens the meeting (published → live). Only with a quorum, unless the chair gives an
 * `overrideReason`, which is recorded. The first pending agenda item becomes current if none is.
 */
export async function openMeeting(l: LiveDb, a: MeetingAccess, user: AuthUser, p: { overrideReason?: string }): Promise<void> {
  if (!a.canChair) throw forbidden('Only the chair may open the meeting');
  if (a.meeting.status !== 'published') throw invalidState(a.meeting.status === 'draft' ? 'The meeting is not published' : 'The meeting has already been opened');
  const q = (await loadAttendanceState(l.store, a.meeting.id)).quorum;
  if (!q.met && !p.overrideReason) throw new AppError('no_quorum', `No quorum (${q.sentence}); give a reason to open anyway`, 409);
  await setMeetingStatus(l.store.q, a.meeting.id, 'live');
  await ensureLiveRow(l, a.meeting.id);
  await l.store.q
    .update(liveState)
    .set({ openedAt: nowIso(), openOverrideReason: q.met ? null : p.overrideReason })
    .where(eq(liveState.meetingId, a.meeting.id));
  if ((await currentItemId(l.store, a.meeting.id)) == null) {
    const first = (await orderedItems(l.store, a.meeting.id)).find((i) => i.status === 'pending');
    if (first) await setCurrent(l, a.meeting.id, first.id, 'pending');
  }
  await audit(l.store.q, { actorId: user.id, action: 'meeting.open', targetType: 'meeting', targetId: a.meeting.id, details: { quorum: q.sentence, ...(q.met ? {} : { overrideReason: p.overrideReason }) } });
}

/** live → paused, paused → live, live|paused → closed (ends any running turn). Chair only. */
export async function changeStatus(l: LiveDb, a: MeetingAccess, user: AuthUser, action: 'pause' | 'resume' | 'close', now = Date.now()): Promise<void> {
  if (!a.canChair) throw forbidden('Only the chair may do this');
  const from = a.meeting.status;
  const ok = action === 'pause' ? from === 'live' : action === 'resume' ? from === 'paused' : from === 'live' || from === 'paused';
  if (!ok) throw invalidState(`Cannot ${action} a meeting that is ${from}`);
  await setMeetingStatus(l.store.q, a.meeting.id, action === 'pause' ? 'paused' : action === 'resume' ? 'live' : 'closed');
  if (action === 'close') {
    await endFloor(l, a.meeting.id, now);
    await ensureLiveRow(l, a.meeting.id);
    await l.store.q.update(liveState).set({ closedAt: nowIso(), presenterId: null, documentId: null, page: null, zoom: null }).where(eq(liveState.meetingId, a.meeting.id));
  }
  await audit(l.store.q, { actorId: user.id, action: `meeting.${action}`, targetType: 'meeting', targetId: a.meeting.id });
}

const orderedItems = agendaTree;
const bumpAgenda = bumpAgendaVersion;
const setCurrent = setCurrentItem;

/**
 * Moves the current agenda item: `goto` any item, `next` (the current one is marked done) or
 * `previous` (the current one goes back to pending). A running turn ends. Chair only.
 * Returns the new current item id (null past the end).
 */
export async function moveCurrent(l: LiveDb, a: MeetingAccess, user: AuthUser, to: { goto: number } | 'next' | 'previous', now = Date.now()): Promise<number | null> {
  if (!a.canChair) throw forbidden('Only the chair may move through the agenda');
  requireRunning(a);
  const items = await orderedItems(l.store, a.meeting.id);
  const cur = items.findIndex((i) => i.status === 'current');
  let target: number | null;
  if (typeof to === 'object') {
    if (!items.some((i) => i.id === to.goto)) throw notFound('Agenda item');
    target = to.goto;
  } else if (to === 'next') {
    target = items[cur + 1]?.id ?? null; // cur = -1: the first item
    if (cur === -1 && target == null) throw invalidState('The agenda is empty');
    if (cur >= 0 && target == null) throw invalidState('This is the last agenda item');
  } else {
    if (cur <= 0) throw invalidState('This is the first agenda item');
    target = items[cur - 1].id;
  }
  if (cur >= 0 && items[cur].id === target) return target;
  await endFloor(l, a.meeting.id, now);
  await setCurrent(l, a.meeting.id, target, to === 'next' ? 'done' : 'pending');
  await audit(l.store.q, { actorId: user.id, action: 'agenda.current', targetType: 'meeting', targetId: a.meeting.id, details: { itemId: target } });
  return target;
}

/** Marks an item done, deferred or pending again (a current item stops being current). Chair only. */
export async function markItem(l: LiveDb, a: MeetingAccess, user: AuthUser, p: { itemId: number; status: 'done' | 'deferred' | 'pending' }, now = Date.now()): Promise<void> {
  if (!a.canChair) throw forbidden('Only the chair may change an item’s status');
  requireRunning(a);
  const [item] = await l.store.q.select().from(agendaItems).where(and(eq(agendaItems.id, p.itemId), eq(agendaItems.meetingId, a.meeting.id))).limit(1);
  if (!item) throw notFound('Agenda item');
  if (item.status === 'current') await endFloor(l, a.meeting.id, now);
  await setItemStatus(l, a.meeting.id, p.itemId, p.status);
  await audit(l.store.q, { actorId: user.id, action: 'agenda.mark', targetType: 'meeting', targetId: a.meeting.id, details: { itemId: p.itemId, status: p.status } });
}

/** Adds an urgent item right after the current one (or at the end), optionally making it current. Chair only. */
export async function addUrgentItem(l: LiveDb, a: MeetingAccess, user: AuthUser, p: { title: string; durationMinutes?: number; makeCurrent: boolean }, now = Date.now()): Promise<number> {
  if (!a.canChair) throw forbidden('Only the chair may add an urgent item');
  requireRunning(a);
  const items = await orderedItems(l.store, a.meeting.id);
  const cur = items.find((i) => i.status === 'current');
  // Insert among the top-level items, after the top-level ancestor of the current item.
  let anchor = cur;
  while (anchor?.parentId != null) anchor = items.find((i) => i.id === anchor!.parentId);
  const top = items.filter((i) => i.parentId == null);
  const at = anchor ? anchor.position + 1 : top.length;
  const itemId = await insertTopLevelItem(l.store, a.meeting.id, at, top, { title: p.title, durationMinutes: p.durationMinutes ?? null });
  if (p.makeCurrent) {
    await endFloor(l, a.meeting.id, now);
    await setCurrent(l, a.meeting.id, itemId, 'pending');
  } else await bumpAgenda(l.store.q, a.meeting.id);
  await audit(l.store.q, { actorId: user.id, action: 'agenda.add_urgent', targetType: 'meeting', targetId: a.meeting.id, details: { itemId, title: p.title } });
  return itemId;
}

/**
 * Records what the presenter shows. Allowed to the chair/secretary, the current item's presenter and
 * whoever has the floor. The last one to show a page is the presenter (a handover: the others' tablets
 * stop presenting and follow). Stopping (`p` null) ends anyone's presentation for the chair; for the
 * others it ends only their own — a late "stop" from a former presenter leaves the new one presenting.
 */
export async function showPage(l: LiveDb, a: MeetingAccess, user: AuthUser, p: { documentId: number; page: number; zoom?: number } | null): Promise<void> {
  requireRunning(a);
  const mayPresent =
    a.canChair ||
    (await l.store.q
      .select({ id: agendaItems.id })
      .from(agendaItems)
      .where(and(eq(agendaItems.meetingId, a.meeting.id), eq(agendaItems.status, 'current'), eq(agendaItems.presenterId, user.id)))
      .limit(1)).length > 0 ||
    (await floorNow(l.store, a.meeting.id))?.userId === user.id;
  if (!mayPresent) throw forbidden('Only the chair, the item’s presenter or the current speaker may present');
  if (!p && !a.canChair && (await presenterState(l.store, a.meeting.id))?.presenterId !== user.id) return;
  // Only a document of this meeting that the presenter may see (documentAccess throws not_found otherwise).
  if (p && (await documentAccess(l.store, user, p.documentId)).document.meetingId !== a.meeting.id) throw notFound('Document');
  await ensureLiveRow(l, a.meeting.id);
  await l.store.q
    .update(liveState)
    .set(p ? { presenterId: user.id, documentId: p.documentId, page: p.page, zoom: p.zoom ?? 1 } : { presenterId: null, documentId: null, page: null, zoom: null })
    .where(eq(liveState.meetingId, a.meeting.id));
}

/**
 * Saves the A/V floor the chair set (server/sfu calls it inside its own transaction, fenced by the meeting's lease):
 * the node that runs the meeting next enforces the same (#18). A/V opens with the meeting published, so the row may not exist yet.
 */
export async function saveAvFloorSettings(l: Pick<LiveDb, 'store'>, meetingId: number, s: AvFloorSettings): Promise<void> {
  const set = { floorOpenDiscussion: s.openDiscussion, floorChairMuted: s.chairMuted };
  await l.store.q.insert(liveState).values({ meetingId, ...set }).onConflictDoUpdate({ target: liveState.meetingId, set });
}
