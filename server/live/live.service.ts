import { and, asc, eq, sql } from 'drizzle-orm';
import type {
  AttendanceEntry,
  AttendanceState,
  Floor,
  LiveSnapshot,
  MeetingLiveState,
  PresenterState,
  SpeakerKind,
  SpeakersState,
} from '../../shared/protocol/live.js';
import { LIVE_LIMITS } from '../../shared/protocol/live.js';
import { orderAgenda } from '../../shared/rules/agenda.js';
import { computeQuorum, quorumSentence } from '../../shared/rules/quorum.js';
import { computeRoll } from '../../shared/rules/roll.js';
import { assertProxy, committeeVoteSettings, ownDelegations, proxySettings } from '../votes/votes.rules.js';
import { insertTopLevelItem, readAgenda, setCurrentItem, setItemStatus } from '../agenda/agenda.service.js';
import { agendaTree, endRunningTurn, floorNow, speakersNow } from './live.repo.js';
import { audit } from '../audit/audit.repo.js';
import type { AuthUser } from '../auth/sessions.js';
import { type Db, perDb } from '../db/client.js';
import { agendaItems, attendance, liveState, meetingParticipants, meetings, speakerRequests, users } from '../db/schema/index.js';
import { AppError, badRequest, forbidden, invalidState, notFound } from '../http/errors.js';
import type { MeetingAccess } from '../meetings/meetings.access.js';
import { bumpAgendaVersion, setMeetingStatus } from '../meetings/meetings.service.js';
import { documentAccess } from '../documents/documents.access.js';

/*
 * The rules of the live meeting: attendance and quorum, opening/pausing/closing, the current agenda
 * item, the speakers' list and the floor, what the presenter shows. Every write function takes the
 * `Db` of an open transaction (the caller runs it in one `tx`) and throws AppError; nothing here knows
 * about sockets. Read functions are the seams other domains use (votes: `attendanceSummary`;
 * minutes: `speakingTimes`).
 */

const PRESENT = new Set(['in_room', 'remote']);

// ---------------------------------------------------------------------------------------------
// Reads

const ROLE_ORDER = { chair: 0, secretary: 1, member: 2, guest: 3 } as const;

/** Vietnamese name order; one collator (a `localeCompare(…, 'vi')` per comparison costs 4× more). */
const byName = new Intl.Collator('vi');

interface ParticipantRow {
  userId: number;
  role: 'chair' | 'secretary' | 'member' | 'guest';
  canVote: boolean;
  fullName: string;
  title: string | null;
  status: 'in_room' | 'remote' | 'absent' | 'proxy' | null;
  reason: string | null;
  proxyHolderId: number | null;
  proxyKind: 'vote' | 'substitute' | null;
}

/**
 * Participants with their attendance rows, in list order (chair, secretary, members, guests; by name).
 * They are read for every `meeting:join` snapshot and attendance push: at 1,000 participants the query
 * alone costs ~3.5 ms and the sort ~1 ms, so when 1,000 tablets connect at the start of an assembly
 * (or reconnect after a Wi-Fi drop) the same rows would be read a thousand times. They are cached per
 * meeting and keyed by `total_changes()` of the connection, which every write through it (all writes
 * to these tables) increments, and by `data_version`, which changes when another connection commits:
 * any change re-reads them. Callers must not mutate the result.
 */
const participantCache = perDb(({ $client: c }) => ({
  rows: c.prepare<[number], Omit<ParticipantRow, 'canVote'> & { canVote: number }>(
    `SELECT p.user_id AS userId, p.role AS role, p.can_vote AS canVote, u.full_name AS fullName, u.title AS title,
            a.status AS status, a.reason AS reason, a.proxy_holder_id AS proxyHolderId, a.proxy_kind AS proxyKind
       FROM meeting_participants p
       JOIN users u ON u.id = p.user_id
       LEFT JOIN attendance a ON a.meeting_id = p.meeting_id AND a.user_id = p.user_id
      WHERE p.meeting_id = ?`,
  ),
  changes: c.prepare<[], string>("SELECT total_changes() || ':' || (SELECT data_version FROM pragma_data_version())").pluck(),
  byMeeting: new Map<number, { key: string; rows: ParticipantRow[] }>(),
}));
function participantRows(db: Db, meetingId: number): readonly ParticipantRow[] {
  const c = participantCache(db);
  const key = c.changes.get()!;
  const hit = c.byMeeting.get(meetingId);
  if (hit && hit.key === key) return hit.rows;
  const rows = c.rows
    .all(meetingId)
    .map((r) => ({ ...r, canVote: r.canVote === 1 }))
    .sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || byName.compare(a.fullName, b.fullName));
  c.byMeeting.delete(meetingId);
  c.byMeeting.set(meetingId, { key, rows });
  if (c.byMeeting.size > 64) c.byMeeting.delete(c.byMeeting.keys().next().value!);
  return rows;
}

