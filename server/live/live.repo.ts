import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { Agenda } from '../../shared/protocol/agenda.js';
import type { Floor, SpeakerEntry, SpeakersState } from '../../shared/protocol/live.js';
import { orderAgenda } from '../../shared/rules/agenda.js';
import type { AgendaStatus } from '../agenda/agenda.service.js';
import type { Store } from '../db/store.js';
import { agendaItems, attendance, meetingParticipants, meetings, speakerRequests, users } from '../db/tables.js';

/*
 * The live meeting's hot-path reads and the turn's end: every current-item change is read back and
 * pushed to every tablet, and the floor is checked around every command. On SQLite they are prepared
 * statements (STYLE: hot paths use prepared statements, the query builder is for the rest), run through
 * `store.sqlite` (inside the current transaction, or when none is open); on PostgreSQL the same queries
 * through the builder. Results have exactly the shapes of `readAgenda` (server/agenda) and the
 * service's floor; test/integration/live.test.ts compares them.
 */

interface Statements {
  items: Statement<[number]>;
  agendaVersion: Statement<[number]>;
  floor: Statement<[number]>;
  currentItem: Statement<[number]>;
  queue: Statement<[number, number | null]>;
  floorEntry: Statement<[number]>;
  tree: Statement<[number]>;
  endTurn: Statement<[number, number, number]>;
  participants: Statement<[number], Omit<ParticipantRow, 'canVote'> & { canVote: number }>;
  changes: Statement<[], string>;
}

const prepared = new WeakMap<Database.Database, Statements>();
function statements(c: Database.Database): Statements {
  let s = prepared.get(c);
  if (s) return s;
  s = {
    items: c.prepare(
      `SELECT a.id, a.parent_id AS parentId, a.position, a.title, a.description, a.presenter_id AS presenterId,
              u.full_name AS presenterName, a.duration_minutes AS durationMinutes, a.status
         FROM agenda_items a LEFT JOIN users u ON u.id = a.presenter_id
        WHERE a.meeting_id = ?`,
    ),
    agendaVersion: c.prepare('SELECT agenda_version FROM meetings WHERE id = ?').pluck(),
    floor: c.prepare(
      `SELECT s.id, s.user_id AS userId, s.kind, s.started_at AS startedAt, s.allotted_seconds AS allottedSeconds
         FROM speaker_requests s WHERE s.meeting_id = ? AND s.status = 'speaking'`,
    ),
    currentItem: c.prepare("SELECT id FROM agenda_items WHERE meeting_id = ? AND status = 'current'").pluck(),
    queue: c.prepare(
      `SELECT s.id, s.user_id AS userId, u.full_name AS fullName, s.kind, s.agenda_item_id AS agendaItemId, s.requested_at AS requestedAt
         FROM speaker_requests s JOIN users u ON u.id = s.user_id
        WHERE s.meeting_id = ? AND s.status = 'waiting' AND s.agenda_item_id IS ?
        ORDER BY s.position, s.id`,
    ),
    floorEntry: c.prepare(
      `SELECT s.id, s.user_id AS userId, u.full_name AS fullName, s.kind, s.agenda_item_id AS agendaItemId, s.requested_at AS requestedAt,
              s.started_at AS startedAt, s.allotted_seconds AS allottedSeconds
         FROM speaker_requests s JOIN users u ON u.id = s.user_id
        WHERE s.meeting_id = ? AND s.status = 'speaking'`,
    ),
    tree: c.prepare('SELECT id, parent_id AS parentId, position, status, presenter_id AS presenterId FROM agenda_items WHERE meeting_id = ?'),
    endTurn: c.prepare("UPDATE speaker_requests SET status = 'done', ended_at = ?, spoken_ms = ? WHERE id = ?"),
    participants: c.prepare(
      `SELECT p.user_id AS userId, p.role AS role, p.can_vote AS canVote, u.full_name AS fullName, u.title AS title,
              a.status AS status, a.reason AS reason, a.proxy_holder_id AS proxyHolderId, a.proxy_kind AS proxyKind
         FROM meeting_participants p
         JOIN users u ON u.id = p.user_id
         LEFT JOIN attendance a ON a.meeting_id = p.meeting_id AND a.user_id = p.user_id
        WHERE p.meeting_id = ?`,
    ),
    changes: c.prepare<[], string>("SELECT total_changes() || ':' || (SELECT data_version FROM pragma_data_version())").pluck(),
  };
  prepared.set(c, s);
  return s;
}

