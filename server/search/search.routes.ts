import { SearchQuery, SearchResults } from '../../shared/protocol/search.js';
import type { AppContext } from '../context.js';
import type { Store } from '../db/store.js';
import { agendaItems, meetings, searchEntries, searchGroups } from '../db/tables.js';
import { and, eq, inArray, notExists, sql } from 'drizzle-orm';
import { meetingAccess } from '../meetings/meetings.access.js';
import { ensureGroups } from './search.repo.js';
import { registerSearchKind, removeIndexed, replaceIndexed, search } from './search.service.js';

registerSearchKind('agenda_item', async (store, _user, refIds) => {
  // The candidates are already limited to meetings the caller may see (searchableMeetingIds);
  // every item of a visible meeting is visible, so only check the item still exists.
  const rows = await store.q.select({ id: agendaItems.id }).from(agendaItems).where(inArray(agendaItems.id, refIds));
  return new Set(rows.map((r) => r.id));
});

registerSearchKind('meeting', async (store, user, refIds) => {
  // The same rule as every meeting route, applied now (a participant removed since indexing sees nothing).
  const visible = new Set<number>();
  for (const id of refIds) {
    try {
      await meetingAccess(store, user, id);
      visible.add(id);
    } catch {
      // not visible: left out
    }
  }
  return visible;
});

/** Re-indexes the agenda items (title + description) of one meeting. */
export async function reindexAgenda(store: Store, meetingId: number): Promise<void> {
  await store.tx(async (q) => {
    const items = await q.select().from(agendaItems).where(eq(agendaItems.meetingId, meetingId));
    const indexed = await q
      .selectDistinct({ id: searchEntries.refId })
      .from(searchEntries)
      .where(and(eq(searchEntries.kind, 'agenda_item'), eq(searchEntries.meetingId, meetingId)));
    const current = new Set(items.map((it) => it.id));
    await removeIndexed(
      store,
      'agenda_item',
      indexed.map((r) => r.id).filter((id) => !current.has(id)),
    );
    for (const it of items) await replaceIndexed(store, 'agenda_item', it.id, [{ meetingId, page: null, title: it.title, body: it.description || it.title }]);
  });
}

/** Re-indexes one meeting's title and description (kind `meeting`, refId = meetingId). */
export async function reindexMeeting(store: Store, meetingId: number): Promise<void> {
  await store.tx(async (q) => {
    const [m] = await q.select({ title: meetings.title, description: meetings.description }).from(meetings).where(eq(meetings.id, meetingId)).limit(1);
    if (!m) await removeIndexed(store, 'meeting', [meetingId]);
    else await replaceIndexed(store, 'meeting', meetingId, [{ meetingId, page: null, title: m.title, body: m.description || m.title }]);
  });
}

/** Meetings announce changes, not their creation: a new one is indexed by the next search (and at start). */
async function indexNewMeetings(store: Store): Promise<void> {
  const g = searchGroups;
  const unindexed = await store.q
    .select({ id: meetings.id })
    .from(meetings)
    .where(notExists(store.q.select({ one: sql`1` }).from(g).where(and(eq(g.kind, 'meeting'), eq(g.refId, meetings.id)))));
  for (const m of unindexed) await reindexMeeting(store, m.id);
}

/** At start: every meeting's agenda re-indexed, meetings not yet indexed, and groups of things indexed before groups existed. */
export async function indexAtStart(ctx: AppContext): Promise<void> {
  const { store } = ctx;
  for (const m of await store.q.selectDistinct({ id: agendaItems.meetingId }).from(agendaItems)) await reindexAgenda(store, m.id);
  await indexNewMeetings(store);
  // Things indexed before search_groups existed (documents, minutes, conclusions) get their row once.
  await ensureGroups(store);
}

/** `GET /api/search`, and keeping agenda items and meetings in the index as they change. */
export function searchRoutes(ctx: AppContext): void {
  const { api, store, bus } = ctx;
  const log = ctx.log.child({ module: 'search' });
  const failed = (meetingId: number) => (err: unknown) => log.error({ err, meetingId }, 're-indexing failed');
  // Agenda and meeting text is owned by their domains; they announce changes on the bus and we re-index,
  // one re-index of a meeting's agenda (or title) at a time, the changing request answered once it is done.
  // The node that made the change re-indexes; one that heard of it from another node (`remote`) has nothing to do.
  bus.on('agenda:changed', ({ meetingId }, meta) => {
    if (!meta?.remote) void bus.queue(`search:agenda:${meetingId}`, () => reindexAgenda(store, meetingId)).catch(failed(meetingId));
  });
  bus.on('meeting:changed', ({ meetingId }, meta) => {
    if (!meta?.remote) void bus.queue(`search:meeting:${meetingId}`, () => reindexMeeting(store, meetingId)).catch(failed(meetingId));
  });

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
    async ({ user, query }) => {
      // A change made over a socket (the live agenda) has no request to wait for its re-index: a search does.
      await bus.idle();
      await indexNewMeetings(store);
      return search(ctx, user, query);
    },
  );
}
