import { SearchQuery, SearchResults } from '../../shared/protocol/search.js';
import type { AppContext } from '../context.js';
import { type Db, tx } from '../db/client.js';
import { agendaItems, meetings } from '../db/schema/index.js';
import { inArray, eq } from 'drizzle-orm';
import { meetingAccess } from '../meetings/meetings.access.js';
import { ensureGroups, registerSearchKind, removeEntries, replaceEntries, search } from './search.service.js';

registerSearchKind('agenda_item', (db, _user, refIds) => {
  // The candidates are already limited to meetings the caller may see (searchableMeetingIds);
  // every item of a visible meeting is visible, so only check the item still exists.
  const rows = db.select({ id: agendaItems.id }).from(agendaItems).where(inArray(agendaItems.id, refIds)).all();
  return new Set(rows.map((r) => r.id));
});

registerSearchKind('meeting', (db, user, refIds) => {
  // The same rule as every meeting route, applied now (a participant removed since indexing sees nothing).
  const visible = new Set<number>();
  for (const id of refIds) {
    try {
      meetingAccess(db, user, id);
      visible.add(id);
    } catch {
      // not visible: left out
    }
  }
  return visible;
});

/** Re-indexes the agenda items (title + description) of one meeting. */
export function reindexAgenda(db: Db, meetingId: number): void {
  const items = db.select().from(agendaItems).where(eq(agendaItems.meetingId, meetingId)).all();
  tx(db, (d) => {
    const indexed = d.$client.prepare("select distinct ref_id as id from search_entries where kind = 'agenda_item' and meeting_id = ?").all(meetingId) as { id: number }[];
    const current = new Set(items.map((it) => it.id));
    removeEntries(
      d,
      'agenda_item',
      indexed.map((r) => r.id).filter((id) => !current.has(id)),
    );
    for (const it of items) replaceEntries(d, 'agenda_item', it.id, [{ meetingId, page: null, title: it.title, body: it.description || it.title }]);
  });
}

/** Re-indexes one meeting's title and description (kind `meeting`, refId = meetingId). */
export function reindexMeeting(db: Db, meetingId: number): void {
  const m = db.select({ title: meetings.title, description: meetings.description }).from(meetings).where(eq(meetings.id, meetingId)).get();
  tx(db, (d) => {
    if (!m) removeEntries(d, 'meeting', [meetingId]);
    else replaceEntries(d, 'meeting', meetingId, [{ meetingId, page: null, title: m.title, body: m.description || m.title }]);
  });
}

/** `GET /api/search`, and keeping agenda items and meetings in the index as they change. */
export function searchRoutes(ctx: AppContext): void {
  const { api, db, bus } = ctx;
  // Agenda and meeting text is owned by their domains; they announce changes on the bus and we re-index.
  bus.on('agenda:changed', ({ meetingId }) => reindexAgenda(db, meetingId));
  bus.on('meeting:changed', ({ meetingId }) => reindexMeeting(db, meetingId));
  for (const m of db.$client.prepare('select distinct meeting_id as id from agenda_items').all() as { id: number }[]) reindexAgenda(db, m.id);
  const unindexed = db.$client.prepare("select id from meetings m where not exists (select 1 from search_groups g where g.kind = 'meeting' and g.ref_id = m.id)");
  // Meetings announce changes, not their creation: a new one is indexed by the next search.
  const indexNewMeetings = () => {
    for (const m of unindexed.all() as { id: number }[]) reindexMeeting(db, m.id);
  };
  indexNewMeetings();
  // Things indexed before search_groups existed (documents, minutes, conclusions) get their row once.
  ensureGroups(db);

  api.route(
    {
      method: 'get',
      path: '/api/search',
      summary:
        'Search meetings, agenda items, documents (title and every page) and other indexed content the caller may see now, with or without Vietnamese marks; one result per thing, documents with their best pages',
      tags: ['search'],
      access: 'user',
      query: SearchQuery,
      response: SearchResults,
    },
    ({ user, query }) => {
      indexNewMeetings();
      return search(db, user, query);
    },
  );
}