/** Who counts as present: the one definition of shared/rules/roll.ts (checked in, or represented by a present holder). */
function presentSet(db: Db, meetingId: number, committeeId: number, rows: readonly ParticipantRow[]): Set<number> {
  return new Set(computeRoll({ participants: rows, delegations: ownDelegations(db, meetingId), settings: proxySettings(committeeVoteSettings(db, committeeId)), voters: new Set() }).presentIds);
}

/** Attendance of every participant and the quorum ("18/25 present, quorum 13: met"). */
export function attendanceState(db: Db, meetingId: number, online: Set<number> = new Set()): AttendanceState {
  const m = db.select({ rule: meetings.quorumRule, committeeId: meetings.committeeId }).from(meetings).where(eq(meetings.id, meetingId)).get();
  if (!m) throw notFound('Meeting');
  const rows = participantRows(db, meetingId);
  const present = presentSet(db, meetingId, m.committeeId, rows);
  const voters = rows.filter((r) => r.canVote && r.role !== 'guest');
  const q = computeQuorum(m.rule, voters.length, voters.filter((r) => present.has(r.userId)).length);
  const entries: AttendanceEntry[] = rows.map((r) => ({
    userId: r.userId,
    fullName: r.fullName,
    title: r.title,
    role: r.role,
    canVote: r.canVote && r.role !== 'guest',
    status: r.status ?? null,
    reason: r.reason ?? null,
    proxyHolderId: r.proxyHolderId ?? null,
    proxyKind: r.status === 'proxy' ? (r.proxyKind ?? 'vote') : null,
    online: online.has(r.userId),
  }));
  return { attendance: entries, quorum: { ...q, sentence: quorumSentence(q) } };
}

/** Who is present and who delegated to whom; what the votes domain needs. */
export interface AttendanceSummary {
  /** Participants checked in (in the room or remote). */
  present: number[];
  /** Proxies: `from` delegated their attendance (and vote) to `to`; `counted` when `to` is present or an outside person. */
  proxies: { from: number; to: number; counted: boolean }[];
  /** Participants recorded absent. */
  absent: number[];
}

/**
 * Attendance of a meeting as plain ids: present participants, proxies and absences.
 * @throws nothing; an unknown meeting gives empty lists.
 */
export function attendanceSummary(db: Db, meetingId: number): AttendanceSummary {
  const rows = participantRows(db, meetingId);
  const committeeId = db.select({ c: meetings.committeeId }).from(meetings).where(eq(meetings.id, meetingId)).get()?.c;
  const counted = committeeId === undefined ? new Set<number>() : presentSet(db, meetingId, committeeId, rows);
  return {
    present: rows.filter((r) => r.status && PRESENT.has(r.status)).map((r) => r.userId),
    proxies: rows.filter((r) => r.status === 'proxy' && r.proxyHolderId != null).map((r) => ({ from: r.userId, to: r.proxyHolderId!, counted: counted.has(r.userId) })),
    absent: rows.filter((r) => r.status === 'absent').map((r) => r.userId),
  };
}

