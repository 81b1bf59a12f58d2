import type { Statement } from 'better-sqlite3';
import type { Agenda } from '../../shared/protocol/agenda.js';
import type { Floor, SpeakerEntry, SpeakersState } from '../../shared/protocol/live.js';
import { orderAgenda } from '../../shared/rules/agenda.js';
import type { AgendaStatus } from '../agenda/agenda.service.js';
import { type Db, perDb } from '../db/client.js';

/*
 * Prepared statements for the live meeting's hot path: every current-item change is read back and
 * pushed to every tablet, and the floor is checked around every command (STYLE: hot paths use
 * prepared statements, the query builder is for the rest). Results have exactly the shapes of
 * `readAgenda` (server/agenda) and the service's floor; test/integration/live.test.ts compares them.
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
}

const statements = perDb(
  ({ $client: c }): Statements => ({
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
  }),
);

type ItemRow = Omit<Agenda['items'][number], 'number'>;

/** The agenda in display order, as `readAgenda` returns it (null when the meeting does not exist). */
export function agendaForPush(db: Db, meetingId: number): Agenda | null {
  const s = statements(db);
  const version = s.agendaVersion.get(meetingId) as number | undefined;
  if (version === undefined) return null;
  const rows = s.items.all(meetingId) as ItemRow[];
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

/** The agenda version only. */
export function agendaVersion(db: Db, meetingId: number): number {
  return (statements(db).agendaVersion.get(meetingId) as number | undefined) ?? 0;
}

/** Who has the floor now (the running turn), or undefined. */
export function floorNow(db: Db, meetingId: number): { id: number; userId: number; kind: 'speech' | 'question' | 'point_of_order'; startedAt: number; allottedSeconds: number } | undefined {
  return statements(db).floor.get(meetingId) as ReturnType<typeof floorNow>;
}

/** The current item's waiting list in speaking order and the floor. */
export function speakersNow(db: Db, meetingId: number): SpeakersState {
  const s = statements(db);
  const agendaItemId = (s.currentItem.get(meetingId) as number | undefined) ?? null;
  return {
    agendaItemId,
    queue: s.queue.all(meetingId, agendaItemId) as SpeakerEntry[],
    floor: (s.floorEntry.get(meetingId) as Floor | undefined) ?? null,
  };
}

/** The agenda tree in display order (ids, structure and status only). */
export function agendaTree(db: Db, meetingId: number) {
  return orderAgenda(statements(db).tree.all(meetingId) as { id: number; parentId: number | null; position: number; status: AgendaStatus; presenterId: number | null }[]);
}

/** Ends the running turn, recording the time spoken. Returns whether one was running. */
export function endRunningTurn(db: Db, meetingId: number, now: number): boolean {
  const f = floorNow(db, meetingId);
  if (!f) return false;
  statements(db).endTurn.run(now, Math.max(0, now - f.startedAt), f.id);
  return true;
}
