import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { foldText, ftsWords } from '../../shared/rules/fold.js';
import type { Store } from '../../server/db/store.js';
import { openPgStore } from '../../server/db/store.pg.js';
import { replaceIndexed } from '../../server/search/search.repo.js';
import { type ThrowawayPg, startThrowawayPg } from '../helpers/pg.js';
import { searchContract } from '../helpers/search-contract.js';

describe('full-text search on PostgreSQL (tsvector, to_tsquery, ts_rank_cd): the shared search contract', () => {
  let pg: Promise<ThrowawayPg> | undefined;
  const stores: Store[] = [];
  const cluster = () => (pg ??= startThrowawayPg());
  const open = async (name: string) => {
    const s = await openPgStore(await (await cluster()).createDatabase(name));
    stores.push(s);
    return s;
  };
  afterAll(async () => {
    for (const s of stores) await s.close();
    await (await pg)?.stop();
  });
  searchContract(() => open('search_dialects'));

  // migrations-pg/0002: unaccent and ec_search_fold, the app's folding in SQL for hand-written queries.
  let other: Promise<Store> | undefined;
  const fold = async (texts: string[]) => {
    const s = await (other ??= open('search_unaccent'));
    const { rows } = await (s.q as unknown as NodePgDatabase).execute<{ f: string }>(sql`select ec_search_fold(t) as f from unnest(${sql.param(texts)}::text[]) with ordinality as u(t, n) order by n`);
    return rows.map((r) => r.f);
  };

  it('ec_search_fold (unaccent, đ/Đ mapped explicitly, lower) folds every Vietnamese letter as foldText does, precomposed or not', async () => {
    const TONES = ['', '\u0300', '\u0301', '\u0309', '\u0303', '\u0323'];
    const BASES = ['a', 'ă', 'â', 'e', 'ê', 'i', 'o', 'ô', 'ơ', 'u', 'ư', 'y'];
    const letters = ['đ', 'Đ', ...BASES.flatMap((b) => TONES.flatMap((t) => [`${b}${t}`.normalize('NFC'), `${b}${t}`.normalize('NFC').toUpperCase()]))];
    expect(letters).toHaveLength(2 + 12 * 6 * 2);
    const nfc = letters.join(' ');
    const [a, b] = await fold([nfc, nfc.normalize('NFD')]);
    expect(a).toBe(foldText(nfc));
    expect(b).toBe(foldText(nfc));
    expect(await fold(['Đường Đại Cồ Việt', 'ĐỔI MỚI'])).toEqual(['duong dai co viet', 'doi moi']);
  });

  it('ec_search_fold gives the seed articles the same words as the index, and a hand-written query with it finds what the app finds', async () => {
    const dir = path.resolve(import.meta.dirname, '../../../shared/testdata/seeds');
    const articles = fs.readdirSync(dir).filter((f) => f.endsWith('.txt')).sort().map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
    const folded = await fold(articles);
    folded.forEach((f, i) => expect((f.match(/[\p{L}\p{N}]+/gu) ?? []).join(' ')).toBe(ftsWords(articles[i])));
    const s = await (other ??= open('search_unaccent'));
    for (const [i, body] of articles.entries()) await s.tx(() => replaceIndexed(s, 'document', i + 1, [{ meetingId: null, page: 1, title: `Bài ${i}`, body }]));
    const { rows } = await (s.q as unknown as NodePgDatabase).execute<{ ref_id: number }>(
      sql`select ref_id from search_groups where fts @@ plainto_tsquery('simple', ec_search_fold(${'Trần Đình Cảnh'})) order by ref_id`,
    );
    // plainto_tsquery: every word, anywhere.
    const want = articles.flatMap((a, i) => (['tran', 'dinh', 'canh'].every((w) => ftsWords(a).split(' ').includes(w)) ? [i + 1] : []));
    expect(rows.map((r) => r.ref_id)).toEqual(want);
    expect(want.length).toBeGreaterThan(0);
  });
});
