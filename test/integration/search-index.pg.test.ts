import { and, eq, sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../server/db/store.js';
import { openPgStore } from '../../server/db/store.pg.js';
import { searchEntries, searchGroups } from '../../server/db/tables.js';
import { removeIndexed, replaceIndexed } from '../../server/search/search.repo.js';
import { type ThrowawayPg, startThrowawayPg } from '../helpers/pg.js';

describe('the search index on PostgreSQL (server/search/search.repo.ts)', () => {
  let pg: ThrowawayPg;
  let store: Store;
  beforeAll(async () => {
    pg = await startThrowawayPg();
    store = await openPgStore(await pg.createDatabase('search_index'));
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    await pg?.stop();
  });

  const fts = async (table: 'search_entries' | 'search_groups', refId: number) =>
    ((await (store.q as unknown as NodePgDatabase).execute<{ f: string }>(sql`select fts::text as f from ${sql.raw(table)} where ref_id = ${refId} order by id`)).rows).map((r) => r.f);

  it('replacing a thing writes its entries and one group with the folded text (title weighted A, bodies B); removing it leaves nothing', async () => {
    await store.tx(() =>
      replaceIndexed(store, 'document', 7, [
        { meetingId: null, page: 1, title: 'Chuyển đổi số', body: 'Đường một' },
        { meetingId: null, page: 2, title: 'Chuyển đổi số', body: 'trang HAI' },
      ]),
    );
    const entries = await store.q.select().from(searchEntries).where(and(eq(searchEntries.kind, 'document'), eq(searchEntries.refId, 7)));
    expect(entries.map((e) => e.page)).toEqual([1, 2]);
    expect(await fts('search_entries', 7)).toEqual(["'chuyen':1 'doi':2 'duong':4 'mot':5 'so':3", "'chuyen':1 'doi':2 'hai':5 'so':3 'trang':4"]);
    const groups = await store.q.select().from(searchGroups).where(eq(searchGroups.refId, 7));
    expect(groups.map((g) => g.title)).toEqual(['Chuyển đổi số']);
    expect(await fts('search_groups', 7)).toEqual(["'chuyen':1A 'doi':2A 'duong':4B 'hai':7B 'mot':5B 'so':3A 'trang':6B"]);

    // Replaced again: the old rows go, one group stays.
    await store.tx(() => replaceIndexed(store, 'document', 7, [{ meetingId: null, page: null, title: 'Kế hoạch', body: '' }]));
    expect(await store.q.select({ id: searchGroups.id }).from(searchGroups).where(eq(searchGroups.refId, 7))).toHaveLength(1);
    expect(await fts('search_groups', 7)).toEqual(["'hoach':2A 'ke':1A"]);

    await store.tx(() => removeIndexed(store, 'document', [7]));
    expect(await store.q.select().from(searchEntries).where(eq(searchEntries.refId, 7))).toEqual([]);
    expect(await store.q.select().from(searchGroups).where(eq(searchGroups.refId, 7))).toEqual([]);
  });
});
