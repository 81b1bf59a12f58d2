import { and, asc, eq, sql } from 'drizzle-orm';
import type { AttendanceEntry, AttendanceState, LiveSnapshot, MeetingLiveState, PresenterState, SpeakersState } from '../../shared/protocol/live.js';
import { computeQuorum, quorumSentence } from '../../shared/rules/quorum.js';
import { computeRoll } from '../../shared/rules/roll.js';
import { loadAgenda } from '../agenda/agenda.service.js';
import type { Store } from '../db/store.js';
import { agendaItems, liveState, meetings, speakerRequests, users } from '../db/tables.js';
import { notFound } from '../http/errors.js';
import { committeeVoteSettings, ownDelegations, proxySettings } from '../votes/votes.rules.js';
import { type ParticipantRow, participantRows, speakersNow } from './live.repo.js';

/*
 * What the live meeting is at one moment: attendance and quorum, the meeting's live state, the
 * speakers' list and the floor, what the presenter shows, and the snapshot a live view starts from.
 * Other domains read these through live.service.ts (votes: `loadAttendanceState`; minutes: `speakingTimes`).
 *
 * Everything here reads on the store.
 */

/** The database a live command uses: the store. */
export interface LiveDb {
  store: Store;
}

export const PRESENT = new Set(['in_room', 'remote']);

// ---------------------------------------------------------------------------------------------
// Attendance

/** Who counts as present: the one definition of shared/rules/roll.ts (checked in, or represented by a present holder). */
async function presentSet(store: Store, meetingId: number, committeeId: number, rows: readonly ParticipantRow[]): Promise<Set<number>> {
  const delegations = await ownDelegations(store, meetingId);
  const settings = proxySettings(await committeeVoteSettings(store, committeeId));
  return new Set(computeRoll({ participants: rows, delegations, settings, voters: new Set() }).presentIds);
}

function attendanceOf(rule: MeetingLiveState['quorumRule'], rows: readonly ParticipantRow[], present: Set<number>, online: Set<number>): AttendanceState {
  const voters = rows.filter((r) => r.canVote && r.role !== 'guest');
  const q = computeQuorum(rule, voters.length, voters.filter((r) => present.has(r.userId)).length);
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

/** Attendance of every participant and the quorum ("18/25 present, quorum 13: met"). */
export async function loadAttendanceState(store: Store, meetingId: number, online: Set<number> = new Set()): Promise<AttendanceState> {
  // One transaction: the rows and the proxies of one moment.
  return store.tx(async (q) => {
    const [m] = await q.select({ rule: meetings.quorumRule, committeeId: meetings.committeeId }).from(meetings).where(eq(meetings.id, meetingId)).limit(1);
    if (!m) throw notFound('Meeting');
    const rows = await participantRows(store, meetingId);
    return attendanceOf(m.rule, rows, await presentSet(store, meetingId, m.committeeId, rows), online);
  });
}

/** Speaking time per person and agenda item, in seconds (a running turn counts up to `now`). For the minutes. */
export async function speakingTimes(store: Store, meetingId: number, now = Date.now()): Promise<{ userId: number; fullName: string; agendaItemId: number | null; seconds: number; turns: number }[]> {
  const s = speakerRequests;
  const rows = await store.q
    .select({ userId: s.userId, fullName: users.fullName, agendaItemId: s.agendaItemId, status: s.status, startedAt: s.startedAt, spokenMs: s.spokenMs })
    .from(s)
    .innerJoin(users, eq(users.id, s.userId))
    .where(and(eq(s.meetingId, meetingId), sql`${s.startedAt} is not null`))
    .orderBy(asc(s.startedAt));
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

// ---------------------------------------------------------------------------------------------
// The meeting, the agenda's current item, the speakers, the presenter

export async function meetingLiveState(store: Store, meetingId: number): Promise<MeetingLiveState> {
  const [m] = await store.q.select().from(meetings).where(eq(meetings.id, meetingId)).limit(1);
  if (!m) throw notFound('Meeting');
  const [l] = await store.q.select().from(liveState).where(eq(liveState.meetingId, meetingId)).limit(1);
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

export async function currentItemId(store: Store, meetingId: number): Promise<number | null> {
  const [row] = await store.q
    .select({ id: agendaItems.id })
    .from(agendaItems)
    .where(and(eq(agendaItems.meetingId, meetingId), eq(agendaItems.status, 'current')))
    .limit(1);
  return row?.id ?? null;
}

/** The speakers' list of the current item and who has the floor. */
export function loadSpeakersState(store: Store, meetingId: number): Promise<SpeakersState> {
  return speakersNow(store, meetingId);
}

export async function presenterState(store: Store, meetingId: number): Promise<PresenterState> {
  const [l] = await store.q
    .select({ presenterId: liveState.presenterId, documentId: liveState.documentId, page: liveState.page, zoom: liveState.zoom, name: users.fullName })
    .from(liveState)
    .leftJoin(users, eq(users.id, liveState.presenterId))
    .where(eq(liveState.meetingId, meetingId))
    .limit(1);
  if (!l || l.presenterId == null || l.documentId == null || l.page == null) return null;
  return { presenterId: l.presenterId, presenterName: l.name ?? '', documentId: l.documentId, page: l.page, zoom: l.zoom ?? 1 };
}

/** Everything a live view needs, consistent at one moment (one transaction). */
export async function liveSnapshot(store: Store, meetingId: number, online: Set<number>): Promise<LiveSnapshot> {
  // One consistent view, read without waiting for the node's writers (Store.read).
  return store.read(async () => ({
    meeting: await meetingLiveState(store, meetingId),
    agenda: await loadAgenda(store, meetingId),
    attendance: await loadAttendanceState(store, meetingId, online),
    speakers: await loadSpeakersState(store, meetingId),
    presenter: await presenterState(store, meetingId),
  }));
}

/** Now, as stored in the live tables' ISO columns. */
export const nowIso = () => new Date().toISOString();

/** What the chair set of a meeting's A/V floor (server/sfu enforces it): open discussion, and whose microphones they muted. */
export interface AvFloorSettings {
  openDiscussion: boolean;
  chairMuted: number[];
}

/** The A/V floor settings as last saved (off and none when never set). */
export async function avFloorSettings(store: Store, meetingId: number): Promise<AvFloorSettings> {
  const [r] = await store.q
    .select({ openDiscussion: liveState.floorOpenDiscussion, chairMuted: liveState.floorChairMuted })
    .from(liveState)
    .where(eq(liveState.meetingId, meetingId))
    .limit(1);
  return { openDiscussion: r?.openDiscussion ?? false, chairMuted: r?.chairMuted ?? [] };
}