/** Speaking time per person and agenda item, in seconds (a running turn counts up to `now`). For the minutes. */
export function speakingTimes(db: Db, meetingId: number, now = Date.now()): { userId: number; fullName: string; agendaItemId: number | null; seconds: number; turns: number }[] {
  const rows = db
    .select({ userId: speakerRequests.userId, fullName: users.fullName, agendaItemId: speakerRequests.agendaItemId, status: speakerRequests.status, startedAt: speakerRequests.startedAt, spokenMs: speakerRequests.spokenMs })
    .from(speakerRequests)
    .innerJoin(users, eq(users.id, speakerRequests.userId))
    .where(and(eq(speakerRequests.meetingId, meetingId), sql`${speakerRequests.startedAt} is not null`))
    .orderBy(asc(speakerRequests.startedAt))
    .all();
  const out = new Map<string, { userId: number; fullName: string; agendaItemId: number | null; seconds: number; turns: number }>();
  for (const r of rows) {
    const key = `${r.userId}:${r.agendaItemId}`;
    const e = out.get(key) ?? { userId: r.userId, fullName: r.fullName, agendaItemId: r.agendaItemId, seconds: 0, turns: 0 };
    const ms = r.status === 'speaking' && r.startedAt != null ? now - r.startedAt : r.spokenMs;
    e.seconds = Math.round((e.seconds * 1000 + ms) / 10) / 100;
    e.turns++;
    out.set(key, e);
  }
  return [...out.values()];
}

export function meetingLiveState(db: Db, meetingId: number): MeetingLiveState {
  const m = db.select().from(meetings).where(eq(meetings.id, meetingId)).get();
  if (!m) throw notFound('Meeting');
  const l = db.select().from(liveState).where(eq(liveState.meetingId, meetingId)).get();
  return {
    id: m.id,
    title: m.title,
    status: m.status,
    quorumRule: m.quorumRule,
    openedAt: l?.openedAt ?? null,
    openOverrideReason: l?.openOverrideReason ?? null,
    closedAt: l?.closedAt ?? null,
  };
}

function currentItemId(db: Db, meetingId: number): number | null {
  return db.select({ id: agendaItems.id }).from(agendaItems).where(and(eq(agendaItems.meetingId, meetingId), eq(agendaItems.status, 'current'))).get()?.id ?? null;
}

const speakerColumns = {
  id: speakerRequests.id,
  userId: speakerRequests.userId,
  fullName: users.fullName,
  kind: speakerRequests.kind,
  agendaItemId: speakerRequests.agendaItemId,
  requestedAt: speakerRequests.requestedAt,
  startedAt: speakerRequests.startedAt,
  allottedSeconds: speakerRequests.allottedSeconds,
  position: speakerRequests.position,
};

/** Waiting requests of one agenda item in speaking order. */
function queueOf(db: Db, meetingId: number, itemId: number | null) {
  return db
    .select(speakerColumns)
    .from(speakerRequests)
    .innerJoin(users, eq(users.id, speakerRequests.userId))
    .where(
      and(
        eq(speakerRequests.meetingId, meetingId),
        eq(speakerRequests.status, 'waiting'),
        itemId == null ? sql`${speakerRequests.agendaItemId} is null` : eq(speakerRequests.agendaItemId, itemId),
      ),
    )
    .orderBy(asc(speakerRequests.position), asc(speakerRequests.id))
    .all();
}

/** The speakers' list of the current item and who has the floor. */
export function speakersState(db: Db, meetingId: number): SpeakersState {
  return speakersNow(db, meetingId);
}

export function presenterState(db: Db, meetingId: number): PresenterState {
  const l = db
    .select({ presenterId: liveState.presenterId, documentId: liveState.documentId, page: liveState.page, zoom: liveState.zoom, name: users.fullName })
    .from(liveState)
    .leftJoin(users, eq(users.id, liveState.presenterId))
    .where(eq(liveState.meetingId, meetingId))
    .get();
  if (!l || l.presenterId == null || l.documentId == null || l.page == null) return null;
  return { presenterId: l.presenterId, presenterName: l.name ?? '', documentId: l.documentId, page: l.page, zoom: l.zoom ?? 1 };
}

/** Everything a live view needs, consistent at one moment. */
export function liveSnapshot(db: Db, meetingId: number, online: Set<number>): LiveSnapshot {
  return {
    meeting: meetingLiveState(db, meetingId),
    agenda: readAgenda(db, meetingId),
    attendance: attendanceState(db, meetingId, online),
    speakers: speakersState(db, meetingId),
    presenter: presenterState(db, meetingId),
  };
}