type ItemRow = Omit<Agenda['items'][number], 'number'>;

/** The agenda in display order, as `loadAgenda` returns it (null when the meeting does not exist). */
export async function agendaForPush(store: Store, meetingId: number): Promise<Agenda | null> {
  let version: number | undefined;
  let rows: ItemRow[];
  if (store.dialect === 'sqlite') {
    [version, rows] = await store.sqlite((c) => {
      const s = statements(c);
      const v = s.agendaVersion.get(meetingId) as number | undefined;
      return [v, v === undefined ? [] : (s.items.all(meetingId) as ItemRow[])] as const;
    });
  } else {
    version = await agendaVersionOf(store, meetingId);
    rows =
      version === undefined
        ? []
        : await store.q
            .select({
              id: agendaItems.id,
              parentId: agendaItems.parentId,
              position: agendaItems.position,
              title: agendaItems.title,
              description: agendaItems.description,
              presenterId: agendaItems.presenterId,
              presenterName: users.fullName,
              durationMinutes: agendaItems.durationMinutes,
              status: agendaItems.status,
            })
            .from(agendaItems)
            .leftJoin(users, eq(users.id, agendaItems.presenterId))
            .where(eq(agendaItems.meetingId, meetingId));
  }
  if (version === undefined) return null;
  return {
    meetingId,
    version,
    items: orderAgenda(rows).map((i) => ({
      id: i.id,
      parentId: i.parentId,
      position: i.position,
      title: i.title,
      description: i.description,
      presenterId: i.presenterId,
      presenterName: i.presenterName ?? null,
      durationMinutes: i.durationMinutes,
      status: i.status,
      number: i.number,
    })),
  };
}

async function agendaVersionOf(store: Store, meetingId: number): Promise<number | undefined> {
  if (store.dialect === 'sqlite') return store.sqlite((c) => statements(c).agendaVersion.get(meetingId) as number | undefined);
  const [m] = await store.q.select({ v: meetings.agendaVersion }).from(meetings).where(eq(meetings.id, meetingId)).limit(1);
  return m?.v;
}

/** The agenda version only. */
export async function agendaVersion(store: Store, meetingId: number): Promise<number> {
  return (await agendaVersionOf(store, meetingId)) ?? 0;
}

export type FloorNow = { id: number; userId: number; kind: 'speech' | 'question' | 'point_of_order'; startedAt: number; allottedSeconds: number };

/** Who has the floor now (the running turn), or undefined. */
export async function floorNow(store: Store, meetingId: number): Promise<FloorNow | undefined> {
  if (store.dialect === 'sqlite') return store.sqlite((c) => statements(c).floor.get(meetingId) as FloorNow | undefined);
  const [f] = await store.q
    .select({ id: speakerRequests.id, userId: speakerRequests.userId, kind: speakerRequests.kind, startedAt: speakerRequests.startedAt, allottedSeconds: speakerRequests.allottedSeconds })
    .from(speakerRequests)
    .where(and(eq(speakerRequests.meetingId, meetingId), eq(speakerRequests.status, 'speaking')))
    .limit(1);
  return f as FloorNow | undefined;
}

function speakersOn(c: Database.Database, meetingId: number): SpeakersState {
  const s = statements(c);
  const agendaItemId = (s.currentItem.get(meetingId) as number | undefined) ?? null;
  return {
    agendaItemId,
    queue: s.queue.all(meetingId, agendaItemId) as SpeakerEntry[],
    floor: (s.floorEntry.get(meetingId) as Floor | undefined) ?? null,
  };
}

