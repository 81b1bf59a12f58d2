import { SearchQuery, SearchResults } from '../../shared/protocol/search.js';
import type { AppContext } from '../context.js';
import { type Db, tx } from '../db/client.js';
import { agendaItems } from '../db/schema/index.js';
import { inArray, eq } from 'drizzle-orm';
import { registerSearchKind, replaceEntries, search } from './search.service.js';

registerSearchKind('agenda_item', (db, _user, refIds) => {
  // The candidates are already limited to meetings the caller may see (searchableMeetingIds);
  // every item of a visible meeting is visible, so only check the item still exists.
  const rows = db.select({ id: agendaItems.id }).from(agendaItems).where(inArray(agendaItems.id, refIds)).all();
  return new Set(rows.map((r) => r.id));
});

/** Re-indexes the agenda items (title + description) of one meeting. */
export function reindexAgenda(db: Db, meetingId: number): void {
  const items = db.select().from(agendaItems).where(eq(agendaItems.meetingId, meetingId)).all();
  tx(db, (d) => {
    d.$client.prepare("delete from search_fts where rowid in (select id from search_entries where kind = 'agenda_item' and meeting_id = ?)").run(meetingId);
    d.$client.prepare("delete from search_entries where kind = 'agenda_item' and meeting_id = ?").run(meetingId);
    for (const it of items) replaceEntries(d, 'agenda_item', it.id, [{ meetingId, page: null, title: it.title, body: it.description || it.title }]);
  });
}

/** `GET /api/search`, and keeping agenda items in the index as the agenda changes. */
export function searchRoutes(ctx: AppContext): void {
  const { api, db, bus } = ctx;
  // Agenda text is owned by the agenda domain; it announces changes on the bus and we re-index.
  bus.on('agenda:changed', ({ meetingId }) => reindexAgenda(db, meetingId));
  for (const m of db.$client.prepare('select distinct meeting_id as id from agenda_items').all() as { id: number }[]) reindexAgenda(db, m.id);

  api.route(
    {
      method: 'get',
      path: '/api/search',
      summary: 'Search agenda items, documents (per page) and other indexed content the caller may see, with or without Vietnamese diacritics',
      tags: ['search'],
      access: 'user',
      query: SearchQuery,
      response: SearchResults,
    },
    ({ user, query }) => search(db, user, query),
  );
}
