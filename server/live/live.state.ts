import { and, asc, eq, sql } from 'drizzle-orm';
import type { AttendanceEntry, AttendanceState, LiveSnapshot, MeetingLiveState, PresenterState, SpeakersState } from '../../shared/protocol/live.js';
import { computeQuorum, quorumSentence } from '../../shared/rules/quorum.js';
import { computeRoll } from '../../shared/rules/roll.js';
import { readAgenda } from '../agenda/agenda.service.js';
import { type Db, perDb } from '../db/client.js';
import { agendaItems, liveState, meetings, speakerRequests, users } from '../db/schema/index.js';
import { notFound } from '../http/errors.js';
import { committeeVoteSettings, ownDelegations, proxySettings } from '../votes/votes.rules.js';
import { speakersNow } from './live.repo.js';

/*
 * What the live meeting is at one moment: attendance and quorum, the meeting's live state, the
 * speakers' list and the floor, what the presenter shows, and the snapshot a live view starts from.
 * Other domains read these through live.service.ts (votes: `attendanceSummary`; minutes: `speakingTimes`).
 */

export const PRESENT = new Set(['in_room', 'remote']);

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

export function currentItemId(db: Db, meetingId: number): number | null {
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
export function queueOf(db: Db, meetingId: number, itemId: number | null) {
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

/** Now, as stored in the live tables' ISO columns. */
export const nowIso = () => new Date().toISOString();