const entryColumns = () => ({
  id: speakerRequests.id,
  userId: speakerRequests.userId,
  fullName: users.fullName,
  kind: speakerRequests.kind,
  agendaItemId: speakerRequests.agendaItemId,
  requestedAt: speakerRequests.requestedAt,
});

/** Waiting requests of one agenda item in speaking order. */
export async function queueOf(store: Store, meetingId: number, itemId: number | null) {
  return store.q
    .select({ ...entryColumns(), startedAt: speakerRequests.startedAt, allottedSeconds: speakerRequests.allottedSeconds, position: speakerRequests.position })
    .from(speakerRequests)
    .innerJoin(users, eq(users.id, speakerRequests.userId))
    .where(
      and(
        eq(speakerRequests.meetingId, meetingId),
        eq(speakerRequests.status, 'waiting'),
        itemId == null ? isNull(speakerRequests.agendaItemId) : eq(speakerRequests.agendaItemId, itemId),
      ),
    )
    .orderBy(asc(speakerRequests.position), asc(speakerRequests.id));
}

/** The current item's waiting list in speaking order and the floor. */
export async function speakersNow(store: Store, meetingId: number): Promise<SpeakersState> {
  if (store.dialect === 'sqlite') return store.sqlite((c) => speakersOn(c, meetingId));
  const q = store.q;
  const [cur] = await q.select({ id: agendaItems.id }).from(agendaItems).where(and(eq(agendaItems.meetingId, meetingId), eq(agendaItems.status, 'current'))).limit(1);
  const agendaItemId = cur?.id ?? null;
  const queue = (await queueOf(store, meetingId, agendaItemId)).map((r) => ({ id: r.id, userId: r.userId, fullName: r.fullName, kind: r.kind, agendaItemId: r.agendaItemId, requestedAt: r.requestedAt }));
  const [floor] = await q
    .select({ ...entryColumns(), startedAt: speakerRequests.startedAt, allottedSeconds: speakerRequests.allottedSeconds })
    .from(speakerRequests)
    .innerJoin(users, eq(users.id, speakerRequests.userId))
    .where(and(eq(speakerRequests.meetingId, meetingId), eq(speakerRequests.status, 'speaking')))
    .limit(1);
  return { agendaItemId, queue, floor: (floor as Floor | undefined) ?? null };
}

type TreeRow = { id: number; parentId: number | null; position: number; status: AgendaStatus; presenterId: number | null };

/** The agenda tree in display order (ids, structure and status only). */
export async function agendaTree(store: Store, meetingId: number) {
  const rows: TreeRow[] =
    store.dialect === 'sqlite'
      ? await store.sqlite((c) => statements(c).tree.all(meetingId) as TreeRow[])
      : await store.q
          .select({ id: agendaItems.id, parentId: agendaItems.parentId, position: agendaItems.position, status: agendaItems.status, presenterId: agendaItems.presenterId })
          .from(agendaItems)
          .where(eq(agendaItems.meetingId, meetingId));
  return orderAgenda(rows);
}

/** Ends the running turn, recording the time spoken. Returns whether one was running. */
export async function endRunningTurn(store: Store, meetingId: number, now: number): Promise<boolean> {
  const f = await floorNow(store, meetingId);
  if (!f) return false;
  const spokenMs = Math.max(0, now - f.startedAt);
  if (store.dialect === 'sqlite') await store.sqlite((c) => statements(c).endTurn.run(now, spokenMs, f.id));
  else await store.q.update(speakerRequests).set({ status: 'done', endedAt: now, spokenMs }).where(eq(speakerRequests.id, f.id));
  return true;
}

// ---------------------------------------------------------------------------------------------
// Participants with their attendance