// ---------------------------------------------------------------------------------------------
// Writes (inside one transaction; the caller broadcasts afterwards)

const nowIso = () => new Date().toISOString();

function requireNotClosed(a: MeetingAccess) {
  if (a.meeting.status === 'closed') throw invalidState('The meeting is closed');
  if (a.meeting.status === 'draft') throw invalidState('The meeting is not published');
}

function requireRunning(a: MeetingAccess) {
  if (a.meeting.status !== 'live' && a.meeting.status !== 'paused') throw invalidState('The meeting is not in session');
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

function ensureLiveRow(db: Db, meetingId: number) {
  db.insert(liveState).values({ meetingId }).onConflictDoNothing().run();
}

/**
 * Opens the meeting (published → live). Only with a quorum, unless the chair gives an
 * `overrideReason`, which is recorded. The first pending agenda item becomes current if none is.
 */
export function openMeeting(db: Db, a: MeetingAccess, user: AuthUser, p: { overrideReason?: string }): void {
  if (!a.canChair) throw forbidden('Only the chair may open the meeting');
  if (a.meeting.status !== 'published') throw invalidState(a.meeting.status === 'draft' ? 'The meeting is not published' : 'The meeting has already been opened');
  const q = attendanceState(db, a.meeting.id).quorum;
  if (!q.met && !p.overrideReason) throw new AppError('no_quorum', `No quorum (${q.sentence}); give a reason to open anyway`, 409);
  setMeetingStatus(db, a.meeting.id, 'live');
  ensureLiveRow(db, a.meeting.id);
  db.update(liveState)
    .set({ openedAt: nowIso(), openOverrideReason: q.met ? null : p.overrideReason })
    .where(eq(liveState.meetingId, a.meeting.id))
    .run();
  if (currentItemId(db, a.meeting.id) == null) {
    const first = orderedItems(db, a.meeting.id).find((i) => i.status === 'pending');
    if (first) setCurrent(db, a.meeting.id, first.id, 'pending');
  }
  audit(db, { actorId: user.id, action: 'meeting.open', targetType: 'meeting', targetId: a.meeting.id, details: { quorum: q.sentence, ...(q.met ? {} : { overrideReason: p.overrideReason }) } });
}

/** live → paused, paused → live, live|paused → closed (ends any running turn). Chair only. */
export function changeStatus(db: Db, a: MeetingAccess, user: AuthUser, action: 'pause' | 'resume' | 'close', now = Date.now()): void {
  if (!a.canChair) throw forbidden('Only the chair may do this');
  const from = a.meeting.status;
  const ok = action === 'pause' ? from === 'live' : action === 'resume' ? from === 'paused' : from === 'live' || from === 'paused';
  if (!ok) throw invalidState(`Cannot ${action} a meeting that is ${from}`);
  setMeetingStatus(db, a.meeting.id, action === 'pause' ? 'paused' : action === 'resume' ? 'live' : 'closed');
  if (action === 'close') {
    endFloor(db, a.meeting.id, now);
    ensureLiveRow(db, a.meeting.id);
    db.update(liveState).set({ closedAt: nowIso(), presenterId: null, documentId: null, page: null, zoom: null }).where(eq(liveState.meetingId, a.meeting.id)).run();
  }
  audit(db, { actorId: user.id, action: `meeting.${action}`, targetType: 'meeting', targetId: a.meeting.id });
}

const orderedItems = agendaTree;
const bumpAgenda = bumpAgendaVersion;
const setCurrent = setCurrentItem;

/**
 * Moves the current agenda item: `goto` any item, `next` (the current one is marked done) or
 * `previous` (the current one goes back to pending). A running turn ends. Chair only.
 * Returns the new current item id (null past the end).
 */
export function moveCurrent(db: Db, a: MeetingAccess, user: AuthUser, to: { goto: number } | 'next' | 'previous', now = Date.now()): number | null {
  if (!a.canChair) throw forbidden('Only the chair may move through the agenda');
  requireRunning(a);
  const items = orderedItems(db, a.meeting.id);
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
  endFloor(db, a.meeting.id, now);
  setCurrent(db, a.meeting.id, target, to === 'next' ? 'done' : 'pending');
  audit(db, { actorId: user.id, action: 'agenda.current', targetType: 'meeting', targetId: a.meeting.id, details: { itemId: target } });
  return target;
}

/** Marks an item done, deferred or pending again (a current item stops being current). Chair only. */
export function markItem(db: Db, a: MeetingAccess, user: AuthUser, p: { itemId: number; status: 'done' | 'deferred' | 'pending' }, now = Date.now()): void {
  if (!a.canChair) throw forbidden('Only the chair may change an item’s status');
  requireRunning(a);
  const item = db.select().from(agendaItems).where(and(eq(agendaItems.id, p.itemId), eq(agendaItems.meetingId, a.meeting.id))).get();
  if (!item) throw notFound('Agenda item');
  if (item.status === 'current') endFloor(db, a.meeting.id, now);
  setItemStatus(db, a.meeting.id, p.itemId, p.status);
  audit(db, { actorId: user.id, action: 'agenda.mark', targetType: 'meeting', targetId: a.meeting.id, details: { itemId: p.itemId, status: p.status } });
}

/** Adds an urgent item right after the current one (or at the end), optionally making it current. Chair only. */
export function addUrgentItem(db: Db, a: MeetingAccess, user: AuthUser, p: { title: string; durationMinutes?: number; makeCurrent: boolean }, now = Date.now()): number {
  if (!a.canChair) throw forbidden('Only the chair may add an urgent item');
  requireRunning(a);
  const items = orderedItems(db, a.meeting.id);
  const cur = items.find((i) => i.status === 'current');
  // Insert among the top-level items, after the top-level ancestor of the current item.
  let anchor = cur;
  while (anchor?.parentId != null) anchor = items.find((i) => i.id === anchor!.parentId);
  const top = items.filter((i) => i.parentId == null);
  const at = anchor ? anchor.position + 1 : top.length;
  const itemId = insertTopLevelItem(db, a.meeting.id, at, top, { title: p.title, durationMinutes: p.durationMinutes ?? null });
  if (p.makeCurrent) {
    endFloor(db, a.meeting.id, now);
    setCurrent(db, a.meeting.id, itemId, 'pending');
  } else bumpAgenda(db, a.meeting.id);
  audit(db, { actorId: user.id, action: 'agenda.add_urgent', targetType: 'meeting', targetId: a.meeting.id, details: { itemId, title: p.title } });
  return itemId;
}

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

/**
 * Records what the presenter shows. Allowed to the chair/secretary, the current item's presenter and
 * whoever has the floor. The last one to show a page is the presenter (a handover: the others' tablets
 * stop presenting and follow). Stopping (`p` null) ends anyone's presentation for the chair; for the
 * others it ends only their own — a late "stop" from a former presenter leaves the new one presenting.
 */
export function showPage(db: Db, a: MeetingAccess, user: AuthUser, p: { documentId: number; page: number; zoom?: number } | null): void {
  requireRunning(a);
  const mayPresent =
    a.canChair ||
    !!db.select({ id: agendaItems.id }).from(agendaItems).where(and(eq(agendaItems.meetingId, a.meeting.id), eq(agendaItems.status, 'current'), eq(agendaItems.presenterId, user.id))).get() ||
    floorNow(db, a.meeting.id)?.userId === user.id;
  if (!mayPresent) throw forbidden('Only the chair, the item’s presenter or the current speaker may present');
  if (!p && !a.canChair && presenterState(db, a.meeting.id)?.presenterId !== user.id) return;
  // Only a document of this meeting that the presenter may see (documentAccess throws not_found otherwise).
  if (p && documentAccess(db, user, p.documentId).document.meetingId !== a.meeting.id) throw notFound('Document');
  ensureLiveRow(db, a.meeting.id);
  db.update(liveState)
    .set(p ? { presenterId: user.id, documentId: p.documentId, page: p.page, zoom: p.zoom ?? 1 } : { presenterId: null, documentId: null, page: null, zoom: null })
    .where(eq(liveState.meetingId, a.meeting.id))
    .run();
}