export interface ParticipantRow {
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

const ROLE_ORDER = { chair: 0, secretary: 1, member: 2, guest: 3 } as const;

/** Vietnamese name order; one collator (a `localeCompare(…, 'vi')` per comparison costs 4× more). */
const byName = new Intl.Collator('vi');
const inListOrder = (a: ParticipantRow, b: ParticipantRow) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || byName.compare(a.fullName, b.fullName);

/**
 * Participants with their attendance rows, in list order (chair, secretary, members, guests; by name).
 * They are read for every `meeting:join` snapshot and attendance push: at 1,000 participants the query
 * alone costs ~3.5 ms and the sort ~1 ms, so when 1,000 tablets connect at the start of an assembly
 * (or reconnect after a Wi-Fi drop) the same rows would be read a thousand times. On SQLite they are
 * cached per meeting and keyed by `total_changes()` of the connection, which every write through it
 * (all writes to these tables) increments, and by `data_version`, which changes when another
 * connection commits: any change re-reads them. Callers must not mutate the result.
 */
const participantCache = new WeakMap<Database.Database, Map<number, { key: string; rows: ParticipantRow[] }>>();
function participantsOn(c: Database.Database, meetingId: number): readonly ParticipantRow[] {
  const s = statements(c);
  let byMeeting = participantCache.get(c);
  if (!byMeeting) participantCache.set(c, (byMeeting = new Map()));
  const key = s.changes.get()!;
  const hit = byMeeting.get(meetingId);
  if (hit && hit.key === key) return hit.rows;
  const rows = s.participants
    .all(meetingId)
    .map((r) => ({ ...r, canVote: r.canVote === 1 }))
    .sort(inListOrder);
  byMeeting.delete(meetingId);
  byMeeting.set(meetingId, { key, rows });
  if (byMeeting.size > 64) byMeeting.delete(byMeeting.keys().next().value!);
  return rows;
}

/**
 * PostgreSQL: the same cache, keyed by the roster versions its triggers keep (migrations-pg 0003: a new sequence
 * value on every change to the meeting's participants or attendance, or to any user's name or title). The key is
 * read before the rows, so a change committed between the two only costs a re-read next time.
 */
const pgParticipantCache = new WeakMap<Store, Map<number, { key: string; rows: ParticipantRow[] }>>();

/** A meeting's participants with their attendance, in list order. */
export async function participantRows(store: Store, meetingId: number): Promise<readonly ParticipantRow[]> {
  if (store.dialect === 'sqlite') return store.sqlite((c) => participantsOn(c, meetingId));
  const { rows: versions } = await (store.q as unknown as NodePgDatabase).execute<{ meeting_id: number; version: string }>(
    sql`select meeting_id, version from live_roster_versions where meeting_id in (0, ${meetingId})`,
  );
  const key = `${versions.find((v) => v.meeting_id === 0)?.version ?? 0}:${versions.find((v) => v.meeting_id === meetingId)?.version ?? 0}`;
  let byMeeting = pgParticipantCache.get(store);
  if (!byMeeting) pgParticipantCache.set(store, (byMeeting = new Map()));
  const hit = byMeeting.get(meetingId);
  if (hit && hit.key === key) return hit.rows;
  const rows = await store.q
    .select({
      userId: meetingParticipants.userId,
      role: meetingParticipants.role,
      canVote: meetingParticipants.canVote,
      fullName: users.fullName,
      title: users.title,
      status: attendance.status,
      reason: attendance.reason,
      proxyHolderId: attendance.proxyHolderId,
      proxyKind: attendance.proxyKind,
    })
    .from(meetingParticipants)
    .innerJoin(users, eq(users.id, meetingParticipants.userId))
    .leftJoin(attendance, and(eq(attendance.meetingId, meetingParticipants.meetingId), eq(attendance.userId, meetingParticipants.userId)))
    .where(eq(meetingParticipants.meetingId, meetingId));
  const sorted = (rows as ParticipantRow[]).sort(inListOrder);
  byMeeting.delete(meetingId);
  byMeeting.set(meetingId, { key, rows: sorted });
  if (byMeeting.size > 64) byMeeting.delete(byMeeting.keys().next().value!);
  return sorted;
}

